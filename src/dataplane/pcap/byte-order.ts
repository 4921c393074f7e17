/**
 * Integer access in either byte order. pcap and pcapng store numbers in the writing machine's
 * order (draft-ietf-opsawg-pcap §3, draft-ietf-opsawg-pcapng §3.6.1), so every read takes the
 * order the file header announced. No bounds checks: callers check lengths first.
 */

export function rd16(b: Uint8Array, o: number, le: boolean): number {
  return le ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
}

export function rd32(b: Uint8Array, o: number, le: boolean): number {
  return le
    ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
    : ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Signed 64-bit value as a number; exact while |value| < 2^53 (if_tsoffset seconds). */
export function rdI64(b: Uint8Array, o: number, le: boolean): number {
  const hi = le ? rd32(b, o + 4, true) | 0 : rd32(b, o, false) | 0;
  const lo = le ? rd32(b, o, true) : rd32(b, o + 4, false);
  return hi * 0x1_0000_0000 + lo;
}

export function wr16le(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
}

export function wr32le(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}
