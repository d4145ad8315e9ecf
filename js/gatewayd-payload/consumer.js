'use strict';
// The consumer procedures of docs/payload.md in one object: births kept by id, each data message
// labelled with ITS birth, redeliveries dropped on the set of seen seqs, a restarted numbering
// noticed from the birth's n, unknown births and versions reported, never guessed.

class SeenSeqs {
  // The seqs seen, as sorted disjoint ranges: a gateway's seqs are mostly contiguous, so this
  // stays small. Seqs arrive in any order (backlog and live lanes interleave): a seq below
  // every seq seen so far is new, never assumed seen.
  constructor(limit = 10000) {
    this.firsts = [];
    this.lasts = [];
    this.limit = limit;
  }

  /** true when seq is new, false for a redelivery. */
  add(seq) {
    let lo = 0;
    let hi = this.firsts.length;
    while (lo < hi) { // the first range starting after seq
      const mid = (lo + hi) >> 1;
      if (this.firsts[mid] <= seq) lo = mid + 1; else hi = mid;
    }
    const i = lo - 1;
    if (i >= 0 && seq <= this.lasts[i]) return false;
    const left = i >= 0 && this.lasts[i] === seq - 1;
    const right = i + 1 < this.firsts.length && this.firsts[i + 1] === seq + 1;
    if (left && right) {
      this.lasts[i] = this.lasts[i + 1];
      this.firsts.splice(i + 1, 1);
      this.lasts.splice(i + 1, 1);
    } else if (left) {
      this.lasts[i] = seq;
    } else if (right) {
      this.firsts[i + 1] = seq;
    } else {
      this.firsts.splice(i + 1, 0, seq);
      this.lasts.splice(i + 1, 0, seq);
      if (this.firsts.length > this.limit) { // give up on the oldest gap
        this.lasts[0] = this.lasts[1];
        this.firsts.splice(1, 1);
        this.lasts.splice(1, 1);
      }
    }
    return true;
  }

  get highest() {
    return this.lasts.length ? this.lasts[this.lasts.length - 1] : null;
  }

  /** Ranges [first, last] not seen between the lowest and the highest seq seen. */
  missing() {
    return this.lasts.slice(0, -1).map((last, i) => [last + 1, this.firsts[i + 1] - 1]);
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
