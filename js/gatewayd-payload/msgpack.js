'use strict';
// A small msgpack reader: everything gatewayd sends, and nothing clever. Integers beyond
// 2^53 come back as BigInt so they stay exact; with {tagFloats: true}, floats come back as
// Float objects so a consumer can tell 1.0 from 1 (the wire keeps them apart).

class Float {
  constructor(value) { this.value = value; }
}

class MsgpackError extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function unpack(bytes, options = {}) {
  const buf = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tagFloats = Boolean(options.tagFloats);
  let pos = 0;

  function need(n) {
    if (pos + n > buf.length) throw new MsgpackError('msgpack: truncated');
  }
  function int64(signed) {
    need(8);
    const big = signed ? view.getBigInt64(pos) : view.getBigUint64(pos);
    pos += 8;
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(big) : big;
  }
  function float(value) { return tagFloats ? new Float(value) : value; }
  function str(n) {
    need(n);
    const s = utf8.decode(buf.subarray(pos, pos + n));
    pos += n;
    return s;
  }
  function array(n) {
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = value();
    return out;
  }
  function map(n) {
    const out = {};
    for (let i = 0; i < n; i++) {
      const k = value();
      out[String(k)] = value();
    }
    return out;
  }
  function u(n) {
    need(n);
    let v;
    if (n === 1) v = view.getUint8(pos);
    else if (n === 2) v = view.getUint16(pos);
    else v = view.getUint32(pos);
    pos += n;
    return v;
  }
  function value() {
    need(1);
    const b = buf[pos++];
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if ((b & 0xf0) === 0x80) return map(b & 0x0f);
    if ((b & 0xf0) === 0x90) return array(b & 0x0f);
    if ((b & 0xe0) === 0xa0) return str(b & 0x1f);
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: case 0xc5: case 0xc6: {
        const n = u(b === 0xc4 ? 1 : b === 0xc5 ? 2 : 4);
        need(n);
        const out = buf.slice(pos, pos + n);
        pos += n;
        return out;
      }
      case 0xca: { need(4); const v = view.getFloat32(pos); pos += 4; return float(v); }
      case 0xcb: { need(8); const v = view.getFloat64(pos); pos += 8; return float(v); }
      case 0xcc: return u(1);
      case 0xcd: return u(2);
      case 0xce: return u(4);
      case 0xcf: return int64(false);
      case 0xd0: { need(1); const v = view.getInt8(pos); pos += 1; return v; }
      case 0xd1: { need(2); const v = view.getInt16(pos); pos += 2; return v; }
      case 0xd2: { need(4); const v = view.getInt32(pos); pos += 4; return v; }
      case 0xd3: return int64(true);
      case 0xd9: return str(u(1));
      case 0xda: return str(u(2));
      case 0xdb: return str(u(4));
      case 0xdc: return array(u(2));
      case 0xdd: return array(u(4));
      case 0xde: return map(u(2));
      case 0xdf: return map(u(4));
      default: throw new MsgpackError(`msgpack: type 0x${b.toString(16)} is not used by gatewayd`);
    }
  }

  const out = value();
  if (pos !== buf.length) throw new MsgpackError('msgpack: bytes after the value');
  return out;
}

module.exports = { unpack, Float, MsgpackError };
