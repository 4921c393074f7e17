import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Lpm4, mask4, SMALL } from '../../../src/dataplane/route/lpm4.js';
import { parseIpv4 } from '../../../src/dataplane/wire/bytes.js';

const ip = (s: string) => parseIpv4(s)!;

/** Brute-force reference: a list of (prefix, len, value); the longest match wins. */
class Ref {
  readonly m = new Map<string, { a: number; len: number; v: number }>();
  insert(a: number, len: number, v: number) {
    const n = (a & mask4(len)) >>> 0;
    this.m.set(`${n}/${len}`, { a: n, len, v });
  }
  delete(a: number, len: number): boolean {
    return this.m.delete(`${(a & mask4(len)) >>> 0}/${len}`);
  }
  lookup(x: number): number {
    let best = -1;
    let bestLen = -1;
    for (const e of this.m.values()) {
      if ((x & mask4(e.len)) >>> 0 === e.a && e.len > bestLen) {
        best = e.v;
        bestLen = e.len;
      }
    }
    return best;
  }
}

// Lengths near the trie's level boundaries (16, 24) and the ends are where bugs live.
const lenArb = fc.oneof(
  fc.constantFrom(0, 1, 8, 15, 16, 17, 23, 24, 25, 31, 32),
  fc.integer({ min: 0, max: 32 }),
);
// Addresses from a few /16s so prefixes overlap and nest.
const addrArb = fc
  .tuple(fc.constantFrom(0x0a00, 0x0a01, 0xc0a8, 0xffff, 0x0000), fc.integer({ min: 0, max: 0xffff }))
  .map(([hi, lo]) => ((hi << 16) | lo) >>> 0);

type Op = { kind: 'ins'; a: number; len: number; v: number } | { kind: 'del'; a: number; len: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('ins' as const),
      a: addrArb,
      len: lenArb,
      v: fc.integer({ min: 0, max: 1000 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('del' as const), a: addrArb, len: lenArb }) },
);

/** Probe points: random addresses plus the first and last address of every prefix and their neighbours. */
function probes(ref: Ref, extra: number[]): number[] {
  const out = [...extra];
  for (const e of ref.m.values()) {
    const last = (e.a | ~mask4(e.len)) >>> 0;
    out.push(e.a, last, (e.a - 1) >>> 0, (last + 1) >>> 0);
  }
  return out;
}

