import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Prefix4, Prefix6 } from '../../../src/control/config/types.js';
import {
  BIAS,
  loadKey128,
  mergeRanges,
  packPorts,
  packPrefixes4,
  packPrefixes6,
  ranges6Contain,
  rangesContain,
} from '../../../src/dataplane/classifier/range-set.js';
import { parseIpv6 } from '../../../src/dataplane/wire/bytes.js';
import { ip } from '../../helpers/frames.js';
import { prefix } from '../../helpers/ruleset-builders.js';

const p4 = (s: string) => prefix(s) as Prefix4;
const p6 = (s: string) => prefix(s) as Prefix6;

function set4(...list: string[]): (a: string | number) => boolean {
  const pool = Int32Array.from(packPrefixes4(list.map(p4)));
  return (a) => rangesContain(pool, 0, ((typeof a === 'string' ? ip(a) : a) ^ BIAS) | 0);
}

function set6(...list: string[]): (a: string) => boolean {
  const pool = Int32Array.from(packPrefixes6(list.map(p6)));
  const key = new Int32Array(4);
  return (a) => {
    loadKey128(parseIpv6(a)!, 0, key);
    return ranges6Contain(pool, 0, key);
  };
}

describe('range sets: prefixes as sorted disjoint ranges', () => {
  it('merges nested, overlapping and adjacent ranges', () => {
    expect(
      mergeRanges([
        [5n, 9n],
        [0n, 3n],
        [4n, 4n],
        [20n, 30n],
        [25n, 26n],
      ]),
    ).toEqual([
      [0n, 9n],
      [20n, 30n],
    ]);
    // 10.0.0.0/9 and 10.128.0.0/9 touch: one range; 10.1.0.0/16 inside it adds nothing.
    expect(packPrefixes4([p4('10.0.0.0/9'), p4('10.128.0.0/9'), p4('10.1.0.0/16')])).toEqual([
      1,
      ip('10.0.0.0') ^ BIAS,
      ip('10.255.255.255') ^ BIAS,
    ]);
  });

  it('finds addresses at the edges of each range, across the 2^31 boundary', () => {
    const has = set4('10.0.0.0/8', '192.168.1.0/24', '127.255.255.255', '128.0.0.0/32');
    expect([has('10.0.0.0'), has('10.255.255.255'), has('9.255.255.255'), has('11.0.0.0')]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect([has('192.168.1.0'), has('192.168.1.255'), has('192.168.0.255'), has('192.168.2.0')]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect([has('127.255.255.255'), has('128.0.0.0'), has('128.0.0.1'), has('127.255.255.254')]).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });

  it('handles 0.0.0.0/0, 255.255.255.255/32 and the empty set', () => {
    const all = set4('0.0.0.0/0');
    expect([all('0.0.0.0'), all('255.255.255.255'), all('192.0.2.1')]).toEqual([true, true, true]);
    const top = set4('255.255.255.255');
    expect([top('255.255.255.255'), top('255.255.255.254'), top('0.0.0.0')]).toEqual([true, false, false]);
    const none = set4();
    expect([none('0.0.0.0'), none('255.255.255.255')]).toEqual([false, false]);
  });

  it('agrees with a linear scan of the prefixes for random sets and addresses', () => {
    const arbPrefix = fc.record({ addr: fc.nat({ max: 0xffffffff }), len: fc.integer({ min: 0, max: 32 }) });
    fc.assert(
      fc.property(
        fc.array(arbPrefix, { maxLength: 40 }),
        fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 40 }),
        (ps, addrs) => {
          const prefixes = ps.map((p) => ({ family: 4 as const, addr: p.addr, len: p.len }));
          const pool = Int32Array.from(packPrefixes4(prefixes));
          const probes = [...addrs, ...prefixes.map((p) => p.addr)];
          for (const a of probes) {
            const linear = prefixes.some((p) => {
              const mask = p.len === 0 ? 0 : (0xffffffff << (32 - p.len)) >>> 0;
              return (a & mask) >>> 0 === (p.addr & mask) >>> 0;
            });
            expect(rangesContain(pool, 0, (a ^ BIAS) | 0)).toBe(linear);
          }
        },
      ),
    );
  });

  it('port ranges: inclusive bounds, merged, 0 and 65535', () => {
    const pool = Int32Array.from(
      packPorts([
        { min: 1000, max: 2000 },
        { min: 53, max: 53 },
        { min: 2001, max: 2001 },
        { min: 65535, max: 65535 },
      ]),
    );
    expect(pool[0]).toBe(3); // 1000-2001 merged
    const has = (p: number) => rangesContain(pool, 0, p);
    expect([53, 52, 54, 1000, 2001, 2002, 999, 65535, 0].map(has)).toEqual([
      true,
      false,
      false,
      true,
      true,
      false,
      false,
      true,
      false,
    ]);
  });

  it('IPv6 prefixes: 128-bit ranges with edges', () => {
    const has = set6('2001:db8::/32', 'fd00:1::/64', '::1');
    expect(has('2001:db8::')).toBe(true);
    expect(has('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(true);
    expect(has('2001:db9::')).toBe(false);
    expect(has('2001:db7:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(false);
    expect(has('fd00:1::abcd')).toBe(true);
    expect(has('fd00:1:0:1::')).toBe(false);
    expect(has('::1')).toBe(true);
    expect(has('::2')).toBe(false);
    expect(has('ffff::')).toBe(false);
    expect(set6('::/0')('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(true);
  });
});
