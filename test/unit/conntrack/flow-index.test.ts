import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlowIndex } from '../../../src/dataplane/conntrack/flow-index.js';

/** An index over handles 0..n-1 whose key is simply [handle, 0, 0, 0], with hashes we choose. */
function indexWithKeys(slots: number, n: number): FlowIndex {
  const keys = new Int32Array(n * 4);
  for (let h = 0; h < n; h++) keys[h * 4] = h;
  return new FlowIndex(slots, keys);
}

function expectAllFindable(ix: FlowIndex, present: Map<number, number>): void {
  for (const [handle, hash] of present) expect(ix.find4(hash, handle, 0, 0, 0)).toBe(handle);
  expect(ix.size).toBe(present.size);
  expect(ix.audit()).toBe('');
}

describe('FlowIndex (Robin Hood, backward-shift deletion)', () => {
  it('rejects a slot count that is not a power of two', () => {
    expect(() => new FlowIndex(12, new Int32Array(4))).toThrow(RangeError);
  });

  it('keeps every entry findable when one home slot holds a cluster that wraps the array end', () => {
    const ix = indexWithKeys(16, 12);
    const present = new Map<number, number>();
    // Ten entries all homed at slot 14: they occupy 14, 15, 0, 1, ... 7.
    for (let h = 0; h < 10; h++) {
      ix.place(14 | (h << 8), h);
      present.set(h, 14 | (h << 8));
    }
    // Two entries homed at slot 1, inside the cluster: Robin Hood puts them after it.
    for (const h of [10, 11]) {
      ix.place(1, h);
      present.set(h, 1);
    }
    expectAllFindable(ix, present);
    // Delete from the middle, the head and the wrapped part; everything else stays reachable.
    for (const h of [4, 0, 9, 10, 2]) {
      ix.erase(present.get(h)!, h);
      present.delete(h);
      expectAllFindable(ix, present);
      expect(ix.find4(present.get(h) ?? 14, h, 0, 0, 0)).toBe(-1);
    }
  });

  it('stops a miss at the first entry nearer its home than the search (no full-run scan)', () => {
    const ix = indexWithKeys(64, 40);
    for (let h = 0; h < 10; h++) ix.place(3, h); // slots 3..12
    for (let h = 10; h < 20; h++) ix.place(13, h); // slots 13..22
    expect(ix.find4(40, 99, 0, 0, 0)).toBe(-1); // empty home
    expect(ix.lastProbes).toBe(1);
    // Homed at 3: walks 3..12, then meets an entry at its own home (distance 0 < 10) at 13.
    expect(ix.find4(3, 99, 0, 0, 0)).toBe(-1);
    expect(ix.lastProbes).toBe(11);
    expect(ix.find4(3, 9, 0, 0, 0)).toBe(9);
    expect(ix.lastProbes).toBe(10);
  });

  it('compares the key, not only the hash', () => {
    const ix = indexWithKeys(16, 4);
    ix.place(5, 0);
    ix.place(5, 1);
    expect(ix.find4(5, 1, 0, 0, 0)).toBe(1);
    expect(ix.find4(5, 2, 0, 0, 0)).toBe(-1);
    expect(ix.find4(5, 1, 0, 0, 1)).toBe(-1);
  });

  it('throws when asked to erase a handle it does not hold', () => {
    const ix = indexWithKeys(16, 4);
    ix.place(5, 0);
    expect(() => ix.erase(5, 1)).toThrow(/not found/);
  });

  it('agrees with a Map under random place/erase sequences at up to 94% load', () => {
    const slots = 64;
    const n = 60;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.nat(n - 1), fc.nat(2 ** 31)), { maxLength: 400, size: 'max' }),
        (ops) => {
          const ix = indexWithKeys(slots, n);
          const present = new Map<number, number>();
          for (const [add, handle, rnd] of ops) {
            if (add && !present.has(handle)) {
              // Hashes from a few homes only, so runs collide and wrap.
              const hash = (rnd & ~63) | ((rnd % 7) * 9) | 0;
              ix.place(hash, handle);
              present.set(handle, hash);
            } else if (!add && present.has(handle)) {
              ix.erase(present.get(handle)!, handle);
              present.delete(handle);
            }
            if (ix.audit() !== '') return false;
          }
          for (const [handle, hash] of present) if (ix.find4(hash, handle, 0, 0, 0) !== handle) return false;
          for (let h = 0; h < n; h++) {
            if (!present.has(h) && ix.find4(h * 9, h, 0, 0, 0) !== -1) return false;
          }
          return ix.size === present.size;
        },
      ),
      { numRuns: 300 },
    );
  });
});
