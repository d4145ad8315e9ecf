'use strict';
// The consumer procedures: dedupe on seen seqs (out of order is normal), data labelled with its
// own birth, unknown birth reported with correct values, restarted numbering, unknown version.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { Consumer, SeenSeqs } = require('..');

const VECTORS = JSON.parse(fs.readFileSync(
  path.join(__dirname, '..', '..', '..', 'tests', 'vectors', 'payload_v2.json'), 'utf8'));
const hex = (name) => Buffer.from(VECTORS.cases.find((c) => c.name === name).hex, 'hex');
const T = 'gatewayd/site/press-7/';

test('seqs in any order are each new once; a backlog seq below all seen is new', () => {
  const seen = new SeenSeqs();
  const fresh = [10, 12, 10, 9, 5, 11, 12, 6].map((s) => seen.add(s));
  assert.deepEqual(fresh, [true, true, false, true, true, true, false, true]);
  assert.deepEqual(seen.missing(), [[7, 8]]);
  for (let s = 13; s < 50000; s++) seen.add(s);
  assert.equal(seen.firsts.length, 2);
  assert.ok(seen.add(7) && seen.add(8));
  assert.deepEqual(seen.missing(), []);
  assert.equal(seen.highest, 49999);
});

test('data of an unknown birth keeps its values and says the names are unknown', () => {
  const c = new Consumer();
  const out = c.handle(`${T}data`, hex('quantised'));
  assert.equal(out[0].type, 'unknown_birth');
  assert.equal(out[1].name, null);
  assert.equal(out[1].value, 7.25);
  assert.deepEqual(c.handle(`${T}data`, hex('quantised')), []); // same seq again
});

test('data is labelled with the birth its b names, never with the latest one', () => {
  const c = new Consumer();
  assert.equal(c.handle(`${T}birth`, hex('birth'))[0].type, 'birth');
  // The vector data names birth 0, which this consumer has not seen: the latest birth's table
  // (alias 1 = press.temperature) must not be used for it.
  const out = c.handle(`${T}data`, hex('bad_and_quality_runs'));
  assert.equal(out[0].type, 'unknown_birth');
  assert.ok(out.slice(1).every((r) => r.name === null));
  const d = new Consumer();
  d.handle(`${T}birth`, hex('birth'));
  d.births.set(0, new Map([[1, { name: 'old.name', unit: 'V', device: 'd' }]]));
  const old = d.handle(`${T}data`, hex('bad_and_quality_runs'));
  assert.equal(old[0].name, 'old.name'); // its own (older) table
});

test('unknown versions are refused and reported for every message type', () => {
  const c = new Consumer();
  for (const [name, leaf] of [['refuse_data_v3', 'data'], ['refuse_birth_v1', 'birth'],
    ['refuse_event_v99', 'event'], ['refuse_state_v1_bare_bytes', 'state']]) {
    const [rec] = c.handle(`${T}${leaf}`, hex(name));
    assert.equal(rec.type, 'refused', name);
  }
});
