/**
 * Keyed hash of a flow key: HalfSipHash-1-3 with a 32-bit result, over four 32-bit words.
 *
 * Why a keyed PRF and not a plain multiply-xorshift: the peer chooses source address and port, so
 * with a public hash an attacker can aim every packet at one probe cluster and turn each lookup
 * into a linear scan (hash flooding). Linux hashes conntrack tuples with SipHash keyed by a
 * boot-time random (`hash_conntrack_raw`, `nf_conntrack_hash_rnd`), and offers HalfSipHash-1-3
 * as `hsiphash` "for hashtables" on 32-bit machines. HalfSipHash needs only 32-bit adds,
 * rotates and xors, which V8 keeps in int32 registers, so it is the variant used here.
 *
 * Message words are taken as the little-endian 32-bit words of the byte string, so the result
 * equals the reference HalfSipHash-1-3 of those 16 bytes (checked against the Linux kunit vectors
 * in the tests). An IPv6 key (10 words) needs a second function with the same round, not a loop
 * over an array: keeping the words in parameters is what makes this allocation-free.
 */
import { randomFillSync } from 'node:crypto';

/** HalfSipHash initialisation constants ("somepseudorandomlygeneratedbytes", 32-bit variant). */
const IV0 = 0x00000000;
const IV1 = 0x00000000;
const IV2 = 0x6c796765;
const IV3 = 0x74656462;
/** Final block for a 16-byte message: the length in the top byte, no tail bytes. */
const LEN16_BLOCK = 16 << 24;

/**
 * HalfSipHash-1-3 of the 16-byte message m0..m3 under the 64-bit key (k0, k1); returns the 32-bit
 * result as a signed int32 (`>>> 0` gives the unsigned value the reference vectors print). One SipRound per message word (c = 1), three at the end (d = 3).
 */
export function halfSipHash13x4(
  k0: number,
  k1: number,
  m0: number,
  m1: number,
  m2: number,
  m3: number,
): number {
  let v0 = IV0 ^ k0;
  let v1 = IV1 ^ k1;
  let v2 = IV2 ^ k0;
  let v3 = IV3 ^ k1;

  // Compression: v3 ^= m; SipRound; v0 ^= m — for m0, m1, m2, m3 and the length block.
  // The round is written out five + three times: a helper would have to return four values.
  v3 ^= m0;
  v0 = (v0 + v1) | 0;
  v1 = ((v1 << 5) | (v1 >>> 27)) ^ v0;
  v0 = (v0 << 16) | (v0 >>> 16);
  v2 = (v2 + v3) | 0;
  v3 = ((v3 << 8) | (v3 >>> 24)) ^ v2;
  v0 = (v0 + v3) | 0;
  v3 = ((v3 << 7) | (v3 >>> 25)) ^ v0;
  v2 = (v2 + v1) | 0;
  v1 = ((v1 << 13) | (v1 >>> 19)) ^ v2;
  v2 = (v2 << 16) | (v2 >>> 16);
  v0 ^= m0;

  v3 ^= m1;
  v0 = (v0 + v1) | 0;
  v1 = ((v1 << 5) | (v1 >>> 27)) ^ v0;
  v0 = (v0 << 16) | (v0 >>> 16);
  v2 = (v2 + v3) | 0;
  v3 = ((v3 << 8) | (v3 >>> 24)) ^ v2;
  v0 = (v0 + v3) | 0;
  v3 = ((v3 << 7) | (v3 >>> 25)) ^ v0;
  v2 = (v2 + v1) | 0;
  v1 = ((v1 << 13) | (v1 >>> 19)) ^ v2;
  v2 = (v2 << 16) | (v2 >>> 16);
  v0 ^= m1;

  v3 ^= m2;
  v0 = (v0 + v1) | 0;
  v1 = ((v1 << 5) | (v1 >>> 27)) ^ v0;
  v0 = (v0 << 16) | (v0 >>> 16);
  v2 = (v2 + v3) | 0;
  v3 = ((v3 << 8) | (v3 >>> 24)) ^ v2;
  v0 = (v0 + v3) | 0;
  v3 = ((v3 << 7) | (v3 >>> 25)) ^ v0;
  v2 = (v2 + v1) | 0;
  v1 = ((v1 << 13) | (v1 >>> 19)) ^ v2;
  v2 = (v2 << 16) | (v2 >>> 16);
  v0 ^= m2;

  v3 ^= m3;
  v0 = (v0 + v1) | 0;
  v1 = ((v1 << 5) | (v1 >>> 27)) ^ v0;
  v0 = (v0 << 16) | (v0 >>> 16);
  v2 = (v2 + v3) | 0;
  v3 = ((v3 << 8) | (v3 >>> 24)) ^ v2;
  v0 = (v0 + v3) | 0;
  v3 = ((v3 << 7) | (v3 >>> 25)) ^ v0;
  v2 = (v2 + v1) | 0;
  v1 = ((v1 << 13) | (v1 >>> 19)) ^ v2;
  v2 = (v2 << 16) | (v2 >>> 16);
  v0 ^= m3;

  v3 ^= LEN16_BLOCK;
  v0 = (v0 + v1) | 0;
  v1 = ((v1 << 5) | (v1 >>> 27)) ^ v0;
  v0 = (v0 << 16) | (v0 >>> 16);
  v2 = (v2 + v3) | 0;
  v3 = ((v3 << 8) | (v3 >>> 24)) ^ v2;
  v0 = (v0 + v3) | 0;
  v3 = ((v3 << 7) | (v3 >>> 25)) ^ v0;
  v2 = (v2 + v1) | 0;
  v1 = ((v1 << 13) | (v1 >>> 19)) ^ v2;
  v2 = (v2 << 16) | (v2 >>> 16);
  v0 ^= LEN16_BLOCK;

  // Finalisation: v2 ^= 0xff, then d = 3 rounds.
  v2 ^= 0xff;
  for (let i = 0; i < 3; i++) {
    v0 = (v0 + v1) | 0;
    v1 = ((v1 << 5) | (v1 >>> 27)) ^ v0;
    v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0;
    v3 = ((v3 << 8) | (v3 >>> 24)) ^ v2;
    v0 = (v0 + v3) | 0;
    v3 = ((v3 << 7) | (v3 >>> 25)) ^ v0;
    v2 = (v2 + v1) | 0;
    v1 = ((v1 << 13) | (v1 >>> 19)) ^ v2;
    v2 = (v2 << 16) | (v2 >>> 16);
  }
  // int32, not uint32: a result above 2^31 returned from a call V8 did not inline is a heap number.
  return v1 ^ v3;
}

/** A fresh random 64-bit hash key as two 32-bit words, from the OS CSPRNG. */
export function randomHashKey(): [number, number] {
  const w = randomFillSync(new Uint32Array(2));
  return [w[0]!, w[1]!];
}
