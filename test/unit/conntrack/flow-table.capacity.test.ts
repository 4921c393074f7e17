import { describe, expect, it } from 'vitest';
import {
  CT_ASSURED,
  CT_DYING,
  CT_NAT_SRC,
  CT_SEEN_REPLY,
} from '../../../src/dataplane/conntrack/flow-layout.js';
import { FlowTable, INSERT_CLASH, INSERT_FULL } from '../../../src/dataplane/conntrack/flow-table.js';

const T0 = 1_700_000_000_000;
const CLIENT = 0x0a000000; // 10.0.0.0 + i
const SERVER = 0x5db8d822; // 93.184.216.34

/** Flow i: 10.0.0.i:(1000+i) → server:443/tcp, no NAT (reply is the plain inverse). */
function insertFlow(t: FlowTable, i: number, now = T0, secs = 120): number {
  return t.insert(CLIENT + i, SERVER, 1000 + i, 443, 6, SERVER, CLIENT + i, 443, 1000 + i, now, secs);
}

function findFlow(t: FlowTable, i: number): number {
  return t.lookup(CLIENT + i, SERVER, 1000 + i, 443, 6);
}

function fill(t: FlowTable, n: number): number[] {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const f = insertFlow(t, i);
    expect(f).toBeGreaterThanOrEqual(0);
    ids.push(f);
  }
  return ids;
}

describe('FlowTable capacity and early drop', () => {
  it('fills exactly to capacity (not a power of two) with both directions findable', () => {
    const t = new FlowTable({ capacity: 1000, hashKey: [7, 9] });
    const ids = fill(t, 1000);
    expect(t.count).toBe(1000);
    expect(new Set(ids).size).toBe(1000);
    for (let i = 0; i < 1000; i++) {
      expect(findFlow(t, i)).toBe(ids[i]! * 2);
      expect(t.lookup(SERVER, CLIENT + i, 443, 1000 + i, 6)).toBe(ids[i]! * 2 + 1);
    }
    expect(t.audit()).toBe('');
  });

  it('on a full table evicts the least recently seen of the oldest unassured flows', () => {
    const t = new FlowTable({ capacity: 16, hashKey: [1, 2] });
    const ids = fill(t, 16);
    // All created at T0; flows 0..7 are the 8 oldest candidates. Make flow 5 the stalest of them
    // by touching the others later.
    for (let i = 0; i < 16; i++) if (i !== 5) t.account(ids[i]! * 2, 60, T0 + 1000);
    const f = insertFlow(t, 100, T0 + 2000);
    expect(f).toBe(ids[5]); // the freed slot is reused
    expect(findFlow(t, 5)).toBe(-1);
    expect(findFlow(t, 100)).toBe(f * 2);
    expect(t.stats.earlyDrops).toBe(1);
    expect(t.count).toBe(16);
    expect(t.audit()).toBe('');
  });

  it('looks only at the 8 oldest unassured flows (NF_CT_EVICTION_RANGE), oldest first on ties', () => {
    const t = new FlowTable({ capacity: 16, hashKey: [1, 2] });
    const ids = fill(t, 16);
    for (let i = 0; i < 8; i++) t.account(ids[i]! * 2, 60, T0 + 5000); // first 8 recently active
    // Flows 8..15 are staler but outside the window: the victim is the oldest of 0..7 (tie → flow 0).
    expect(insertFlow(t, 100, T0 + 6000)).toBe(ids[0]);
    expect(findFlow(t, 0)).toBe(-1);
    expect(findFlow(t, 8)).toBeGreaterThanOrEqual(0);
  });

  it('evicts an unassured flow rather than any assured one, however new it is', () => {
    const t = new FlowTable({ capacity: 16, hashKey: [3, 4] });
    const ids = fill(t, 16);
    for (let i = 0; i < 16; i++) if (i !== 15) t.setStatusBits(ids[i]!, CT_ASSURED | CT_SEEN_REPLY);
    expect(t.unassuredCount).toBe(1);
    const f = insertFlow(t, 100, T0 + 1);
    expect(f).toBe(ids[15]);
    expect(findFlow(t, 15)).toBe(-1);
    for (let i = 0; i < 15; i++) expect(findFlow(t, i)).toBe(ids[i]! * 2);
    expect(t.stats.earlyDrops).toBe(1);
  });

  it('refuses an insert (and counts it) when every flow is assured and none is due', () => {
    const t = new FlowTable({ capacity: 16, hashKey: [5, 6] });
    const ids = fill(t, 16);
    for (const f of ids) t.setStatusBits(f, CT_ASSURED);
    expect(insertFlow(t, 100, T0 + 1000)).toBe(INSERT_FULL);
    expect(t.stats.insertFailed).toBe(1);
    expect(t.stats.earlyDrops).toBe(0);
    expect(t.count).toBe(16);
    for (let i = 0; i < 16; i++) expect(findFlow(t, i)).toBe(ids[i]! * 2);
    expect(findFlow(t, 100)).toBe(-1);
    // Clearing ASSURED makes a flow evictable again.
    t.clearStatusBits(ids[9]!, CT_ASSURED);
    expect(insertFlow(t, 100, T0 + 2000)).toBe(ids[9]);
    expect(t.audit()).toBe('');
  });

  it('reuses a flow whose deadline has passed before early-dropping a live one', () => {
    const t = new FlowTable({ capacity: 16, hashKey: [5, 6] });
    const ids = fill(t, 16);
    for (const f of ids) t.setStatusBits(f, CT_ASSURED);
    t.setTimeout(ids[3]!, T0, 10); // due at T0 + 10 s, not yet reaped
    t.clearStatusBits(ids[12]!, CT_ASSURED); // an unassured flow exists too
    expect(insertFlow(t, 100, T0 + 10_000)).toBe(ids[3]);
    expect(t.stats.expired).toBe(1);
    expect(t.stats.earlyDrops).toBe(0);
    expect(findFlow(t, 12)).toBe(ids[12]! * 2);
  });

  it('never grows: repeated inserts into a full table keep count at capacity', () => {
    const t = new FlowTable({ capacity: 64, hashKey: [8, 8] });
    fill(t, 64);
    for (let i = 64; i < 1064; i++) expect(insertFlow(t, i, T0 + i)).toBeGreaterThanOrEqual(0);
    expect(t.count).toBe(64);
    expect(t.stats.earlyDrops).toBe(1000);
    expect(t.storageBytes).toBe(new FlowTable({ capacity: 64 }).storageBytes);
    expect(t.audit()).toBe('');
  });

  it('works with capacity 1', () => {
    const t = new FlowTable({ capacity: 1, hashKey: [1, 1] });
    const a = insertFlow(t, 1);
    expect(a).toBe(0);
    t.setStatusBits(a, CT_ASSURED);
    expect(insertFlow(t, 2)).toBe(INSERT_FULL);
    t.remove(a);
    expect(insertFlow(t, 2)).toBe(0);
    expect(findFlow(t, 2)).toBe(0);
  });
});

