/**
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * Sums are carried unfolded in a JS number (safe: 64 KiB of 16-bit words stays below 2^32)
 * and folded only at the end. `checksum()` returns the value to store in the header;
 * a receiver verifies by summing the whole header including the stored checksum and
 * checking that `fold(sum) === 0xffff`.
 */
import { u16 } from './bytes.js';

/** Adds the bytes b[off..off+len) as big-endian 16-bit words to `acc`; an odd last byte is padded with zero. */
export function sum16(b: Uint8Array, off: number, len: number, acc = 0): number {
  let s = acc;
  const end = off + (len & ~1);
  let i = off;
  for (; i < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (len & 1) s += b[i]! << 8;
  return s;
}

/** Folds carries back into 16 bits (one's-complement addition). */
export function fold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** The checksum field value for the range (and an optional pseudo-header sum). */
export function checksum(b: Uint8Array, off: number, len: number, acc = 0): number {
  return ~fold(sum16(b, off, len, acc)) & 0xffff;
}

/** True when the range, which contains its own checksum field, sums to all-ones. */
export function verify(b: Uint8Array, off: number, len: number, acc = 0): boolean {
  return fold(sum16(b, off, len, acc)) === 0xffff;
}

/** Pseudo-header sum for TCP/UDP over IPv4 (RFC 793 §3.1, RFC 768). Addresses as u32. */
export function pseudoSumV4(src: number, dst: number, protocol: number, l4Length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + l4Length;
}

/**
 * Pseudo-header sum for upper layers over IPv6 (RFC 8200 §8.1): both addresses, the 32-bit
 * upper-layer length and the next-header value. Addresses are read from `b` at the given offsets.
 */
export function pseudoSumV6(
  b: Uint8Array,
  srcOff: number,
  dstOff: number,
  nextHeader: number,
  l4Length: number,
): number {
  let s = sum16(b, srcOff, 16);
  s = sum16(b, dstOff, 16, s);
  return s + Math.floor(l4Length / 0x10000) + (l4Length & 0xffff) + nextHeader;
}

/**
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). The new checksum after a 16-bit field changes from
 * `oldV` to `newV`, without touching the rest of the packet. (Eqn. 3 rather than eqn. 2 avoids
 * the -0 / +0 ambiguity that RFC 1624 §3 describes.)
 */
export function csumReplace16(csum: number, oldV: number, newV: number): number {
  let s = (~csum & 0xffff) + (~oldV & 0xffff) + (newV & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** RFC 1624 update for a 32-bit field (an IPv4 address): both halves at once. */
export function csumReplace32(csum: number, oldV: number, newV: number): number {
  let s = (~csum & 0xffff) + (~(oldV >>> 16) & 0xffff) + (~oldV & 0xffff) + (newV >>> 16) + (newV & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/**
 * UDP over IPv4: a checksum of 0 means "none was computed" (RFC 768) and must stay 0 after a
 * rewrite; a computed result of 0 is transmitted as 0xffff.
 */
export function udpCsumReplace16(csum: number, oldV: number, newV: number): number {
  if (csum === 0) return 0;
  return csumReplace16(csum, oldV, newV) || 0xffff;
}

export function udpCsumReplace32(csum: number, oldV: number, newV: number): number {
  if (csum === 0) return 0;
  return csumReplace32(csum, oldV, newV) || 0xffff;
}

/**
 * Rewrites the 16-bit field at `fieldOff` to `newV` and patches the checksum stored at `csumOff`
 * (the NAT primitive for ports, TTL/protocol words, ICMP ids).
 */
export function rewrite16(b: Uint8Array, fieldOff: number, newV: number, csumOff: number): void {
  const oldV = u16(b, fieldOff);
  const c = csumReplace16(u16(b, csumOff), oldV, newV);
  b[fieldOff] = newV >>> 8;
  b[fieldOff + 1] = newV;
  b[csumOff] = c >>> 8;
  b[csumOff + 1] = c;
}

/** Patches a checksum at `csumOff` for a 32-bit value that changed elsewhere (e.g. the IP source address in a pseudo-header). */
export function patch32(b: Uint8Array, csumOff: number, oldV: number, newV: number, udp = false): void {
  const old = u16(b, csumOff);
  const c = udp ? udpCsumReplace32(old, oldV, newV) : csumReplace32(old, oldV, newV);
  b[csumOff] = c >>> 8;
  b[csumOff + 1] = c;
}

/** Patches a checksum at `csumOff` for a 16-bit value that changed elsewhere. */
export function patch16(b: Uint8Array, csumOff: number, oldV: number, newV: number, udp = false): void {
  const old = u16(b, csumOff);
  const c = udp ? udpCsumReplace16(old, oldV, newV) : csumReplace16(old, oldV, newV);
  b[csumOff] = c >>> 8;
  b[csumOff + 1] = c;
}
