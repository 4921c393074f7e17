import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlowTable } from '../../../src/dataplane/conntrack/flow-table.js';

const UDP = 17;
const T0 = 1_000_000;

/** Inserts the flow a:sp → b:dp (reply b:dp → a:sp); returns its index. */
function insert(t: FlowTable, a: number, b: number, sp: number, dp: number): number {
  return t.insert(a, b, sp, dp, UDP, b, a, dp, sp, T0, 30);
}

describe('FlowTable recent-flow cache', () => {
  it('answers lookupCached only for flows a lookup found, and counts those as searches', () => {
    const t = new FlowTable({ capacity: 64, hashKey: [1, 2] });
    const f = insert(t, 0x0a000001, 0xc0a80001, 1000, 53);
    expect(t.lookupCached(0x0a000001, 0xc0a80001, 1000, 53, UDP)).toBe(-1);
    expect(t.stats.searches).toBe(0);
    expect(t.lookup(0xc0a80001, 0x0a000001, 53, 1000, UDP)).toBe(2 * f + 1);
    expect(t.lookupCached(0xc0a80001, 0x0a000001, 53, 1000, UDP)).toBe(2 * f + 1);
    expect(t.lookup(0xc0a80001, 0x0a000001, 53, 1000, UDP)).toBe(2 * f + 1);
    expect(t.stats).toMatchObject({ searches: 3, found: 3, cacheHits: 2 });
    // The other direction was never looked up: not cached, but found by lookup.
    expect(t.lookupCached(0x0a000001, 0xc0a80001, 1000, 53, UDP)).toBe(-1);
    expect(t.lookup(0x0a000001, 0xc0a80001, 1000, 53, UDP)).toBe(2 * f);
  });

  it('misses a removed flow, and a reused flow index under its old key', () => {
    const t = new FlowTable({ capacity: 4, hashKey: [3, 4] });
    const f = insert(t, 0x0a000001, 0xc0a80001, 1000, 53);
    expect(t.lookup(0x0a000001, 0xc0a80001, 1000, 53, UDP)).toBe(2 * f);
    t.remove(f);
    expect(t.lookupCached(0x0a000001, 0xc0a80001, 1000, 53, UDP)).toBe(-1);
    expect(t.lookup(0x0a000001, 0xc0a80001, 1000, 53, UDP)).toBe(-1);
    const g = insert(t, 0x0a000002, 0xc0a80001, 1001, 53);
    expect(g).toBe(f);
    expect(t.lookupCached(0x0a000001, 0xc0a80001, 1000, 53, UDP)).toBe(-1);
    expect(t.lookup(0x0a000001, 0xc0a80001, 1000, 53, UDP)).toBe(-1);
    expect(t.lookup(0x0a000002, 0xc0a80001, 1001, 53, UDP)).toBe(2 * g);
    // The same tuple inserted again, now as the reply of another flow: found in that direction.
    t.remove(g);
    const r = t.insert(0xc0a80001, 0x0a000001, 53, 1000, UDP, 0x0a000001, 0xc0a80001, 1000, 53, T0, 30);
    expect(t.lookupCached(0x0a000001, 0xc0a80001, 1000, 53, UDP)).toBe(-1);
    expect(t.lookup(0x0a000001, 0xc0a80001, 1000, 53, UDP)).toBe(2 * r + 1);
  });

  it('never disagrees with the index, whatever inserts, removes and lookups come', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('insert' as const),
        a: fc.integer({ min: 0, max: 7 }),
        p: fc.integer({ min: 0, max: 3 }),
      }),
      fc.record({ kind: fc.constant('remove' as const), i: fc.nat() }),
      fc.record({
        kind: fc.constant('lookup' as const),
        a: fc.integer({ min: 0, max: 7 }),
        p: fc.integer({ min: 0, max: 3 }),
        reply: fc.boolean(),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        // Capacity 8: the recent-flow cache has 16 slots, so keys share slots all the time.
        const t = new FlowTable({ capacity: 8, hashKey: [5, 6] });
        for (const o of ops) {
          if (o.kind === 'insert') {
            insert(t, 0x0a000000 + o.a, 0xc0a80001, 1000 + o.p, 53);
          } else if (o.kind === 'remove') {
            if (t.count === 0) continue;
            let f = -1;
            for (let i = 0; i <= o.i % t.count; i++) f = t.nextFlow(f);
            t.remove(f);
          } else {
            const [a, b, sp, dp] = o.reply
              ? [0xc0a80001, 0x0a000000 + o.a, 53, 1000 + o.p]
              : [0x0a000000 + o.a, 0xc0a80001, 1000 + o.p, 53];
            const hint = t.lookupCached(a, b, sp, dp, UDP);
            const h = t.lookup(a, b, sp, dp, UDP);
            if (hint !== -1) expect(hint).toBe(h);
            if (h >= 0) expect(t.lookupCached(a, b, sp, dp, UDP)).toBe(h);
          }
        }
        expect(t.audit()).toBe('');
      }),
      { numRuns: 300 },
    );
  });
});
