/**
 * IPv4 header (RFC 791) with options, fragment fields and the DS field (RFC 2474 DSCP,
 * RFC 3168 ECN).
 *
 *   0        1       2           4      6             8     9      10     12    16    20
 *   | ver|ihl | dscp|ecn | total len | id | flags|frag | ttl | proto | csum | src | dst | options …
 *
 * Every setter keeps the header checksum valid with an RFC 1624 incremental update. Changing
 * an address also changes the TCP/UDP pseudo-header: `rewriteSrc` / `rewriteDst` patch an L4
 * checksum as well; the plain `src` / `dst` setters leave that to the caller.
 */
import { EMPTY, setU16, setU32, u16, u32 } from './bytes.js';
import { checksum, csumReplace16, patch32, verify } from './checksum.js';
import { WireError } from './errors.js';

export const IPV4_VER_IHL = 0;
/** The DS field: DSCP (6 bits) and ECN (2 bits), formerly Type of Service. */
export const IPV4_TOS = 1;
export const IPV4_TOTAL_LEN = 2;
export const IPV4_ID = 4;
/** Flags (3 bits) and fragment offset (13 bits, in 8-byte units). */
export const IPV4_FLAGS_FRAG = 6;
export const IPV4_TTL = 8;
export const IPV4_PROTOCOL = 9;
export const IPV4_CHECKSUM = 10;
export const IPV4_SRC = 12;
export const IPV4_DST = 16;
/** Header without options (IHL 5). */
export const IPV4_HEADER_LEN = 20;
/** Header with the most options IHL can describe (IHL 15). */
export const IPV4_MAX_HEADER_LEN = 60;

/** Bits of the 16-bit flags/fragment word. */
export const IPV4_FLAG_RESERVED = 0x8000;
export const IPV4_FLAG_DF = 0x4000;
export const IPV4_FLAG_MF = 0x2000;
export const IPV4_FRAG_MASK = 0x1fff;

/** Protocol numbers (IANA "Assigned Internet Protocol Numbers", shared with IPv6 next headers). */
export const IP_PROTO_ICMP = 1;
export const IP_PROTO_IGMP = 2;
export const IP_PROTO_IPIP = 4;
export const IP_PROTO_TCP = 6;
export const IP_PROTO_UDP = 17;
export const IP_PROTO_IPV6 = 41;
export const IP_PROTO_GRE = 47;
export const IP_PROTO_ESP = 50;
export const IP_PROTO_AH = 51;
export const IP_PROTO_ICMPV6 = 58;
export const IP_PROTO_L2TP = 115;
export const IP_PROTO_SCTP = 132;

/** Option types (RFC 791 §3.1; router alert RFC 2113). */
export const IPV4_OPT_EOL = 0;
export const IPV4_OPT_NOP = 1;
export const IPV4_OPT_RR = 7;
export const IPV4_OPT_TS = 68;
export const IPV4_OPT_LSRR = 131;
export const IPV4_OPT_SSRR = 137;
export const IPV4_OPT_RA = 148;
/** The "copied" flag of an option type: the option goes into every fragment (RFC 791 §3.1). */
export const IPV4_OPT_COPIED = 0x80;

/**
 * Checks the option list in b[start..end) (RFC 791 §3.1): EOL ends the list, NOP is one byte,
 * every other option has a length byte that counts the type and length bytes themselves, so it
 * is at least 2, and the option must end inside the header.
 */
function checkOptions(b: Uint8Array, start: number, end: number): WireError {
  let o = start;
  while (o < end) {
    const t = b[o]!;
    if (t === IPV4_OPT_EOL) return WireError.Ok;
    if (t === IPV4_OPT_NOP) {
      o++;
      continue;
    }
    if (o + 2 > end) return WireError.BadOption;
    const n = b[o + 1]!;
    if (n < 2 || o + n > end) return WireError.BadOption;
    o += n;
  }
  return WireError.Ok;
}

/**
 * The TTL decrement of `Ipv4View.decrementTtl` on the header at b[o] whose TTL the caller read
 * as `ttl` (> 0), for stages that read the header in place: TTL is the high byte of its word, so
 * the stored checksum grows by 0x0100 with the carry folded back in (RFC 1624), as Linux's
 * `ip_decrease_ttl` does.
 */
export function decrementTtl(b: Uint8Array, o: number, ttl: number): void {
  let c = u16(b, o + IPV4_CHECKSUM) + 0x0100;
  if (c >= 0xffff) c++;
  setU16(b, o + IPV4_CHECKSUM, c & 0xffff);
  b[o + IPV4_TTL] = ttl - 1;
}