describe('Lpm4 (16-8-8 multibit trie)', () => {
  it('matches a brute-force longest-prefix match under random inserts and deletes', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 80 }),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 40 }),
        (ops, xs) => {
          const t = new Lpm4();
          const ref = new Ref();
          for (const op of ops) {
            if (op.kind === 'ins') {
              t.insert(op.a, op.len, op.v);
              ref.insert(op.a, op.len, op.v);
            } else {
              expect(t.delete(op.a, op.len)).toBe(ref.delete(op.a, op.len));
            }
          }
          expect(t.size).toBe(ref.m.size);
          for (const x of probes(ref, xs)) expect(t.lookup(x)).toBe(ref.lookup(x));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('agrees with the reference after every single insert and delete (small-table list ↔ trie)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(addrArb, lenArb), { minLength: 1, maxLength: 20 }), (ps) => {
        const t = new Lpm4();
        const ref = new Ref();
        const check = () => {
          for (const x of probes(ref, [0, 0xffffffff])) expect(t.lookup(x)).toBe(ref.lookup(x));
        };
        ps.forEach(([a, len], i) => {
          t.insert(a, len, i);
          ref.insert(a, len, i);
          check();
        });
        for (const [a, len] of ps) {
          t.delete(a, len);
          ref.delete(a, len);
          check();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('frees every ply once all prefixes are deleted', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(addrArb, lenArb), { maxLength: 60 }), (ps) => {
        const t = new Lpm4();
        ps.forEach(([a, len], i) => {
          t.insert(a, len, i);
        });
        for (const [a, len] of ps) t.delete(a, len);
        expect(t.size).toBe(0);
        expect(t.plyCount).toBe(0);
        for (const [a] of ps) expect(t.lookup(a)).toBe(-1);
      }),
    );
  });

  it('an empty table finds nothing; a default route (/0) catches everything', () => {
    const t = new Lpm4();
    expect(t.lookup(0)).toBe(-1);
    expect(t.lookup(0xffffffff)).toBe(-1);
    t.insert(0, 0, 7);
    expect(t.lookup(0)).toBe(7);
    expect(t.lookup(ip('203.0.113.9'))).toBe(7);
    expect(t.lookup(0xffffffff)).toBe(7);
    expect(t.delete(0, 0)).toBe(true);
    expect(t.lookup(ip('203.0.113.9'))).toBe(-1);
  });

  it('/32 host routes beat their covering prefixes and fall back to them when deleted', () => {
    const t = new Lpm4();
    t.insert(ip('192.168.0.0'), 24, 1);
    t.insert(ip('192.168.0.125'), 32, 2);
    t.insert(0, 0, 0);
    expect(t.lookup(ip('192.168.0.125'))).toBe(2);
    expect(t.lookup(ip('192.168.0.124'))).toBe(1);
    expect(t.lookup(ip('192.168.0.126'))).toBe(1);
    expect(t.lookup(ip('192.168.1.1'))).toBe(0);
    expect(t.delete(ip('192.168.0.125'), 32)).toBe(true);
    expect(t.lookup(ip('192.168.0.125'))).toBe(1);
    expect(t.delete(ip('192.168.0.0'), 24)).toBe(true);
    expect(t.lookup(ip('192.168.0.125'))).toBe(0);
  });

  it('the extreme addresses 0.0.0.0 and 255.255.255.255 as /32s', () => {
    const t = new Lpm4();
    t.insert(0, 32, 1);
    t.insert(0xffffffff, 32, 2);
    expect(t.lookup(0)).toBe(1);
    expect(t.lookup(1)).toBe(-1);
    expect(t.lookup(0xffffffff)).toBe(2);
    expect(t.lookup(0xfffffffe)).toBe(-1);
  });

  it('ignores host bits, replaces an existing prefix, and reports deletes of absent prefixes', () => {
    const t = new Lpm4();
    t.insert(ip('10.1.2.3'), 8, 5);
    expect(t.get(ip('10.0.0.0'), 8)).toBe(5);
    t.insert(ip('10.0.0.0'), 8, 6);
    expect(t.size).toBe(1);
    expect(t.lookup(ip('10.200.0.1'))).toBe(6);
    expect(t.delete(ip('10.0.0.0'), 9)).toBe(false);
    expect(t.delete(ip('11.0.0.0'), 8)).toBe(false);
    expect([...t.entries()]).toEqual([[ip('10.0.0.0'), 8, 6]]);
  });

  it('short tables (up to SMALL prefixes) use the linear list; the list and the trie give the same answers', () => {
    const t = new Lpm4();
    for (let i = 0; i < SMALL; i++) t.insert(ip(`10.${i}.0.0`), 16, i);
    expect(t.lookup(ip('10.3.1.1'))).toBe(3);
    t.insert(ip('10.3.1.0'), 24, 99);
    expect(t.size).toBe(SMALL + 1);
    expect(t.lookup(ip('10.3.1.1'))).toBe(99);
    expect(t.lookup(ip('10.3.2.1'))).toBe(3);
    t.delete(ip('10.3.1.0'), 24);
    expect(t.lookup(ip('10.3.1.1'))).toBe(3);
  });

  it('grows its ply store past the initial capacity', () => {
    const t = new Lpm4(1);
    for (let i = 0; i < 300; i++) t.insert(((i << 16) | 0x100) >>> 0, 25, i);
    expect(t.plyCount).toBe(600);
    for (let i = 0; i < 300; i++) expect(t.lookup(((i << 16) | 0x17f) >>> 0)).toBe(i);
    expect(t.lookup((5 << 16) | 0x180)).toBe(-1);
  });

  it('rejects out-of-range lengths and values', () => {
    const t = new Lpm4();
    expect(() => t.insert(0, 33, 1)).toThrow(RangeError);
    expect(() => t.insert(0, 8, -1)).toThrow(RangeError);
  });
});
