/**
 * IPv6 header and extension-header chain (RFC 8200).
 *
 *   0                  4             6      7          8     24    40
 *   | ver|tc|flow label | payload len | next | hop lim | src | dst | ext headers … | upper layer …
 *
 * `wrap()` walks the extension headers once and leaves the answer in the view: the upper-layer
 * protocol and its offset, and where the Fragment header is (if any). Addresses stay in the
 * buffer; accessors hand out offsets, copy into the caller's array or compare in place.
 * There is no header checksum; changing an address changes every upper-layer checksum through
 * the pseudo-header (RFC 8200 §8.1): `rewriteSrc` / `rewriteDst` patch one for you.
 */
import { EMPTY, setU16, u16, u32 } from './bytes.js';
import { fold } from './checksum.js';
import { WireError } from './errors.js';

export const IPV6_VER_TC_FLOW = 0;
export const IPV6_PAYLOAD_LEN = 4;
export const IPV6_NEXT_HEADER = 6;
export const IPV6_HOP_LIMIT = 7;
export const IPV6_SRC = 8;
export const IPV6_DST = 24;
export const IPV6_HEADER_LEN = 40;
export const IPV6_ADDR_LEN = 16;

/** Next-header values of the extension headers we walk (RFC 8200 §4, RFC 4302). */
export const IPV6_NH_HOP_BY_HOP = 0;
export const IPV6_NH_ROUTING = 43;
export const IPV6_NH_FRAGMENT = 44;
export const IPV6_NH_AH = 51;
/** Nothing follows (RFC 8200 §4.7). */
export const IPV6_NH_NONE = 59;
export const IPV6_NH_DEST_OPTS = 60;

/** Extension headers we walk before giving up with `TooDeep`. */
export const IPV6_MAX_EXT_HEADERS = 8;
/** Fragment header length and its offset/M word (RFC 8200 §4.5). */
export const IPV6_FRAG_HEADER_LEN = 8;
export const IPV6_FRAG_OFFSET_MASK = 0xfff8;
export const IPV6_FRAG_M = 1;

/** Zero-copy view of one IPv6 packet. Reuse one instance per stage: `wrap()` re-points it. */
export class Ipv6View {
  buf: Uint8Array = EMPTY;
  off = 0;
  /** Bytes available from `off`; may exceed 40 + payloadLen (Ethernet padding). */
  len = 0;
  /** Protocol after the extension headers (TCP, UDP, ICMPv6, ESP, IPV6_NH_NONE, …). */
  upperProtocol = 0;
  /** Absolute offset where the upper-layer header starts (the end of the extension headers). */
  upperOff = 0;
  /** Absolute offset of the Fragment header, or -1 when the packet is not a fragment. */
  fragHeaderOff = -1;
  /** Number of extension headers walked. */
  extCount = 0;

  /**
   * Points the view at buf[off..off+len), checks version 6 (`BadVersion`) and that the payload
   * length fits (`BadLength`), and walks the extension headers (see `walk`).
   */
  wrap(buf: Uint8Array, off: number, len: number): WireError {
    const e = this.wrapFixed(buf, off, len);
    if (e !== WireError.Ok) return e;
    const end = off + IPV6_HEADER_LEN + u16(buf, off + IPV6_PAYLOAD_LEN);
    if (end > off + len) return WireError.BadLength;
    return this.walk(end);
  }

  /**
   * Like `wrap()`, for the packet an ICMPv6 error quotes (RFC 4443 §2.4 (c)): the payload length
   * may promise more than `len` holds; extension headers are walked within what is there.
   */
  wrapQuoted(buf: Uint8Array, off: number, len: number): WireError {
    const e = this.wrapFixed(buf, off, len);
    if (e !== WireError.Ok) return e;
    const end = off + IPV6_HEADER_LEN + u16(buf, off + IPV6_PAYLOAD_LEN);
    return this.walk(Math.min(end, off + len));
  }

  private wrapFixed(buf: Uint8Array, off: number, len: number): WireError {
    this.buf = buf;
    this.off = off;
    this.len = len;
    this.upperProtocol = 0;
    this.upperOff = off + IPV6_HEADER_LEN;
    this.fragHeaderOff = -1;
    this.extCount = 0;
    if (len < IPV6_HEADER_LEN || off + len > buf.length) return WireError.Truncated;
    if (buf[off]! >>> 4 !== 6) return WireError.BadVersion;
    return WireError.Ok;
  }