/** Zero-copy view of one IPv4 packet. Reuse one instance per stage: `wrap()` re-points it. */
export class Ipv4View {
  buf: Uint8Array = EMPTY;
  off = 0;
  /** Bytes available from `off`; may exceed `totalLen` (Ethernet padding). */
  len = 0;
  /** IHL × 4, cached by `wrap()`. */
  headerLen = 0;

  /**
   * Points the view at buf[off..off+len) and checks the header (RFC 791 §3.1): version 4
   * (`BadVersion`), IHL >= 5 (`BadHeaderLength`), the header fits (`Truncated`), header length
   * <= total length <= len (`BadLength`), options well formed (`BadOption`).
   */
  wrap(buf: Uint8Array, off: number, len: number): WireError {
    const e = this.wrapQuoted(buf, off, len);
    if (e !== WireError.Ok) return e;
    if (u16(buf, off + IPV4_TOTAL_LEN) > len) return WireError.BadLength;
    return WireError.Ok;
  }

  /**
   * Like `wrap()`, but for the packet an ICMP error quotes (RFC 792, RFC 1812 §4.3.2.3): only the
   * header must be present, the total length may promise more bytes than `len` holds. Read no
   * further than `len` then; `payloadLen` still reports what the header says.
   */
  wrapQuoted(buf: Uint8Array, off: number, len: number): WireError {
    this.buf = buf;
    this.off = off;
    this.len = len;
    this.headerLen = 0;
    if (len < IPV4_HEADER_LEN || off + len > buf.length) return WireError.Truncated;
    const vi = buf[off]!;
    if (vi >>> 4 !== 4) return WireError.BadVersion;
    const hl = (vi & 0x0f) << 2;
    if (hl < IPV4_HEADER_LEN) return WireError.BadHeaderLength;
    if (hl > len) return WireError.Truncated;
    if (u16(buf, off + IPV4_TOTAL_LEN) < hl) return WireError.BadLength;
    this.headerLen = hl;
    if (hl > IPV4_HEADER_LEN) return checkOptions(buf, off + IPV4_HEADER_LEN, off + hl);
    return WireError.Ok;
  }

  get version(): number {
    return this.buf[this.off]! >>> 4;
  }

  /** Header length in 32-bit words. */
  get ihl(): number {
    return this.buf[this.off]! & 0x0f;
  }

  /** The whole DS byte (DSCP << 2 | ECN). */
  get tos(): number {
    return this.buf[this.off + IPV4_TOS]!;
  }

  set tos(v: number) {
    this.patchWord(IPV4_VER_IHL, (this.buf[this.off]! << 8) | (v & 0xff));
  }

  /** Differentiated Services codepoint (RFC 2474 §3). */
  get dscp(): number {
    return this.tos >>> 2;
  }

  set dscp(v: number) {
    this.tos = ((v & 0x3f) << 2) | (this.tos & 3);
  }

  /** ECN codepoint (RFC 3168 §5): 0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE. */
  get ecn(): number {
    return this.tos & 3;
  }

  set ecn(v: number) {
    this.tos = (this.tos & 0xfc) | (v & 3);
  }

  /** Total length from the header (not the buffer). */
  get totalLen(): number {
    return u16(this.buf, this.off + IPV4_TOTAL_LEN);
  }

  /** Rewrites the total length (when trimming or fragmenting); `len` is left alone. */
  set totalLen(v: number) {
    this.patchWord(IPV4_TOTAL_LEN, v);
  }

  /** Bytes after the header, according to the header's total length. */
  get payloadLen(): number {
    return this.totalLen - this.headerLen;
  }

  /** Absolute offset of the payload in `buf`. */
  get payloadOff(): number {
    return this.off + this.headerLen;
  }

  get id(): number {
    return u16(this.buf, this.off + IPV4_ID);
  }

  set id(v: number) {
    this.patchWord(IPV4_ID, v);
  }

  /** The 16-bit flags/fragment-offset word. */
  get flagsFrag(): number {
    return u16(this.buf, this.off + IPV4_FLAGS_FRAG);
  }

  set flagsFrag(v: number) {
    this.patchWord(IPV4_FLAGS_FRAG, v);
  }

  get dontFragment(): boolean {
    return (this.flagsFrag & IPV4_FLAG_DF) !== 0;
  }

  set dontFragment(v: boolean) {
    const w = this.flagsFrag;
    this.flagsFrag = v ? w | IPV4_FLAG_DF : w & ~IPV4_FLAG_DF;
  }

  get moreFragments(): boolean {
    return (this.flagsFrag & IPV4_FLAG_MF) !== 0;
  }

  set moreFragments(v: boolean) {
    const w = this.flagsFrag;
    this.flagsFrag = v ? w | IPV4_FLAG_MF : w & ~IPV4_FLAG_MF;
  }

