'use strict';
// The consumer procedures of docs/payload.md in one object: births kept by id, each data message
// labelled with ITS birth, redeliveries dropped on the set of seen seqs, a restarted numbering
// noticed from the birth's n, unknown births and versions reported, never guessed.

class SeenSeqs {
  constructor(limit = 100000) {
    this.floor = null; // every seq <= floor is settled
    this.above = new Set();
    this.gaps = []; // settled without being seen: a re-sent batch may still fill them
    this.limit = limit;
  }

  /** true when seq is new, false for a redelivery. */
  add(seq) {
    if (this.floor === null) this.floor = seq - 1;
    if (seq <= this.floor) return this.fill(seq);
    if (this.above.has(seq)) return false;
    this.above.add(seq);
    while (this.above.has(this.floor + 1)) this.above.delete(++this.floor);
    if (this.above.size > this.limit) this.settle([...this.above].sort((a, b) => a - b)[this.limit >> 1]);
    return true;
  }

  fill(seq) {
    const i = this.gaps.findIndex(([a, b]) => a <= seq && seq <= b);
    if (i < 0) return false;
    const [a, b] = this.gaps[i];
    this.gaps.splice(i, 1, ...[[a, seq - 1], [seq + 1, b]].filter(([x, y]) => x <= y));
    return true;
  }

  get highest() {
    return this.above.size ? Math.max(...this.above) : this.floor;
  }

  /** Give up waiting below `oldest`: the unseen seqs below it become gaps, returned as ranges. */
  settle(oldest) {
    const gaps = [];
    let start = this.floor + 1;
    for (const s of [...this.above].filter((x) => x < oldest).sort((a, b) => a - b)) {
      if (s > start) gaps.push([start, s - 1]);
      start = s + 1;
    }
    if (start < oldest) gaps.push([start, oldest - 1]);
    this.gaps = [...this.gaps, ...gaps].slice(-1000);
    for (const s of [...this.above]) if (s < oldest) this.above.delete(s);
    this.floor = oldest - 1;
    while (this.above.has(this.floor + 1)) this.above.delete(++this.floor);
    return gaps;
  }
}

class Consumer {
  constructor() {
    this.births = new Map();
    this.seen = new SeenSeqs();
    this.duplicates = 0;
  }

  /** Records for one MQTT message: readings, events, births, state, or a notice. */
  handle(topic, payload) {
    const codec = require('./index');
    const kind = codec.messageKind(topic);
    try {
      if (kind === 'birth') return this.birth(codec.decodeBirth(payload));
      if (kind === 'state') return [{ type: 'state', state: codec.decodeState(payload) }];
      if (kind === 'event') {
        const { seq, ev } = codec.decodeEvents(payload);
        return this.isNew(seq) ? ev.map((e) => ({ type: 'event', seq, ...e })) : [];
      }
      if (kind === 'data') return this.data(codec.decodeData(payload));
    } catch (e) {
      if (e instanceof codec.FormatError) return [{ type: 'refused', topic, reason: e.message }];
      throw e;
    }
    return [];
  }

  isNew(seq) {
    if (this.seen.add(seq)) return true;
    this.duplicates += 1;
    return false;
  }

  birth(b) {
    const out = [];
    const highest = this.seen.highest;
    if (highest !== null && b.n !== null && b.n <= highest) {
      this.seen = new SeenSeqs();
      out.push({ type: 'store_reset', next_seq: b.n, highest_seen: highest });
    }
    this.births.set(b.b, b.points);
    out.push({ type: 'birth', gateway: b.gw, birth: b.b, points: b.points.size, version: b.sw });
    return out;
  }

  data(msg) {
    if (!this.isNew(msg.seq)) return [];
    const { qualityName } = require('./index');
    const points = this.births.get(msg.b);
    const out = points ? [] : [{ type: 'unknown_birth', birth: msg.b, seq: msg.seq }];
    for (const r of msg.readings) {
      const p = points ? points.get(r.alias) : undefined;
      out.push({
        type: 'reading', seq: msg.seq, alias: r.alias, name: p ? p.name : null,
        unit: p ? p.unit : null, device: p ? p.device : null, time: r.ts, value: r.value,
        quality: r.quality, quality_name: qualityName(r.quality),
      });
    }
    return out;
  }
}

module.exports = { SeenSeqs, Consumer };
