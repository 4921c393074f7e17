import { describe, expect, it } from 'vitest';
import { halfSipHash13x4, randomHashKey } from '../../../src/dataplane/conntrack/flow-hash.js';

// Key bytes 00..07 and message bytes 00..0f, read as little-endian u32 words, as in the Linux
// kunit test of hsiphash on 32-bit machines (lib/siphash_kunit.c, vectors from veorq/SipHash).
const K0 = 0x03020100;
const K1 = 0x07060504;

describe('HalfSipHash-1-3 over four words', () => {
  it('matches the reference vector for the 16-byte message 00..0f', () => {
    expect(halfSipHash13x4(K0, K1, 0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c) >>> 0).toBe(0x8b31d501);
  });

  it('returns a signed int32 (a small integer for V8, never a heap number) and depends on the key', () => {
    const a = halfSipHash13x4(K0, K1, 0x0a000001, 0x08080808, 0x04000035, 0x00110000);
    const b = halfSipHash13x4(K0 ^ 1, K1, 0x0a000001, 0x08080808, 0x04000035, 0x00110000);
    expect(a).toBe(a | 0);
    expect(a).not.toBe(b);
  });

  it('accepts signed and unsigned spellings of the same words', () => {
    expect(halfSipHash13x4(K0, K1, 0xc0a80001 | 0, 1, 2, 3)).toBe(
      halfSipHash13x4(K0, K1, 0xc0a80001, 1, 2, 3),
    );
  });

  it('spreads sequential addresses evenly over 1024 buckets', () => {
    const buckets = new Uint32Array(1024);
    const n = 1 << 18;
    for (let i = 0; i < n; i++)
      buckets[halfSipHash13x4(K0, K1, 0x0a000000 + i, 0x08080808, 0x04000050, 0x60000) & 1023]++;
    // 256 expected per bucket, σ ≈ 16: anything outside ±6σ means the low bits are not mixed.
    expect(Math.min(...buckets)).toBeGreaterThan(256 - 96);
    expect(Math.max(...buckets)).toBeLessThan(256 + 96);
  });

  it('draws a fresh random key per call', () => {
    const a = randomHashKey();
    const b = randomHashKey();
    expect(a).toHaveLength(2);
    expect(a[0] === b[0] && a[1] === b[1]).toBe(false);
  });
});
