import { describe, expect, it } from 'vitest';
import { FlowTable } from '../../../src/dataplane/conntrack/flow-table.js';
import { TimerWheel } from '../../../src/dataplane/conntrack/timer-wheel.js';

const T0 = 1_700_000_000_000; // engine clock in ms
const ALL = Number.POSITIVE_INFINITY;

function udpFlow(t: FlowTable, i: number, now: number, secs: number): number {
  return t.insert(
    0x0a000000 + i,
    0x08080808,
    5000 + i,
    53,
    17,
    0x08080808,
    0x0a000000 + i,
    53,
    5000 + i,
    now,
    secs,
  );
}

const alive = (t: FlowTable, i: number): boolean =>
  t.lookup(0x0a000000 + i, 0x08080808, 5000 + i, 53, 17) >= 0;

describe('FlowTable expiry (timer wheel, ms clock)', () => {
  it('a 30 s flow is alive at +29.999 s and gone after expire at +30 s', () => {
    const t = new FlowTable({ capacity: 8, hashKey: [1, 2] });
    const f = udpFlow(t, 1, T0, 30);
    expect(t.deadline(f)).toBe(T0 + 30_000);
    expect(t.expire(T0 + 29_999, ALL)).toBe(0);
    expect(alive(t, 1)).toBe(true);
    expect(t.isExpired(f, T0 + 29_999)).toBe(false);
    expect(t.isExpired(f, T0 + 30_000)).toBe(true);
    expect(t.expire(T0 + 30_000, ALL)).toBe(1);
    expect(alive(t, 1)).toBe(false);
    expect(t.count).toBe(0);
    expect(t.stats.expired).toBe(1);
  });

  it('a refreshed timeout is honoured exactly, however often it is refreshed', () => {
    const t = new FlowTable({ capacity: 8, hashKey: [1, 2] });
    const f = udpFlow(t, 1, T0, 30);
    // A packet every second for a minute, each refreshing to now + 30 s (one store each).
    for (let s = 1; s <= 60; s++) {
      t.setTimeout(f, T0 + s * 1000, 30);
      expect(t.expire(T0 + s * 1000, ALL)).toBe(0);
    }
    expect(t.deadline(f)).toBe(T0 + 90_000);
    expect(t.expire(T0 + 89_999, ALL)).toBe(0);
    expect(alive(t, 1)).toBe(true);
    expect(t.expire(T0 + 90_000, ALL)).toBe(1);
    expect(alive(t, 1)).toBe(false);
  });

  it('a shortened timeout takes effect at the new deadline, not the old one', () => {
    const t = new FlowTable({ capacity: 8, hashKey: [1, 2] });
    const f = udpFlow(t, 1, T0, 7440); // TCP established per RFC 5382 REQ-5
    t.setTimeout(f, T0 + 1000, 10); // e.g. RST seen → CLOSE (10 s)
    expect(t.expire(T0 + 10_999, ALL)).toBe(0);
    expect(t.expire(T0 + 11_000, ALL)).toBe(1);
  });

  it('keeps a 5-day flow (beyond one wheel revolution) until exactly its deadline', () => {
    const t = new FlowTable({ capacity: 8, hashKey: [1, 2], wheelSlots: 1024 });
    const f = udpFlow(t, 1, T0, 432_000);
    let now = T0;
    let reaped = 0;
    // The engine calls expire every ~0.7 s for the whole 5 days.
    while (now < T0 + 432_000_000 - 1) {
      now = Math.min(now + 733, T0 + 432_000_000 - 1);
      reaped += t.expire(now, ALL);
    }
    expect(reaped).toBe(0);
    expect(t.isExpired(f, now)).toBe(false);
    expect(t.expire(T0 + 432_000_000, ALL)).toBe(1);
  });

  it('reaps everything after a clock jump of days in one call, each flow visited at most twice', () => {
    const t = new FlowTable({ capacity: 2048, hashKey: [1, 2], wheelSlots: 256 });
    for (let i = 0; i < 1000; i++) udpFlow(t, i, T0, 30 + (i % 7) * 1000);
    for (let i = 1000; i < 2000; i++) udpFlow(t, i, T0, 432_000 * 3);
    // Jump 10 days; the first 1000 are due, the long ones not. Budget 3000 (1.5 per flow) is
    // enough only because a long flow is re-filed at most twice per call, not once per 256 ms.
    expect(t.expire(T0 + 864_000_000, 3000)).toBe(1000);
    expect(t.count).toBe(1000);
    expect(t.expire(T0 + 432_000 * 3 * 1000, ALL)).toBe(1000);
    expect(t.audit()).toBe('');
  });

  it('bounds each call by its budget and finishes over several calls', () => {
    const t = new FlowTable({ capacity: 1024, hashKey: [1, 2] });
    for (let i = 0; i < 1000; i++) udpFlow(t, i, T0, 30); // all due on the same tick
    const now = T0 + 30_000;
    const got: number[] = [];
    for (let n = t.expire(now, 64); n > 0; n = t.expire(now, 64)) got.push(n);
    expect(got).toEqual([...Array(15).fill(64), 40]);
    expect(t.count).toBe(0);
    expect(t.audit()).toBe('');
  });

  it('reaps a flow inserted after the cursor passed its deadline (timeout 0, clock not advanced)', () => {
    const t = new FlowTable({ capacity: 8, hashKey: [1, 2] });
    udpFlow(t, 1, T0, 60);
    expect(t.expire(T0 + 5000, ALL)).toBe(0);
    udpFlow(t, 2, T0 + 5000, 0);
    expect(t.expire(T0 + 5000, ALL)).toBe(1);
    expect(alive(t, 2)).toBe(false);
    expect(alive(t, 1)).toBe(true);
  });

  it('tolerates a replay clock stepping back: nothing is lost, expiry waits for the clock', () => {
    const t = new FlowTable({ capacity: 8, hashKey: [1, 2] });
    udpFlow(t, 1, T0, 30);
    expect(t.expire(T0 + 20_000, ALL)).toBe(0);
    expect(t.expire(T0 + 10_000, ALL)).toBe(0); // earlier than the cursor
    udpFlow(t, 2, T0 + 10_000, 5); // deadline T0 + 15 s, before the cursor
    expect(t.expire(T0 + 20_000, ALL)).toBe(1); // reaped once the clock is back
    expect(t.expire(T0 + 30_000, ALL)).toBe(1);
    expect(t.count).toBe(0);
  });

  it('reaps within 1 ms when the clock has fractions (isExpired stays exact)', () => {
    const t = new FlowTable({ capacity: 8, hashKey: [1, 2] });
    const f = udpFlow(t, 1, T0 + 0.5, 30);
    expect(t.isExpired(f, T0 + 30_000.4)).toBe(false);
    expect(t.isExpired(f, T0 + 30_000.5)).toBe(true);
    expect(t.expire(T0 + 30_000.5, ALL)).toBe(0); // filed on tick T0 + 30 001
    expect(t.expire(T0 + 30_001, ALL)).toBe(1);
  });

  it('a call with nothing due costs the same over 100k flows as over 100 (O(1), not a scan)', () => {
    // 59k calls 1 ms apart; every flow is due at +60 s, so no call has anything to do.
    const idleMs = (flows: number): number => {
      const t = new FlowTable({ capacity: flows, hashKey: [1, 2] });
      for (let i = 0; i < flows; i++) udpFlow(t, i, T0, 60);
      let n = 0;
      const start = performance.now();
      for (let ms = 1; ms < 60_000; ms++) n += t.expire(T0 + ms, 256);
      expect(n).toBe(0);
      return performance.now() - start;
    };
    idleMs(100); // JIT warm-up
    const small = idleMs(100);
    const large = idleMs(100_000);
    // A scan of the flows per call would make the large table ~1000× slower (6·10^9 steps).
    expect(large).toBeLessThan(small * 5 + 50);
  });
});

