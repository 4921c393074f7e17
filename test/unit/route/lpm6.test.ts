import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Lpm6 } from '../../../src/dataplane/route/lpm6.js';
import { parseIpv6 } from '../../../src/dataplane/wire/bytes.js';

const ip6 = (s: string) => parseIpv6(s)!;

function masked(a: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, len - 8 * i));
    out[i] = a[i]! & ((0xff00 >> bits) & 0xff);
  }
  return out;
}

const hex = (a: Uint8Array) => Buffer.from(a).toString('hex');

class Ref {
  readonly m = new Map<string, { a: Uint8Array; len: number; v: number }>();
  insert(a: Uint8Array, len: number, v: number) {
    const n = masked(a, len);
    this.m.set(`${hex(n)}/${len}`, { a: n, len, v });
  }
  delete(a: Uint8Array, len: number): boolean {
    return this.m.delete(`${hex(masked(a, len))}/${len}`);
  }
  lookup(x: Uint8Array): number {
    let best = -1;
    let bestLen = -1;
    for (const e of this.m.values()) {
      if (e.len > bestLen && hex(masked(x, e.len)) === hex(e.a)) {
        best = e.v;
        bestLen = e.len;
      }
    }
    return best;
  }
}

const lenArb = fc.oneof(
  fc.constantFrom(0, 1, 31, 32, 33, 48, 56, 63, 64, 65, 96, 127, 128),
  fc.integer({ min: 0, max: 128 }),
);
// Addresses that share long prefixes (a few bases, a few bits flipped) so the trie gets deep.
const addrArb = fc
  .tuple(
    fc.constantFrom(
      ip6('2001:db8::'),
      ip6('2001:db8:0:a0::'),
      ip6('fc12:3456:7890:1234::'),
      ip6('::'),
      ip6('ffff::'),
    ),
    fc.array(fc.integer({ min: 0, max: 127 }), { maxLength: 3 }),
  )
  .map(([base, flips]) => {
    const a = base.slice();
    for (const b of flips) a[b >>> 3] = a[b >>> 3]! ^ (0x80 >>> (b & 7));
    return a;
  });

type Op =
  | { kind: 'ins'; a: Uint8Array; len: number; v: number }
  | { kind: 'del'; a: Uint8Array; len: number };
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

describe('Lpm6 (path-compressed binary trie)', () => {
  it('matches a brute-force longest-prefix match under random inserts and deletes', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), fc.array(addrArb, { maxLength: 30 }), (ops, xs) => {
        const t = new Lpm6();
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
        const points: Uint8Array[] = [...xs];
        for (const e of ref.m.values()) points.push(e.a);
        for (const x of points) expect(t.lookupBytes(x)).toBe(ref.lookup(x));
        expect([...t.entries()].length).toBe(ref.m.size);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with the reference after every single insert and delete (small-table list ↔ trie)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(addrArb, lenArb), { minLength: 1, maxLength: 20 }), (ps) => {
        const t = new Lpm6();
        const ref = new Ref();
        const points = ps.map(([a]) => a);
        const check = () => {
          for (const x of points) expect(t.lookupBytes(x)).toBe(ref.lookup(x));
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

  it('keeps no glue nodes once every prefix is deleted', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(addrArb, lenArb), { maxLength: 40 }), (ps) => {
        const t = new Lpm6();
        ps.forEach(([a, len], i) => {
          t.insert(a, len, i);
        });
        for (const [a, len] of ps) t.delete(a, len);
        expect(t.size).toBe(0);
        expect(t.nodeCount).toBe(0);
      }),
    );
  });

  it('default route ::/0, /128 host routes and fall-back on delete', () => {
    const t = new Lpm6();
    expect(t.lookupBytes(ip6('2001:db8::1'))).toBe(-1);
    t.insert(ip6('::'), 0, 0);
    t.insert(ip6('2001:db8:0:a1::'), 64, 1);
    t.insert(ip6('2001:db8:0:a1::1'), 128, 2);
    expect(t.lookupBytes(ip6('2001:db8:0:a1::1'))).toBe(2);
    expect(t.lookupBytes(ip6('2001:db8:0:a1::2'))).toBe(1);
    expect(t.lookupBytes(ip6('2001:db8:0:a0::1'))).toBe(0);
    expect(t.lookupBytes(ip6('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'))).toBe(0);
    expect(t.delete(ip6('2001:db8:0:a1::1'), 128)).toBe(true);
    expect(t.lookupBytes(ip6('2001:db8:0:a1::1'))).toBe(1);
    expect(t.delete(ip6('2001:db8:0:a1::'), 64)).toBe(true);
    expect(t.lookupBytes(ip6('2001:db8:0:a1::1'))).toBe(0);
    expect(t.delete(ip6('2001:db8::'), 64)).toBe(false);
  });

  it('reads the address from a packet buffer at an offset', () => {
    const t = new Lpm6();
    t.insert(ip6('fc00::'), 8, 3);
    const pkt = new Uint8Array(40);
    pkt.set(ip6('fc98:7654:3210:9876:5432:1098:7654:3210'), 24);
    expect(t.lookupBytes(pkt, 24)).toBe(3);
    expect(t.lookupBytes(pkt, 8)).toBe(-1);
  });

  it('replaces the value of an existing prefix and ignores bits past the length', () => {
    const t = new Lpm6();
    t.insert(ip6('2001:db8::ffff'), 32, 1);
    t.insert(ip6('2001:db8::'), 32, 4);
    expect(t.size).toBe(1);
    expect(t.get(ip6('2001:db8:1::'), 32)).toBe(4);
  });

  it('grows its node arrays', () => {
    const t = new Lpm6(2);
    for (let i = 0; i < 500; i++) {
      const a = new Uint8Array(16);
      a[0] = 0x20;
      a[2] = i >> 8;
      a[3] = i & 255;
      t.insert(a, 32, i);
    }
    const q = new Uint8Array(16);
    q[0] = 0x20;
    q[3] = 77;
    expect(t.lookupBytes(q)).toBe(77);
    expect(t.size).toBe(500);
  });
});
