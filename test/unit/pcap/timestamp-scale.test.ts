import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  nanosToWords,
  TimestampScale,
  tsresolUnits,
  words,
} from '../../../src/dataplane/pcap/timestamp-scale.js';

/** The oracle: BigInt arithmetic on the whole 64-bit count. */
function oracle(tsresol: number, ts: bigint): [number, number] {
  const units = tsresolUnits(tsresol);
  return [Number(ts / units), Number(((ts % units) * 1_000_000_000n) / units)];
}

const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });

describe('pcapng timestamp units (if_tsresol, draft-ietf-opsawg-pcapng §4.2)', () => {
  it('reads the byte as 10^-n (bit 7 clear) or 2^-n (bit 7 set)', () => {
    expect(new TimestampScale(6).unitsPerSecond).toBe(1e6);
    expect(new TimestampScale(9).unitsPerSecond).toBe(1e9);
    expect(new TimestampScale(0).unitsPerSecond).toBe(1);
    expect(new TimestampScale(0x80 | 10).unitsPerSecond).toBe(1024);
    expect(new TimestampScale(0x80 | 32).unitsPerSecond).toBe(2 ** 32);
  });

  it('microseconds and nanoseconds split exactly, beyond 2^53', () => {
    const us = new TimestampScale(6);
    us.convert(0xffffffff, 0xffffffff); // 2^64 - 1 µs
    expect([us.sec, us.nsec]).toEqual([18446744073709, 551615000]);
    const ns = new TimestampScale(9);
    const t = 1_795_307_925_617_063_282n;
    ns.convert(Number(t >> 32n), Number(t & 0xffffffffn));
    expect([ns.sec, ns.nsec]).toEqual([1795307925, 617063282]);
  });

  it('1/1024 s units: 1.5 s + 1 unit = 1 s + 500976562 ns (truncated)', () => {
    const s = new TimestampScale(0x80 | 10);
    s.convert(0, 1024 + 512 + 1);
    expect([s.sec, s.nsec]).toEqual([1, 500976562]);
  });

  it('matches BigInt division for every resolution and count', () => {
    const resol = fc.oneof(
      fc.integer({ min: 0, max: 12 }),
      fc.integer({ min: 0, max: 40 }).map((n) => 0x80 | n),
      fc.integer({ min: 0, max: 255 }),
    );
    fc.assert(
      fc.property(resol, u64, (tsresol, ts) => {
        const s = new TimestampScale(tsresol);
        s.convert(Number(ts >> 32n), Number(ts & 0xffffffffn));
        const [sec, nsec] = oracle(tsresol, ts);
        // Seconds beyond 2^53 cannot be exact in a double; compare as the double they round to.
        expect(s.sec).toBe(sec);
        expect(s.nsec).toBe(nsec);
        expect(s.nsec).toBeGreaterThanOrEqual(0);
        expect(s.nsec).toBeLessThan(1e9);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('nanosecond timestamps for the pcapng writer', () => {
  it('splits sec·10^9 + nsec into exact 32-bit words', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 18_446_744_072 }),
        fc.integer({ min: 0, max: 999_999_999 }),
        (sec, nsec) => {
          expect(nanosToWords(sec, nsec)).toBe(true);
          const v = (BigInt(words.hi) << 32n) + BigInt(words.lo);
          expect(v).toBe(BigInt(sec) * 1_000_000_000n + BigInt(nsec));
          expect(words.lo).toBeLessThan(2 ** 32);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('refuses times past 2^64 ns', () => {
    expect(nanosToWords(18_446_744_073, 709_551_615)).toBe(true);
    expect(nanosToWords(18_446_744_073, 709_551_616)).toBe(false);
    expect(nanosToWords(2 ** 40, 0)).toBe(false);
  });
});
