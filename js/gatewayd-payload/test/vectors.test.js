'use strict';
// The golden vectors of docs/payload.md, decoded by this package: every row reproduced, every
// refused case refused. The same file holds gatewayd's Python encoder and decoder.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const codec = require('..');

const VECTORS = JSON.parse(fs.readFileSync(
  path.join(__dirname, '..', '..', '..', 'tests', 'vectors', 'payload_v2.json'), 'utf8'));
const cases = VECTORS.cases;
const bytes = (c) => Buffer.from(c.hex, 'hex');

function expectValue(got, spec, where) {
  if (spec === null) {
    assert.equal(got.value, null, where);
    assert.equal(got.type, 'nil', where);
    return;
  }
  const [[kind, value]] = Object.entries(spec);
  if (kind === 'int') {
    assert.equal(got.type, 'int', where);
    assert.equal(BigInt(got.value), BigInt(value), where);
  } else if (kind === 'float') {
    assert.equal(got.type, 'float', where);
    assert.ok(Object.is(got.value, value), `${where}: ${got.value} is not ${value}`);
  } else if (kind === 'str') {
    assert.equal(got.type, 'string', where);
    assert.equal(got.value, value, where);
  } else {
    assert.equal(got.type, 'bool', where);
    assert.equal(got.value, value, where);
  }
}

test('every message type has vectors, and a refused one', () => {
  const kinds = new Set(cases.map((c) => c.message));
  assert.deepEqual([...kinds].sort(), ['birth', 'data', 'event', 'state']);
  const refused = new Set(cases.filter((c) => c.refused).map((c) => c.message));
  assert.deepEqual([...refused].sort(), ['birth', 'data', 'event', 'state']);
});

for (const c of cases.filter((x) => x.message === 'data' && !x.refused)) {
  test(`data vector ${c.name}: ${c.why}`, () => {
    const msg = codec.decodeData(bytes(c));
    assert.equal(msg.seq, c.expect.seq);
    assert.equal(msg.b, c.expect.b);
    assert.equal(msg.t, c.expect.t);
    assert.equal(msg.readings.length, c.expect.readings.length);
    c.expect.readings.forEach(([alias, ts, value, quality], i) => {
      const r = msg.readings[i];
      const where = `${c.name} row ${i}`;
      assert.equal(r.alias, alias, where);
      assert.equal(r.ts, ts, where);
      assert.equal(r.quality, quality, where);
      expectValue(r, value, where);
    });
  });
}

test('birth vector: table, steps, and the id recomputed from the canonical text', () => {
  const c = cases.find((x) => x.name === 'birth');
  const b = codec.decodeBirth(bytes(c));
  for (const k of ['gw', 'b', 'sw', 'up', 'n']) assert.equal(b[k], c.expect[k], k);
  const rows = [...b.points.values()].sort((x, y) => x.alias - y.alias)
    .map((p) => [p.alias, p.name, p.unit, p.type, p.step, p.device]);
  assert.deepEqual(rows, c.expect.points);
  assert.equal(codec.canonicalPoints([...b.points.values()]), c.expect.canonical);
  assert.equal(b.points.get(1).resolution, 0.25);
});

test('event and state vectors', () => {
  const ev = cases.find((x) => x.name === 'events');
  assert.deepEqual(codec.decodeEvents(bytes(ev)), ev.expect);
  for (const name of ['state_online', 'state_offline']) {
    const c = cases.find((x) => x.name === name);
    assert.equal(codec.decodeState(bytes(c)), c.expect.state);
  }
});

const DECODERS = {
  data: codec.decodeData, birth: codec.decodeBirth, event: codec.decodeEvents, state: codec.decodeState,
};
for (const c of cases.filter((x) => x.refused)) {
  test(`refused: ${c.name}`, () => {
    assert.throws(() => DECODERS[c.message](bytes(c)), codec.FormatError);
  });
}

test('quantised values are the nearest step: 7.25 at 0.25, 2.5 at 2.5, 7.2 at 0.1', () => {
  assert.equal(codec.stepValue(29, 25, -2), 7.25);
  assert.equal(codec.stepValue(1, 25, -1), 2.5);
  assert.equal(codec.stepValue(72, 1, -1), 7.2);
  assert.equal(codec.stepValue(123, 1, 2), 12300);
});
