/**
 * UDP datagrams (RFC 768).
 *
 *   0        2        4        6        8
 *   | src    | dst    | length | csum   | payload …
 *
 * The checksum covers a pseudo-header (source and destination address, protocol, length) that
 * the caller computes with `pseudoSumV4` / `pseudoSumV6` from `checksum.ts`, so this module does
 * not depend on the IP layer.
 */
import { EMPTY, setU16, setU32, u16 } from './bytes.js';
import { checksum, patch16, patch32, pseudoSumV4, verify } from './checksum.js';
import { WireError } from './errors.js';

export const UDP_SRC_PORT = 0;
export const UDP_DST_PORT = 2;
export const UDP_LENGTH = 4;
export const UDP_CHECKSUM = 6;
export const UDP_HEADER_LEN = 8;
/** IP protocol / IPv6 next-header number, for the pseudo-header. */
export const UDP_PROTO = 17;
/** The largest datagram the 16-bit length field can describe. */
export const UDP_MAX_LEN = 0xffff;

/** Zero-copy view of one UDP datagram. Reuse one instance per stage: `wrap()` re-points it. */
export class UdpView {
  buf: Uint8Array = EMPTY;
  off = 0;
  /** Bytes the caller handed over (the IP payload); the datagram itself is `length` bytes. */
  len = 0;

  /**
   * Points the view at buf[off..off+len); checks the header fits and that the length field
   * covers at least the header and no more than the bytes given. Bytes after `length` (link
   * padding) are outside the datagram. IPv6 jumbograms (length 0, RFC 2675) are not supported.
   */
  wrap(buf: Uint8Array, off: number, len: number): WireError {
    this.buf = buf;
    this.off = off;
    this.len = len;
    if (len < UDP_HEADER_LEN || off + len > buf.length) return WireError.Truncated;
    const l = u16(buf, off + UDP_LENGTH);
    if (l < UDP_HEADER_LEN || l > len) return WireError.BadLength;
    return WireError.Ok;
  }

  get srcPort(): number {
    return u16(this.buf, this.off);
  }

  /** Writes the field only; use `setSrcPort` to keep an existing checksum valid. */
  set srcPort(v: number) {
    setU16(this.buf, this.off, v);
  }

  get dstPort(): number {
    return u16(this.buf, this.off + UDP_DST_PORT);
  }

  /** Writes the field only; use `setDstPort` to keep an existing checksum valid. */
  set dstPort(v: number) {
    setU16(this.buf, this.off + UDP_DST_PORT, v);
  }

  /** The length field: header plus payload, in bytes. */
  get length(): number {
    return u16(this.buf, this.off + UDP_LENGTH);
  }

  get checksum(): number {
    return u16(this.buf, this.off + UDP_CHECKSUM);
  }

  set checksum(v: number) {
    setU16(this.buf, this.off + UDP_CHECKSUM, v);
  }

  /**
   * Checks the datagram against `pseudoSum` (which must include the UDP length). A stored 0
   * means the sender computed none: acceptable over IPv4 (RFC 768), invalid over IPv6
   * (RFC 8200 §8.1).
   */
  verifyChecksum(pseudoSum: number, v6: boolean): boolean {
    if (this.checksum === 0) return !v6;
    return verify(this.buf, this.off, this.length, pseudoSum);
  }

  /**
   * Computes and stores the checksum. A computed 0 is sent as 0xffff (RFC 768; RFC 8200 §8.1),
   * since 0 on the wire means "no checksum".
   */
  fillChecksum(pseudoSum: number): void {
    this.checksum = 0;
    this.checksum = checksum(this.buf, this.off, this.length, pseudoSum) || 0xffff;
  }

  /** NAT: rewrites the source port and patches the checksum (RFC 1624); a 0 checksum stays 0. */
  setSrcPort(v: number): void {
    patch16(this.buf, this.off + UDP_CHECKSUM, this.srcPort, v, true);
    this.srcPort = v;
  }

