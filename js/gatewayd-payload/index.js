'use strict';
// Decoders for gatewayd's wire format, version 2 (docs/payload.md in the gatewayd repository).
// Every message is one msgpack map with "v": 2; anything else is refused with a FormatError.

const crypto = require('node:crypto');
const { unpack, Float, MsgpackError } = require('./msgpack');

const VERSION = 2;

class FormatError extends Error {}

const QUALITY = {
  0x00: 'good', 0x40: 'uncertain', 0x41: 'uncertain_range', 0x42: 'uncertain_stale',
  0x80: 'bad', 0x81: 'bad_comm', 0x82: 'bad_timeout', 0x83: 'bad_device_exception',
  0x84: 'bad_malformed', 0x85: 'bad_wire_break', 0x86: 'bad_sensor_fault',
  0x87: 'bad_over_range', 0x88: 'bad_under_range', 0x89: 'bad_no_device',
  0x8a: 'bad_wrong_device', 0x8b: 'bad_data_invalid', 0x8c: 'bad_overrun', 0x8d: 'bad_config',
};

/** The name of a quality code; an unknown code by its range. */
function qualityName(code) {
  if (code in QUALITY) return QUALITY[code];
  return code >= 0x80 ? 'bad' : code >= 0x40 ? 'uncertain' : 'good';
}

function checked(bytes, kind, tagFloats = false) {
  let msg;
  try {
    msg = unpack(bytes, { tagFloats });
  } catch (e) {
    if (e instanceof MsgpackError || e instanceof TypeError) {
      throw new FormatError(`${kind}: not msgpack (${e.message})`);
    }
    throw e;
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg) || msg instanceof Uint8Array) {
    throw new FormatError(`${kind}: not a msgpack map`);
  }
  if (msg.v !== VERSION) {
    throw new FormatError(`${kind}: payload version ${JSON.stringify(String(msg.v))}, this decoder reads ${VERSION}`);
  }
  return msg;
}

// -- quantisation steps: q × m × 10^e, rounded once ----------------------------------------------
function stepValue(q, m, e) {
  if (e >= 0) return Number(BigInt(q) * BigInt(m) * 10n ** BigInt(e));
  if (typeof q === 'number' && Math.abs(q * m) <= Number.MAX_SAFE_INTEGER && -e <= 22) {
    return (q * m) / 10 ** -e; // both exact doubles: one correctly rounded division
  }
  return Number(BigInt(q) * BigInt(m)) / 10 ** -e; // beyond 2^53: near, not always exact
}

function resolutionOf(step) {
  return step === null || step === undefined ? null : stepValue(1, step[0], step[1]);
}