describe('FlowTable keys and fields', () => {
  it('refuses a flow whose original or reply key is taken, or whose keys are equal', () => {
    const t = new FlowTable({ capacity: 16, hashKey: [1, 2] });
    // SNAT: 10.0.0.1:1000 → server:443 leaves as 198.51.100.1:61000; the reply comes back to it.
    const nat = 0xc6336401;
    const f = t.insert(CLIENT + 1, SERVER, 1000, 443, 6, SERVER, nat, 443, 61000, T0, 120);
    expect(f).toBeGreaterThanOrEqual(0);
    // Same original tuple.
    expect(t.insert(CLIENT + 1, SERVER, 1000, 443, 6, SERVER, nat, 443, 61001, T0, 120)).toBe(INSERT_CLASH);
    // Different original, but the reply key (the external port) is already bound.
    expect(t.insert(CLIENT + 2, SERVER, 1000, 443, 6, SERVER, nat, 443, 61000, T0, 120)).toBe(INSERT_CLASH);
    // A new flow whose original key equals the existing flow's reply key.
    expect(t.insert(SERVER, nat, 443, 61000, 6, nat, SERVER, 61000, 443, T0, 120)).toBe(INSERT_CLASH);
    // LAND: src = dst and sport = dport makes both keys equal.
    expect(t.insert(SERVER, SERVER, 80, 80, 6, SERVER, SERVER, 80, 80, T0, 120)).toBe(INSERT_CLASH);
    expect(t.stats.clashes).toBe(4);
    expect(t.count).toBe(1);
    // The same tuples in another protocol or zone are different keys.
    expect(
      t.insert(CLIENT + 1, SERVER, 1000, 443, 17, SERVER, nat, 443, 61000, T0, 30),
    ).toBeGreaterThanOrEqual(0);
    const z = t.insert(CLIENT + 1, SERVER, 1000, 443, 6, SERVER, nat, 443, 61000, T0, 120, 7);
    expect(z).toBeGreaterThanOrEqual(0);
    expect(t.zone(z)).toBe(7);
    expect(t.lookup(SERVER, nat, 443, 61000, 6, 7)).toBe(z * 2 + 1);
    expect(t.lookup(SERVER, nat, 443, 61000, 6)).toBe(f * 2 + 1);
  });

  it('stores and returns every per-flow field; a reused slot starts clean', () => {
    const t = new FlowTable({ capacity: 4, hashKey: [1, 2] });
    const f = insertFlow(t, 1);
    t.setState(f, 3);
    t.setStatusBits(f, CT_SEEN_REPLY | CT_NAT_SRC | CT_DYING);
    t.setMark(f, 0xdeadbeef);
    t.setCtMark(f, 0xffffffff);
    t.setProtoWord(f, 14, 0x80000001);
    t.setNat(f * 2, 0xc6336401, SERVER, 61000, 443, 0x1234abcd);
    t.setNat(f * 2 + 1, SERVER, CLIENT + 1, 443, 1001, 0x0000ffff);
    t.account(f * 2, 1500, T0 + 7);
    t.account(f * 2 + 1, 40, T0 + 9);
    expect(t.getState(f)).toBe(3);
    expect(t.getStatus(f)).toBe(CT_SEEN_REPLY | CT_NAT_SRC | CT_DYING);
    t.clearStatusBits(f, CT_DYING | 0x80); // the in-use bit is not the caller's to clear
    expect(t.getStatus(f)).toBe(CT_SEEN_REPLY | CT_NAT_SRC);
    expect(t.isLive(f)).toBe(true);
    expect(t.getMark(f)).toBe(0xdeadbeef);
    expect(t.getCtMark(f)).toBe(0xffffffff);
    expect(t.protoWord(f, 14)).toBe(0x80000001);
    expect([
      t.natSrc(f * 2),
      t.natDst(f * 2),
      t.natSport(f * 2),
      t.natDport(f * 2),
      t.natCsum(f * 2),
    ]).toEqual([0xc6336401, SERVER, 61000, 443, 0x1234abcd]);
    expect([t.natSrc(f * 2 + 1), t.natSport(f * 2 + 1), t.natDport(f * 2 + 1)]).toEqual([SERVER, 443, 1001]);
    expect([t.packets(f * 2), t.bytes(f * 2), t.packets(f * 2 + 1), t.bytes(f * 2 + 1)]).toEqual([
      1, 1500, 1, 40,
    ]);
    expect(t.lastSeen(f)).toBe(T0 + 9);
    expect(t.proto(f)).toBe(6);
    expect([t.src(f * 2), t.dst(f * 2), t.sport(f * 2), t.dport(f * 2)]).toEqual([
      CLIENT + 1,
      SERVER,
      1001,
      443,
    ]);

    t.remove(f);
    expect(t.isLive(f)).toBe(false);
    expect(() => t.remove(f)).toThrow(RangeError);
    t.setStatusBits(f, CT_ASSURED);
    t.clearStatusBits(f, CT_ASSURED); // on a free slot: must not make it an eviction candidate
    expect(t.unassuredCount).toBe(0);
    expect(t.audit()).toBe('');
    const g = insertFlow(t, 2, T0 + 100);
    expect(g).toBe(f);
    expect([t.getState(g), t.getStatus(g), t.getMark(g), t.getCtMark(g), t.protoWord(g, 14)]).toEqual([
      0, 0, 0, 0, 0,
    ]);
    expect([t.natSrc(g * 2), t.natCsum(g * 2 + 1), t.packets(g * 2), t.bytes(g * 2 + 1)]).toEqual([
      0, 0, 0, 0,
    ]);
    expect(t.lastSeen(g)).toBe(T0 + 100);
    expect(t.stats.deletes).toBe(1);
  });

  it('iterates live flows with a cursor while flows come and go', () => {
    const t = new FlowTable({ capacity: 32, hashKey: [1, 2] });
    const ids = fill(t, 20);
    for (const i of [0, 7, 19]) t.remove(ids[i]!);
    const seen: number[] = [];
    for (let f = t.nextFlow(-1); f !== -1; f = t.nextFlow(f)) seen.push(f);
    expect(seen).toEqual(ids.filter((_, i) => ![0, 7, 19].includes(i)).sort((a, b) => a - b));
    expect(new FlowTable({ capacity: 4 }).nextFlow(-1)).toBe(-1);
  });

  it('counts searches, hits and probe lengths', () => {
    const t = new FlowTable({ capacity: 64, hashKey: [1, 2] });
    fill(t, 50);
    for (let i = 0; i < 100; i++) findFlow(t, i);
    expect(t.stats.searches).toBe(100);
    expect(t.stats.found).toBe(50);
    expect(t.stats.maxProbe).toBeGreaterThanOrEqual(1);
    expect(t.stats.avgProbe).toBeGreaterThanOrEqual(1);
    expect(t.stats.avgProbe).toBeLessThanOrEqual(t.stats.maxProbe);
    expect(t.stats.inserts).toBe(50);
  });

  it('rejects bad options', () => {
    expect(() => new FlowTable({ capacity: 0 })).toThrow(RangeError);
    expect(() => new FlowTable({ capacity: 1.5 })).toThrow(RangeError);
    expect(() => new FlowTable({ capacity: 2 ** 26 + 1 })).toThrow(RangeError);
    expect(() => new FlowTable({ capacity: 16, indexSlots: 32 })).toThrow(RangeError);
    expect(() => new FlowTable({ capacity: 16, indexSlots: 48 })).toThrow(RangeError);
    expect(() => new FlowTable({ capacity: 16, wheelSlots: 100 })).toThrow(RangeError);
    expect(() => new FlowTable({ capacity: 16, evictionScan: 0 })).toThrow(RangeError);
  });

  it('sizes the index for at most 0.75 load by default', () => {
    // 262,144 flows × 2 entries / 0.75 → 2^20 cells of 8 bytes; the rest is per-flow and fixed.
    const t = new FlowTable();
    expect(t.capacity).toBe(262_144);
    const perFlow = 210;
    const wheel = 65_536 * 4 + 65_536 / 8;
    expect(t.storageBytes).toBe(262_144 * perFlow + 2 ** 20 * 8 + wheel);
  });
});
