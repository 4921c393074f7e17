/**
 * Address and port sets as sorted, disjoint, inclusive ranges searched by bisection — what
 * nftables builds for an `interval` set (its rbtree/pipapo backends), here in one Int32Array.
 *
 * Prefixes become ranges (10.0.0.0/8 is [10.0.0.0, 10.255.255.255]); overlapping and adjacent
 * ranges merge, so a set of n prefixes costs at most log2(n) + 1 comparisons per lookup however
 * its prefixes nest. Layout at `off` in the pool:
 *
 *   IPv4, ports: [count, lo0, hi0, lo1, hi1, …]                 one word per bound
 *   IPv6:        [count, lo0(4 words), hi0(4 words), …]         big-endian 32-bit words
 *
 * Every word is biased (XOR 0x80000000) so that signed 32-bit comparison orders it as the
 * unsigned value it stands for: lookups stay in small-integer arithmetic (no heap numbers for
 * addresses above 2^31). Port keys are below 2^16 and need no bias; they are stored plainly.
 */
import type { PortRange, Prefix4, Prefix6 } from '../../control/config/types.js';

/** Flips the sign bit: unsigned order becomes signed order. */
export const BIAS = 0x80000000 | 0;

/** Sorts [lo, hi] pairs and merges those that overlap or touch. Compile time only. */
export function mergeRanges(ranges: readonly (readonly [bigint, bigint])[]): [bigint, bigint][] {
  const sorted = [...ranges].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: [bigint, bigint][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1n) {
      if (hi > last[1]) last[1] = hi;
    } else {
      out.push([lo, hi]);
    }
  }
  return out;
}

function prefixRange(addr: bigint, len: number, bits: number): [bigint, bigint] {
  const host = (1n << BigInt(bits - len)) - 1n;
  const lo = addr & ~host & ((1n << BigInt(bits)) - 1n);
  return [lo, lo | host];
}

/** The words for an IPv4 set: [count, lo, hi, …], biased. */
export function packPrefixes4(prefixes: readonly Prefix4[]): number[] {
  const merged = mergeRanges(prefixes.map((p) => prefixRange(BigInt(p.addr >>> 0), p.len, 32)));
  const out = [merged.length];
  for (const [lo, hi] of merged) out.push(Number(lo) ^ BIAS, Number(hi) ^ BIAS);
  return out;
}

function bytesToBig(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = 0; i < 16; i++) v = (v << 8n) | BigInt(b[i] ?? 0);
  return v;
}

function pushWords128(out: number[], v: bigint): void {
  for (let w = 3; w >= 0; w--) out.push(Number((v >> BigInt(w * 32)) & 0xffffffffn) ^ BIAS);
}

/** The words for an IPv6 set: [count, lo(4), hi(4), …], biased. */
export function packPrefixes6(prefixes: readonly Prefix6[]): number[] {
  const merged = mergeRanges(prefixes.map((p) => prefixRange(bytesToBig(p.addr), p.len, 128)));
  const out = [merged.length];
  for (const [lo, hi] of merged) {
    pushWords128(out, lo);
    pushWords128(out, hi);
  }
  return out;
}

/** The words for a port set: [count, lo, hi, …] (not biased: ports are below 2^16). */
export function packPorts(ranges: readonly PortRange[]): number[] {
  const merged = mergeRanges(ranges.map((r) => [BigInt(r.min), BigInt(r.max)] as const));
  const out = [merged.length];
  for (const [lo, hi] of merged) out.push(Number(lo), Number(hi));
  return out;
}

/** True when `key` (biased for addresses, plain for ports) lies in one of the ranges at `off`. */
export function rangesContain(pool: Int32Array, off: number, key: number): boolean {
  // Bisect for the last range whose low bound is <= key; the key is in the set if it is also <= that range's high bound.
  let lo = 0;
  let hi = pool[off]! - 1;
  const base = off + 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (pool[base + 2 * mid]! <= key) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi >= 0 && key <= pool[base + 2 * hi + 1]!;
}

/** Compares the 4-word key with the 4 words at pool[at]: negative, zero or positive. */
function compare128(pool: Int32Array, at: number, key: Int32Array): number {
  for (let w = 0; w < 4; w++) {
    const a = key[w]!;
    const b = pool[at + w]!;
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}

/** IPv6 counterpart of `rangesContain`; `key` holds 4 biased big-endian words. */
export function ranges6Contain(pool: Int32Array, off: number, key: Int32Array): boolean {
  let lo = 0;
  let hi = pool[off]! - 1;
  const base = off + 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (compare128(pool, base + 8 * mid, key) >= 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi >= 0 && compare128(pool, base + 8 * hi + 4, key) <= 0;
}

/** Reads the 16-byte address at b[o] into `key` as 4 biased words (no allocation). */
export function loadKey128(b: Uint8Array, o: number, key: Int32Array): void {
  for (let w = 0; w < 4; w++) {
    const p = o + 4 * w;
    key[w] = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) ^ 0x80000000; // BIAS
  }
}

/** Reads the IPv4 address at b[o] as a biased key. */
export function loadKey32(b: Uint8Array, o: number): number {
  // The literal rather than BIAS: V8 folds a literal, but reads another module's constant each time.
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) ^ 0x80000000; // BIAS
}