// -- birth ------------------------------------------------------------------------------------------
/** The byte string the birth id hashes (docs/payload.md, "The birth id"). */
function canonicalPoints(points) {
  const sorted = [...points].sort((a, b) => a.alias - b.alias || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return sorted.map((p) => {
    const step = p.step ? `${p.step[0]}e${p.step[1]}` : '';
    return `${p.alias}\0${p.name}\0${p.unit}\0${p.type}\0${step}\0${p.device}\n`;
  }).join('');
}

function birthId(points) {
  const digest = crypto.createHash('sha256').update(canonicalPoints(points), 'utf8').digest();
  return digest.readUInt32BE(0);
}

/** {gw, b, sw, up, n, points: Map(alias → {alias, name, unit, type, step, resolution, device})} */
function decodeBirth(bytes) {
  const msg = checked(bytes, 'birth');
  if (!Array.isArray(msg.pts)) throw new FormatError('birth: no point table');
  const list = msg.pts.map(([alias, name, unit, type, step, device]) => ({
    alias, name, unit, type, step: step ?? null, resolution: resolutionOf(step), device,
  }));
  const id = birthId(list);
  if (id !== msg.b) {
    throw new FormatError(`birth: id ${msg.b} does not match its point table (${id})`);
  }
  const points = new Map(list.map((p) => [p.alias, p]));
  return { gw: msg.gw, b: msg.b, sw: msg.sw, up: msg.up, n: msg.n ?? null, points };
}

// -- state ------------------------------------------------------------------------------------------
function decodeState(bytes) {
  const state = checked(bytes, 'state').state;
  if (state !== 'online' && state !== 'offline') throw new FormatError(`state: ${state}`);
  return state;
}

// -- data -------------------------------------------------------------------------------------------
function expandRuns(runs) {
  if (!Array.isArray(runs) || runs.length % 2) throw new FormatError('data: alias runs must come in pairs');
  const out = [];
  let next = 0;
  for (let i = 0; i < runs.length; i += 2) {
    const start = next + runs[i];
    for (let k = 0; k < runs[i + 1]; k++) out.push(start + k);
    next = start + runs[i + 1];
  }
  return out;
}

function qualities(spec, n) {
  if (typeof spec === 'number') return new Array(n).fill(spec);
  const out = [];
  for (let i = 0; i + 1 < spec.length; i += 2) for (let k = 0; k < spec[i + 1]; k++) out.push(spec[i]);
  if (out.length !== n) throw new FormatError(`data: quality runs cover ${out.length} of ${n} values`);
  return out;
}

function typed(v) {
  if (v === null) return { value: null, type: 'nil' };
  if (v instanceof Float) return { value: v.value, type: 'float' };
  if (typeof v === 'number' || typeof v === 'bigint') return { value: v, type: 'int' };
  if (typeof v === 'string') return { value: v, type: 'string' };
  if (typeof v === 'boolean') return { value: v, type: 'bool' };
  throw new FormatError(`data: a value of type ${typeof v}`);
}

/**
 * {seq, b, t, readings: [{alias, ts, value, type, quality}]}. Values need no birth: a quantised
 * group carries its step. type is 'int' (Number, or BigInt beyond 2^53), 'float', 'string',
 * 'bool' or 'nil'.
 */
function decodeData(bytes) {
  const msg = checked(bytes, 'data', true);
  if (!Array.isArray(msg.g)) throw new FormatError('data: no groups');
  const readings = [];
  for (const group of msg.g) {
    if (!Array.isArray(group) || (group.length !== 4 && group.length !== 5)) {
      throw new FormatError('data: a group has 4 or 5 entries');
    }
    const [offset, runs, values, quality, step] = group;
    const aliases = expandRuns(runs);
    if (aliases.length !== values.length) {
      throw new FormatError(`data: ${aliases.length} aliases for ${values.length} values`);
    }
    const codes = qualities(quality, values.length);
    const ts = msg.t + offset;
    for (let i = 0; i < values.length; i++) {
      let r;
      if (group.length === 5) {
        r = values[i] === null ? { value: null, type: 'nil' }
          : { value: stepValue(values[i], step[0], step[1]), type: 'float' };
      } else {
        r = typed(values[i]);
      }
      readings.push({ alias: aliases[i], ts, value: r.value, type: r.type, quality: codes[i] });
    }
  }
  return { seq: msg.seq, b: msg.b, t: msg.t, readings };
}

// -- events -----------------------------------------------------------------------------------------
function decodeEvents(bytes) {
  const msg = checked(bytes, 'event');
  if (!Array.isArray(msg.ev)) throw new FormatError('event: no events');
  return { seq: msg.seq, ev: msg.ev };
}

/** Which decoder a topic needs: the last level of <prefix>/<site>/<gateway>/<leaf>. */
function messageKind(topic) {
  const leaf = topic.slice(topic.lastIndexOf('/') + 1);
  if (topic.includes('/cmd/')) return null;
  return ['state', 'birth', 'data', 'event'].includes(leaf) ? leaf : null;
}

module.exports = {
  VERSION, FormatError, QUALITY, qualityName, canonicalPoints, birthId, stepValue,
  decodeBirth, decodeData, decodeEvents, decodeState, messageKind,
  ...require('./consumer'),
};