describe('TimerWheel', () => {
  it('finds occupied ticks across bitmap words and wraps around the wheel', () => {
    const w = new TimerWheel(8, 64);
    w.catchUp(1000); // cursor tick 1000 = slot 40; ticks 1024.. wrap to slots 0..
    w.add(0, 1031); // slot 7
    w.add(1, 1033); // slot 9
    w.add(2, 1060); // slot 36
    w.add(3, 1062.2); // fractions round up: tick 1063, slot 39
    w.add(4, 1090); // beyond one revolution: filed at the last tick, 1000 + 63
    w.add(5, 900); // before the cursor: filed at the cursor
    expect(w.nextDue(999)).toBe(-1);
    expect(w.nextDue(1063)).toBe(1000);
    w.remove(5);
    expect(w.nextDue(1030)).toBe(-1);
    expect(w.tick).toBe(1030);
    expect(w.nextDue(1063)).toBe(1031);
    w.remove(0);
    expect(w.nextDue(1063)).toBe(1033);
    w.remove(1);
    expect(w.nextDue(1063)).toBe(1060);
    w.remove(2);
    expect(w.nextDue(1062)).toBe(-1);
    expect(w.nextDue(1063)).toBe(1063);
    w.remove(3);
    expect(w.nextDue(1063)).toBe(1063);
    // More than a revolution behind: the cursor skips to now - 63, where every slot is due.
    expect(w.nextDue(5000)).toBeGreaterThanOrEqual(5000 - 63);
    expect(w.nextDue(5000)).toBeLessThanOrEqual(5000);
    w.remove(4);
    expect(w.count).toBe(0);
    expect(w.nextDue(5000)).toBe(-1);
    expect(w.tick).toBe(5000);
  });

  it('unfiles heads, middles and tails of a slot list', () => {
    const w = new TimerWheel(8, 64);
    for (let i = 0; i < 5; i++) w.add(i, 10);
    w.remove(2);
    w.remove(4); // head (last added)
    w.remove(0); // tail
    w.remove(0); // not filed: no-op
    expect(w.count).toBe(2);
    const order: number[] = [];
    for (let i = w.head[10]!; i !== -1; i = w.next[i]!) order.push(i);
    expect(order).toEqual([3, 1]);
    w.remove(3);
    w.remove(1);
    expect(w.head[10]).toBe(-1);
    expect(w.occupied[0]! & (1 << 10)).toBe(0);
  });
});