  /**
   * Walks the extension headers up to `end` (RFC 8200 §4). Hop-by-Hop must come first (§4.3,
   * else `BadValue`); Routing, Destination Options (`(len + 1) * 8` bytes, §4.4, §4.6),
   * Fragment (8 bytes, §4.5; a second one is `BadValue`, §4.1 allows each header once) and
   * AH (`(len + 2) * 4` bytes, RFC 4302 §2.2) are skipped; a header that runs past `end` is
   * `BadLength`; more than IPV6_MAX_EXT_HEADERS is `TooDeep`. A non-first fragment stops the
   * walk after its Fragment header: what follows is the middle of the datagram, not a header.
   */
  private walk(end: number): WireError {
    const b = this.buf;
    let nh = b[this.off + IPV6_NEXT_HEADER]!;
    let o = this.off + IPV6_HEADER_LEN;
    let n = 0;
    for (;;) {
      let hl: number;
      if (nh === IPV6_NH_ROUTING || nh === IPV6_NH_DEST_OPTS) {
        if (o + 2 > end) return WireError.BadLength;
        hl = (b[o + 1]! + 1) << 3;
      } else if (nh === IPV6_NH_HOP_BY_HOP) {
        if (n !== 0) return WireError.BadValue;
        if (o + 2 > end) return WireError.BadLength;
        hl = (b[o + 1]! + 1) << 3;
      } else if (nh === IPV6_NH_FRAGMENT) {
        if (this.fragHeaderOff >= 0) return WireError.BadValue;
        hl = IPV6_FRAG_HEADER_LEN;
        this.fragHeaderOff = o;
      } else if (nh === IPV6_NH_AH) {
        if (o + 2 > end) return WireError.BadLength;
        hl = (b[o + 1]! + 2) << 2;
      } else {
        break;
      }
      if (n === IPV6_MAX_EXT_HEADERS) return WireError.TooDeep;
      if (o + hl > end) return WireError.BadLength;
      n++;
      nh = b[o]!;
      const here = o;
      o += hl;
      if (here === this.fragHeaderOff && (u16(b, here + 2) & IPV6_FRAG_OFFSET_MASK) !== 0) break;
    }
    this.upperProtocol = nh;
    this.upperOff = o;
    this.extCount = n;
    return WireError.Ok;
  }

  get version(): number {
    return this.buf[this.off]! >>> 4;
  }

  /** Traffic class: DSCP << 2 | ECN (RFC 8200 §7, RFC 2474, RFC 3168). */
  get trafficClass(): number {
    const b = this.buf;
    const o = this.off;
    return ((b[o]! & 0x0f) << 4) | (b[o + 1]! >>> 4);
  }

  set trafficClass(v: number) {
    const b = this.buf;
    const o = this.off;
    b[o] = (b[o]! & 0xf0) | ((v >>> 4) & 0x0f);
    b[o + 1] = ((v & 0x0f) << 4) | (b[o + 1]! & 0x0f);
  }

  get dscp(): number {
    return this.trafficClass >>> 2;
  }

  set dscp(v: number) {
    this.trafficClass = ((v & 0x3f) << 2) | (this.trafficClass & 3);
  }

  get ecn(): number {
    return this.trafficClass & 3;
  }

  set ecn(v: number) {
    this.trafficClass = (this.trafficClass & 0xfc) | (v & 3);
  }

  /** 20-bit flow label (RFC 6437). */
  get flowLabel(): number {
    const b = this.buf;
    const o = this.off;
    return ((b[o + 1]! & 0x0f) << 16) | u16(b, o + 2);
  }

  set flowLabel(v: number) {
    const b = this.buf;
    const o = this.off;
    b[o + 1] = (b[o + 1]! & 0xf0) | ((v >>> 16) & 0x0f);
    setU16(b, o + 2, v);
  }

  /** Payload length from the header: extension headers and upper layer, not the buffer. */
  get payloadLen(): number {
    return u16(this.buf, this.off + IPV6_PAYLOAD_LEN);
  }