  /** NAT: rewrites the destination port and patches the checksum; a 0 checksum stays 0. */
  setDstPort(v: number): void {
    patch16(this.buf, this.off + UDP_CHECKSUM, this.dstPort, v, true);
    this.dstPort = v;
  }

  /** NAT: patches the checksum for an IPv4 pseudo-header address that changed from `oldAddr` to `newAddr`. */
  patchAddress32(oldAddr: number, newAddr: number): void {
    patch32(this.buf, this.off + UDP_CHECKSUM, oldAddr, newAddr, true);
  }

  /** Absolute offset of the payload in `buf`. */
  get payloadOff(): number {
    return this.off + UDP_HEADER_LEN;
  }

  get payloadLen(): number {
    return this.length - UDP_HEADER_LEN;
  }
}

/** Plain representation of a UDP datagram (for building datagrams and for tests). */
export interface UdpRepr {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

export function parseUdp(v: UdpView): UdpRepr {
  return {
    srcPort: v.srcPort,
    dstPort: v.dstPort,
    payload: v.buf.slice(v.payloadOff, v.payloadOff + v.payloadLen),
  };
}

/** Datagram length (header + payload): the value the pseudo-header sum needs. */
export function udpLen(r: UdpRepr): number {
  return UDP_HEADER_LEN + r.payload.length;
}

/**
 * Writes the whole datagram into buf at off and returns its length. With a pseudo-header sum the
 * checksum is computed; with `null` it is left 0 ("none", allowed over IPv4 only, RFC 768).
 */
export function emitUdp(r: UdpRepr, buf: Uint8Array, off: number, pseudoSum: number | null): number {
  const n = udpLen(r);
  if (n > UDP_MAX_LEN) throw new RangeError(`udp datagram of ${n} bytes exceeds ${UDP_MAX_LEN}`);
  if (off + n > buf.length) throw new RangeError(`udp datagram needs ${n} bytes at ${off}`);
  setU16(buf, off + UDP_SRC_PORT, r.srcPort);
  setU16(buf, off + UDP_DST_PORT, r.dstPort);
  setU16(buf, off + UDP_LENGTH, n);
  setU16(buf, off + UDP_CHECKSUM, 0);
  buf.set(r.payload, off + UDP_HEADER_LEN);
  if (pseudoSum !== null) setU16(buf, off + UDP_CHECKSUM, checksum(buf, off, n, pseudoSum) || 0xffff);
  return n;
}

/**
 * Writes an IPv4 header (no options, DF clear) and a UDP header at buf[at..] in front of a
 * `payloadLen`-byte payload already in place after them, with both checksums — what a router
 * that originates UDP (the DHCP relay, the DHCP client) sends. Returns the datagram's length.
 * A computed UDP checksum of 0 is sent as all ones: 0 means "no checksum" (RFC 768).
 */
export function emitIpv4Udp(
  buf: Uint8Array,
  at: number,
  src: number,
  dst: number,
  sport: number,
  dport: number,
  payloadLen: number,
  ttl: number,
  id: number,
): number {
  const udpLen = UDP_HEADER_LEN + payloadLen;
  buf[at] = 0x45;
  buf[at + 1] = 0;
  setU16(buf, at + 2, 20 + udpLen);
  setU16(buf, at + 4, id);
  setU16(buf, at + 6, 0);
  buf[at + 8] = ttl;
  buf[at + 9] = UDP_PROTO;
  setU16(buf, at + 10, 0);
  setU32(buf, at + 12, src);
  setU32(buf, at + 16, dst);
  setU16(buf, at + 10, checksum(buf, at, 20));
  const u = at + 20;
  setU16(buf, u, sport);
  setU16(buf, u + 2, dport);
  setU16(buf, u + 4, udpLen);
  setU16(buf, u + 6, 0);
  setU16(buf, u + 6, checksum(buf, u, udpLen, pseudoSumV4(src, dst, UDP_PROTO, udpLen)) || 0xffff);
  return 20 + udpLen;
}