  /** Fragment offset as carried: in 8-byte units. */
  get fragOffsetRaw(): number {
    return this.flagsFrag & IPV4_FRAG_MASK;
  }

  /** Fragment offset in bytes. */
  get fragOffset(): number {
    return (this.flagsFrag & IPV4_FRAG_MASK) << 3;
  }

  /** Part of a fragmented datagram: MF set or a non-zero offset (RFC 791 §2.3). */
  get isFragment(): boolean {
    return (this.flagsFrag & (IPV4_FLAG_MF | IPV4_FRAG_MASK)) !== 0;
  }

  /** The first fragment of a fragmented datagram (MF set, offset 0): it carries the L4 header. */
  get isFirstFragment(): boolean {
    return (this.flagsFrag & (IPV4_FLAG_MF | IPV4_FRAG_MASK)) === IPV4_FLAG_MF;
  }

  get ttl(): number {
    return this.buf[this.off + IPV4_TTL]!;
  }

  set ttl(v: number) {
    const o = this.off + IPV4_TTL;
    this.patchWord(IPV4_TTL, ((v & 0xff) << 8) | this.buf[o + 1]!);
  }

  /**
   * Forwarding's TTL decrement (RFC 1812 §5.3.1) with the checksum update Linux's
   * `ip_decrease_ttl` does: TTL is the high byte of its word, so the stored checksum grows by
   * 0x0100 with the carry folded back in (RFC 1624). Returns the new TTL. The caller checks
   * `ttl > 1` first (an expiring packet gets ICMP time exceeded instead); a TTL of 0 is left as is.
   */
  decrementTtl(): number {
    const t = this.buf[this.off + IPV4_TTL]!;
    if (t === 0) return 0;
    decrementTtl(this.buf, this.off, t);
    return t - 1;
  }

  get protocol(): number {
    return this.buf[this.off + IPV4_PROTOCOL]!;
  }

  set protocol(v: number) {
    this.patchWord(IPV4_TTL, (this.buf[this.off + IPV4_TTL]! << 8) | (v & 0xff));
  }

  get checksum(): number {
    return u16(this.buf, this.off + IPV4_CHECKSUM);
  }

  /** True when the header (options included) sums to all-ones (RFC 791 §3.1, RFC 1071). */
  verifyChecksum(): boolean {
    return verify(this.buf, this.off, this.headerLen);
  }

  /** Recomputes the header checksum from scratch. */
  fillChecksum(): void {
    const b = this.buf;
    const o = this.off;
    setU16(b, o + IPV4_CHECKSUM, 0);
    setU16(b, o + IPV4_CHECKSUM, checksum(b, o, this.headerLen));
  }

  /** Source address as an unsigned 32-bit number. */
  get src(): number {
    return u32(this.buf, this.off + IPV4_SRC);
  }

  /** Rewrites the source and patches the header checksum (not any L4 checksum). */
  set src(v: number) {
    this.patchAddr(IPV4_SRC, v >>> 0);
  }

  get dst(): number {
    return u32(this.buf, this.off + IPV4_DST);
  }

  /** Rewrites the destination and patches the header checksum (not any L4 checksum). */
  set dst(v: number) {
    this.patchAddr(IPV4_DST, v >>> 0);
  }

  /**
   * NAT's source rewrite: the header checksum and the TCP/UDP checksum at absolute offset
   * `l4CsumOff`, which covers the address through the pseudo-header (RFC 793 §3.1, RFC 768).
   * `udp` keeps a zero "no checksum" UDP field at zero. Only valid when the L4 header is in this
   * packet (not a non-first fragment); ICMP has no pseudo-header, so use the `src` setter.
   */
  rewriteSrc(v: number, l4CsumOff: number, udp: boolean): void {
    patch32(this.buf, l4CsumOff, this.src, v >>> 0, udp);
    this.patchAddr(IPV4_SRC, v >>> 0);
  }

  /** Destination counterpart of `rewriteSrc`. */
  rewriteDst(v: number, l4CsumOff: number, udp: boolean): void {
    patch32(this.buf, l4CsumOff, this.dst, v >>> 0, udp);
    this.patchAddr(IPV4_DST, v >>> 0);
  }

  /** Absolute offset of the options (right after the fixed header). */
  get optionsOff(): number {
    return this.off + IPV4_HEADER_LEN;
  }

  /** Bytes of options and their padding (headerLen - 20). */
  get optionsLen(): number {
    return this.headerLen - IPV4_HEADER_LEN;
  }

  /**
   * Absolute offset of the first option, or -1 when there is none. Options are walked with
   * `nextOption()`; NOPs are reported, EOL ends the walk (what follows it is padding).
   */
  firstOption(): number {
    return this.optionAt(this.off + IPV4_HEADER_LEN);
  }