  set payloadLen(v: number) {
    setU16(this.buf, this.off + IPV6_PAYLOAD_LEN, v);
  }

  /** Absolute offset of the payload (the first extension header, or the upper layer). */
  get payloadOff(): number {
    return this.off + IPV6_HEADER_LEN;
  }

  /** The Next Header field of the fixed header (the first extension header, if any). */
  get nextHeader(): number {
    return this.buf[this.off + IPV6_NEXT_HEADER]!;
  }

  get hopLimit(): number {
    return this.buf[this.off + IPV6_HOP_LIMIT]!;
  }

  set hopLimit(v: number) {
    this.buf[this.off + IPV6_HOP_LIMIT] = v;
  }

  /**
   * Forwarding's hop-limit decrement (RFC 8200 §3); returns the new value. The caller checks
   * `hopLimit > 1` first (RFC 4443 §3.3 time exceeded); a hop limit of 0 is left as is.
   */
  decrementHopLimit(): number {
    const o = this.off + IPV6_HOP_LIMIT;
    const h = this.buf[o]!;
    if (h === 0) return 0;
    this.buf[o] = h - 1;
    return h - 1;
  }

  /** Bytes of extension headers between the fixed header and the upper layer. */
  get extLen(): number {
    return this.upperOff - this.off - IPV6_HEADER_LEN;
  }

  /** Upper-layer length according to the payload length field. */
  get upperLen(): number {
    return this.off + IPV6_HEADER_LEN + this.payloadLen - this.upperOff;
  }

  get srcOff(): number {
    return this.off + IPV6_SRC;
  }

  get dstOff(): number {
    return this.off + IPV6_DST;
  }

  /** Copies the source address into out[outOff..outOff+16). */
  copySrc(out: Uint8Array, outOff = 0): void {
    copy16(this.buf, this.off + IPV6_SRC, out, outOff);
  }

  copyDst(out: Uint8Array, outOff = 0): void {
    copy16(this.buf, this.off + IPV6_DST, out, outOff);
  }

  /** True when the source equals a[aOff..aOff+16). */
  srcEquals(a: Uint8Array, aOff = 0): boolean {
    return equal16(this.buf, this.off + IPV6_SRC, a, aOff);
  }

  dstEquals(a: Uint8Array, aOff = 0): boolean {
    return equal16(this.buf, this.off + IPV6_DST, a, aOff);
  }

  /** Overwrites the source with a[aOff..aOff+16); upper-layer checksums are the caller's. */
  setSrc(a: Uint8Array, aOff = 0): void {
    copy16(a, aOff, this.buf, this.off + IPV6_SRC);
  }

  setDst(a: Uint8Array, aOff = 0): void {
    copy16(a, aOff, this.buf, this.off + IPV6_DST);
  }

  /** Multicast destination (ff00::/8, RFC 4291 §2.7). */
  get isMulticastDst(): boolean {
    return this.buf[this.off + IPV6_DST] === 0xff;
  }

  /**
   * Rewrites the source and patches the upper-layer checksum at absolute offset `l4CsumOff`
   * (TCP, UDP and ICMPv6 all cover the pseudo-header, RFC 8200 §8.1) with RFC 1624 updates.
   * `udp` leaves a zero UDP checksum alone and sends a computed zero as 0xffff (RFC 768).
   */
  rewriteSrc(a: Uint8Array, aOff: number, l4CsumOff: number, udp: boolean): void {
    rewriteAddr(this.buf, this.off + IPV6_SRC, a, aOff, l4CsumOff, udp);
  }

  rewriteDst(a: Uint8Array, aOff: number, l4CsumOff: number, udp: boolean): void {
    rewriteAddr(this.buf, this.off + IPV6_DST, a, aOff, l4CsumOff, udp);
  }

  /** A Fragment header is present (possibly an atomic fragment, RFC 6946). */
  get isFragment(): boolean {
    return this.fragHeaderOff >= 0;
  }

  /** Fragment offset in bytes. Only when `isFragment`. */
  get fragOffset(): number {
    return u16(this.buf, this.fragHeaderOff + 2) & IPV6_FRAG_OFFSET_MASK;
  }

  /** M flag: more fragments follow. Only when `isFragment`. */
  get fragMore(): boolean {
    return (u16(this.buf, this.fragHeaderOff + 2) & IPV6_FRAG_M) !== 0;
  }

  /** Identification. Only when `isFragment`. */
  get fragId(): number {
    return u32(this.buf, this.fragHeaderOff + 4);
  }

  /** Next Header of the Fragment header: the first header of the fragmentable part. */
  get fragNextHeader(): number {
    return this.buf[this.fragHeaderOff]!;
  }
}

function copy16(from: Uint8Array, fromOff: number, to: Uint8Array, toOff: number): void {
  for (let i = 0; i < IPV6_ADDR_LEN; i++) to[toOff + i] = from[fromOff + i]!;
}

function equal16(x: Uint8Array, xOff: number, y: Uint8Array, yOff: number): boolean {
  for (let i = 0; i < IPV6_ADDR_LEN; i++) if (x[xOff + i] !== y[yOff + i]) return false;
  return true;
}

/** RFC 1624 eqn. 3 over the eight words of an address: HC' = ~(~HC + Σ~m + Σm'). */
function rewriteAddr(
  b: Uint8Array,
  field: number,
  a: Uint8Array,
  aOff: number,
  csumOff: number,
  udp: boolean,
): void {
  const old = u16(b, csumOff);
  if (!(udp && old === 0)) {
    let s = ~old & 0xffff;
    for (let i = 0; i < IPV6_ADDR_LEN; i += 2) s += (~u16(b, field + i) & 0xffff) + u16(a, aOff + i);
    let c = ~fold(s) & 0xffff;
    if (udp && c === 0) c = 0xffff;
    setU16(b, csumOff, c);
  }
  copy16(a, aOff, b, field);
}

/** Plain representation of an IPv6 header and its extension headers (for building and tests). */
export interface Ipv6Repr {
  dscp: number;
  ecn: number;
  flowLabel: number;
  /** Next Header of the fixed header (the first extension header when there are any). */
  nextHeader: number;
  hopLimit: number;
  src: Uint8Array;
  dst: Uint8Array;
  /** The extension-header chain as raw bytes, carried through exactly. */
  extHeaders: Uint8Array;
  /** Bytes after the extension headers; emit writes payload length = extHeaders + upperLen. */
  upperLen: number;
}

export function parseIpv6(v: Ipv6View): Ipv6Repr {
  const o = v.off;
  return {
    dscp: v.dscp,
    ecn: v.ecn,
    flowLabel: v.flowLabel,
    nextHeader: v.nextHeader,
    hopLimit: v.hopLimit,
    src: v.buf.slice(o + IPV6_SRC, o + IPV6_SRC + IPV6_ADDR_LEN),
    dst: v.buf.slice(o + IPV6_DST, o + IPV6_DST + IPV6_ADDR_LEN),
    extHeaders: v.buf.slice(o + IPV6_HEADER_LEN, v.upperOff),
    upperLen: v.upperLen,
  };
}

export function ipv6HeaderLen(r: Ipv6Repr): number {
  return IPV6_HEADER_LEN + r.extHeaders.length;
}

/** Writes the fixed header and the extension headers into buf at off; returns their length. */
export function emitIpv6(r: Ipv6Repr, buf: Uint8Array, off: number): number {
  const n = ipv6HeaderLen(r);
  if (off + n > buf.length) throw new RangeError(`IPv6 header needs ${n} bytes at ${off}`);
  const tc = ((r.dscp & 0x3f) << 2) | (r.ecn & 3);
  buf[off] = 0x60 | (tc >>> 4);
  buf[off + 1] = ((tc & 0x0f) << 4) | ((r.flowLabel >>> 16) & 0x0f);
  setU16(buf, off + 2, r.flowLabel);
  setU16(buf, off + IPV6_PAYLOAD_LEN, r.extHeaders.length + r.upperLen);
  buf[off + IPV6_NEXT_HEADER] = r.nextHeader;
  buf[off + IPV6_HOP_LIMIT] = r.hopLimit;
  buf.set(r.src.subarray(0, IPV6_ADDR_LEN), off + IPV6_SRC);
  buf.set(r.dst.subarray(0, IPV6_ADDR_LEN), off + IPV6_DST);
  buf.set(r.extHeaders, off + IPV6_HEADER_LEN);
  return n;
}