  /** Absolute offset of the option after the one at `o` (from `firstOption`/`nextOption`), or -1. */
  nextOption(o: number): number {
    return this.optionAt(o + this.optionLen(o));
  }

  /** Type byte of the option at absolute offset `o`. */
  optionType(o: number): number {
    return this.buf[o]!;
  }

  /** Whole length of the option at `o`: 1 for NOP (and EOL), else its length byte. */
  optionLen(o: number): number {
    const t = this.buf[o]!;
    return t === IPV4_OPT_NOP || t === IPV4_OPT_EOL ? 1 : this.buf[o + 1]!;
  }

  /** Absolute offset of the option's data (after its type and length bytes). */
  optionDataOff(o: number): number {
    return o + 2;
  }

  private optionAt(o: number): number {
    if (o >= this.off + this.headerLen || this.buf[o] === IPV4_OPT_EOL) return -1;
    return o;
  }

  /** Writes the 16-bit word at header offset `field` and patches the checksum (RFC 1624). */
  private patchWord(field: number, v: number): void {
    const b = this.buf;
    const o = this.off;
    const c = csumReplace16(u16(b, o + IPV4_CHECKSUM), u16(b, o + field), v & 0xffff);
    setU16(b, o + field, v);
    setU16(b, o + IPV4_CHECKSUM, c);
  }

  private patchAddr(field: number, v: number): void {
    const b = this.buf;
    const o = this.off;
    patch32(b, o + IPV4_CHECKSUM, u32(b, o + field), v);
    setU32(b, o + field, v);
  }
}

/** Plain representation of an IPv4 header (for building packets and for tests). */
export interface Ipv4Repr {
  dscp: number;
  ecn: number;
  id: number;
  /** IPV4_FLAG_* bits (DF, MF and the reserved bit, carried for exact round trips). */
  flags: number;
  /** In bytes; a multiple of 8. */
  fragOffset: number;
  ttl: number;
  protocol: number;
  src: number;
  dst: number;
  /** Raw option bytes including padding; emit pads to a multiple of 4 with EOL (zero) bytes. */
  options: Uint8Array;
  /** Bytes after the header; emit writes totalLen = header length + payloadLen. */
  payloadLen: number;
}

export function parseIpv4(v: Ipv4View): Ipv4Repr {
  const ff = v.flagsFrag;
  return {
    dscp: v.dscp,
    ecn: v.ecn,
    id: v.id,
    flags: ff & ~IPV4_FRAG_MASK,
    fragOffset: (ff & IPV4_FRAG_MASK) << 3,
    ttl: v.ttl,
    protocol: v.protocol,
    src: v.src,
    dst: v.dst,
    options: v.buf.slice(v.optionsOff, v.off + v.headerLen),
    payloadLen: v.payloadLen,
  };
}

export function ipv4HeaderLen(r: Ipv4Repr): number {
  return IPV4_HEADER_LEN + ((r.options.length + 3) & ~3);
}

/** Writes the header (checksum filled) into buf at off; returns its length. The payload follows. */
export function emitIpv4(r: Ipv4Repr, buf: Uint8Array, off: number): number {
  const n = ipv4HeaderLen(r);
  if (n > IPV4_MAX_HEADER_LEN) throw new RangeError(`IPv4 options of ${r.options.length} bytes exceed 40`);
  if (off + n > buf.length) throw new RangeError(`IPv4 header needs ${n} bytes at ${off}`);
  buf[off] = 0x40 | (n >>> 2);
  buf[off + IPV4_TOS] = ((r.dscp & 0x3f) << 2) | (r.ecn & 3);
  setU16(buf, off + IPV4_TOTAL_LEN, n + r.payloadLen);
  setU16(buf, off + IPV4_ID, r.id);
  setU16(buf, off + IPV4_FLAGS_FRAG, (r.flags & ~IPV4_FRAG_MASK) | ((r.fragOffset >>> 3) & IPV4_FRAG_MASK));
  buf[off + IPV4_TTL] = r.ttl;
  buf[off + IPV4_PROTOCOL] = r.protocol;
  setU16(buf, off + IPV4_CHECKSUM, 0);
  setU32(buf, off + IPV4_SRC, r.src);
  setU32(buf, off + IPV4_DST, r.dst);
  buf.set(r.options, off + IPV4_HEADER_LEN);
  buf.fill(IPV4_OPT_EOL, off + IPV4_HEADER_LEN + r.options.length, off + n);
  setU16(buf, off + IPV4_CHECKSUM, checksum(buf, off, n));
  return n;
}
