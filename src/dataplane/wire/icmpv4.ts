/**
 * ICMP for IPv4 (RFC 792), with the router rules of RFC 1812 §4.3.
 *
 *   0      1      2      4                8
 *   | type | code | csum | rest of header | data …
 *
 * Rest of header: identifier and sequence for queries (echo, timestamp, …); for errors unused,
 * except next-hop MTU (frag needed, RFC 1191 §4), pointer (parameter problem), gateway
 * (redirect) and the RFC 4884 length byte. Error data is the offending IP packet, quoted.
 * The checksum covers the whole message, so wrap the view over exactly the IP payload
 * (`Ipv4View.payloadOff`, `payloadLen`), never over Ethernet padding.
 */
import { EMPTY, setU16, setU32, u16, u32 } from './bytes.js';
import { checksum, csumReplace32, rewrite16, verify } from './checksum.js';
import { WireError } from './errors.js';
import { IPV4_HEADER_LEN } from './ipv4.js';

export const ICMPV4_TYPE = 0;
export const ICMPV4_CODE = 1;
export const ICMPV4_CHECKSUM = 2;
export const ICMPV4_REST = 4;
export const ICMPV4_ID = 4;
export const ICMPV4_SEQ = 6;
/** Parameter problem: octet of the quoted header that is wrong (RFC 792). */
export const ICMPV4_POINTER = 4;
/** RFC 4884 §4.1: length of the quoted datagram in 32-bit words (types 3, 11, 12). */
export const ICMPV4_ORIG_LEN = 5;
/** Frag needed: next-hop MTU, low 16 bits of the rest of header (RFC 1191 §4). */
export const ICMPV4_MTU = 6;
/** Redirect: the better gateway. */
export const ICMPV4_GATEWAY = 4;
export const ICMPV4_HEADER_LEN = 8;

export const ICMPV4_ECHO_REPLY = 0;
export const ICMPV4_DEST_UNREACH = 3;
export const ICMPV4_SOURCE_QUENCH = 4;
export const ICMPV4_REDIRECT = 5;
export const ICMPV4_ECHO_REQUEST = 8;
export const ICMPV4_ROUTER_ADVERT = 9;
export const ICMPV4_ROUTER_SOLICIT = 10;
export const ICMPV4_TIME_EXCEEDED = 11;
export const ICMPV4_PARAM_PROBLEM = 12;
export const ICMPV4_TIMESTAMP = 13;
export const ICMPV4_TIMESTAMP_REPLY = 14;
export const ICMPV4_INFO_REQUEST = 15;
export const ICMPV4_INFO_REPLY = 16;
export const ICMPV4_ADDR_MASK_REQUEST = 17;
export const ICMPV4_ADDR_MASK_REPLY = 18;

/** Destination unreachable codes (RFC 792, RFC 1812 §5.2.7.1). */
export const ICMPV4_UNREACH_NET = 0;
export const ICMPV4_UNREACH_HOST = 1;
export const ICMPV4_UNREACH_PROTOCOL = 2;
export const ICMPV4_UNREACH_PORT = 3;
export const ICMPV4_UNREACH_FRAG_NEEDED = 4;
export const ICMPV4_UNREACH_SRC_ROUTE_FAILED = 5;
export const ICMPV4_UNREACH_ADMIN_PROHIBITED = 13;
/** Time exceeded codes (RFC 792). */
export const ICMPV4_TIME_EXCEEDED_TTL = 0;
export const ICMPV4_TIME_EXCEEDED_REASSEMBLY = 1;

/** RFC 1812 §4.3.2.3: an ICMP error datagram, IP header included, is at most 576 bytes. */
export const ICMPV4_ERROR_MAX_DATAGRAM = 576;
/** Most bytes of the offending packet an error quotes behind a 20-byte IP header. */
export const ICMPV4_ERROR_MAX_QUOTE = ICMPV4_ERROR_MAX_DATAGRAM - IPV4_HEADER_LEN - ICMPV4_HEADER_LEN;

/** Error messages (RFC 1122 §3.2.2): they quote the packet that caused them. */
export function icmpv4IsError(type: number): boolean {
  return (
    type === ICMPV4_DEST_UNREACH ||
    type === ICMPV4_TIME_EXCEEDED ||
    type === ICMPV4_PARAM_PROBLEM ||
    type === ICMPV4_REDIRECT ||
    type === ICMPV4_SOURCE_QUENCH
  );
}

/** Query messages: request/reply pairs that carry an identifier and sequence number. */
export function icmpv4IsQuery(type: number): boolean {
  return (
    type === ICMPV4_ECHO_REQUEST ||
    type === ICMPV4_ECHO_REPLY ||
    (type >= ICMPV4_TIMESTAMP && type <= ICMPV4_ADDR_MASK_REPLY)
  );
}

/** Types whose byte 5 is the RFC 4884 length of the quoted datagram (RFC 4884 §4). */
function hasOrigLen(type: number): boolean {
  return type === ICMPV4_DEST_UNREACH || type === ICMPV4_TIME_EXCEEDED || type === ICMPV4_PARAM_PROBLEM;
}

/** Zero-copy view of one ICMPv4 message. Reuse one instance per stage: `wrap()` re-points it. */
export class Icmpv4View {
  buf: Uint8Array = EMPTY;
  off = 0;
  /** The whole message: the checksum covers exactly these bytes. */
  len = 0;

  /**
   * Points the view at buf[off..off+len). An error must quote at least an IPv4 header
   * (RFC 792: "Internet Header + 64 bits"; `Truncated` otherwise), and an RFC 4884 length
   * must fit in the message (`BadLength`).
   */
  wrap(buf: Uint8Array, off: number, len: number): WireError {
    this.buf = buf;
    this.off = off;
    this.len = len;
    if (len < ICMPV4_HEADER_LEN || off + len > buf.length) return WireError.Truncated;
    const t = buf[off]!;
    if (icmpv4IsError(t)) {
      if (len < ICMPV4_HEADER_LEN + IPV4_HEADER_LEN) return WireError.Truncated;
      if (hasOrigLen(t) && buf[off + ICMPV4_ORIG_LEN]! << 2 > len - ICMPV4_HEADER_LEN) {
        return WireError.BadLength;
      }
    }
    return WireError.Ok;
  }

  get type(): number {
    return this.buf[this.off]!;
  }

  /** Rewrites the type (echo request → reply) and patches the checksum. */
  set type(v: number) {
    const b = this.buf;
    const o = this.off;
    rewrite16(b, o, ((v & 0xff) << 8) | b[o + ICMPV4_CODE]!, o + ICMPV4_CHECKSUM);
  }

  get code(): number {
    return this.buf[this.off + ICMPV4_CODE]!;
  }

  set code(v: number) {
    const b = this.buf;
    const o = this.off;
    rewrite16(b, o, (b[o]! << 8) | (v & 0xff), o + ICMPV4_CHECKSUM);
  }

  get checksum(): number {
    return u16(this.buf, this.off + ICMPV4_CHECKSUM);
  }

  /** True when the whole message sums to all-ones (RFC 792). */
  verifyChecksum(): boolean {
    return verify(this.buf, this.off, this.len);
  }

  fillChecksum(): void {
    const b = this.buf;
    const o = this.off;
    setU16(b, o + ICMPV4_CHECKSUM, 0);
    setU16(b, o + ICMPV4_CHECKSUM, checksum(b, o, this.len));
  }

  get isError(): boolean {
    return icmpv4IsError(this.buf[this.off]!);
  }

  get isQuery(): boolean {
    return icmpv4IsQuery(this.buf[this.off]!);
  }

  /** The 32-bit rest of header. */
  get rest(): number {
    return u32(this.buf, this.off + ICMPV4_REST);
  }

  set rest(v: number) {
    const b = this.buf;
    const o = this.off;
    setU16(
      b,
      o + ICMPV4_CHECKSUM,
      csumReplace32(u16(b, o + ICMPV4_CHECKSUM), u32(b, o + ICMPV4_REST), v >>> 0),
    );
    setU32(b, o + ICMPV4_REST, v);
  }

  /** Query identifier (what NAT maps like a port, RFC 5508 §3.1). */
  get id(): number {
    return u16(this.buf, this.off + ICMPV4_ID);
  }

  set id(v: number) {
    rewrite16(this.buf, this.off + ICMPV4_ID, v & 0xffff, this.off + ICMPV4_CHECKSUM);
  }

  get seq(): number {
    return u16(this.buf, this.off + ICMPV4_SEQ);
  }

  set seq(v: number) {
    rewrite16(this.buf, this.off + ICMPV4_SEQ, v & 0xffff, this.off + ICMPV4_CHECKSUM);
  }

  /** Next-hop MTU of a frag-needed error (RFC 1191 §4); 0 from pre-RFC 1191 routers. */
  get nextHopMtu(): number {
    return u16(this.buf, this.off + ICMPV4_MTU);
  }

  set nextHopMtu(v: number) {
    rewrite16(this.buf, this.off + ICMPV4_MTU, v & 0xffff, this.off + ICMPV4_CHECKSUM);
  }

  /** Parameter problem: offset of the offending octet in the quoted header (RFC 792). */
  get pointer(): number {
    return this.buf[this.off + ICMPV4_POINTER]!;
  }

  /** Redirect: the gateway to use instead, as an unsigned 32-bit number (RFC 792). */
  get gateway(): number {
    return u32(this.buf, this.off + ICMPV4_GATEWAY);
  }

  /** Absolute offset of the data: the quoted packet of an error, the payload of an echo. */
  get dataOff(): number {
    return this.off + ICMPV4_HEADER_LEN;
  }

  get dataLen(): number {
    return this.len - ICMPV4_HEADER_LEN;
  }

  /** Absolute offset of the quoted IP packet of an error. Only when `isError`. */
  get quotedOff(): number {
    return this.off + ICMPV4_HEADER_LEN;
  }

  /**
   * Bytes of the quoted IP packet: all the data, or the RFC 4884 length when the sender set one
   * (extension objects follow it then). Wrap it with `Ipv4View.wrapQuoted`: it is usually cut short.
   */
  get quotedLen(): number {
    const b = this.buf;
    const o = this.off;
    const words = hasOrigLen(b[o]!) ? b[o + ICMPV4_ORIG_LEN]! : 0;
    return words === 0 ? this.len - ICMPV4_HEADER_LEN : words << 2;
  }
}

/** Plain representation of an ICMPv4 message (for building packets and for tests). */
export interface Icmpv4Repr {
  type: number;
  code: number;
  /** The 32-bit rest of header (id << 16 | seq for queries). */
  rest: number;
  /** Everything after the 8-byte header. */
  data: Uint8Array;
}

export function parseIcmpv4(v: Icmpv4View): Icmpv4Repr {
  return {
    type: v.type,
    code: v.code,
    rest: v.rest,
    data: v.buf.slice(v.off + ICMPV4_HEADER_LEN, v.off + v.len),
  };
}

/** Writes the whole message (checksum filled) into buf at off; returns its length. */
export function emitIcmpv4(r: Icmpv4Repr, buf: Uint8Array, off: number): number {
  const n = ICMPV4_HEADER_LEN + r.data.length;
  if (off + n > buf.length) throw new RangeError(`ICMPv4 message needs ${n} bytes at ${off}`);
  buf[off] = r.type;
  buf[off + ICMPV4_CODE] = r.code;
  setU16(buf, off + ICMPV4_CHECKSUM, 0);
  setU32(buf, off + ICMPV4_REST, r.rest);
  buf.set(r.data, off + ICMPV4_HEADER_LEN);
  setU16(buf, off + ICMPV4_CHECKSUM, checksum(buf, off, n));
  return n;
}

/** Length of the message `emitIcmpv4Error` writes for an offending packet of `qLen` bytes. */
export function icmpv4ErrorLen(qLen: number): number {
  return ICMPV4_HEADER_LEN + Math.min(qLen, ICMPV4_ERROR_MAX_QUOTE);
}

/**
 * Builds an ICMP error about the IP packet q[qOff..qOff+qLen) into buf at off and returns the
 * bytes written. Pass the packet's real length (`Ipv4View.totalLen`), not Ethernet padding.
 * The quote is the packet as received, as much of it as fits in a 576-byte datagram behind a
 * 20-byte IP header (RFC 1812 §4.3.2.3). `info` fills the rest of header: the next-hop MTU for
 * frag needed (RFC 1191 §4), the pointer for parameter problem, the gateway for redirect
 * (RFC 792); other errors leave it zero. The quote may overlap `buf` (it is moved first).
 * Throws RangeError when `type` is not an error type or `buf` is too small.
 */
export function emitIcmpv4Error(
  type: number,
  code: number,
  q: Uint8Array,
  qOff: number,
  qLen: number,
  buf: Uint8Array,
  off: number,
  info = 0,
): number {
  if (!icmpv4IsError(type)) throw new RangeError(`ICMPv4 type ${type} is not an error`);
  const n = icmpv4ErrorLen(qLen);
  if (off + n > buf.length) throw new RangeError(`ICMPv4 error needs ${n} bytes at ${off}`);
  const d = off + ICMPV4_HEADER_LEN;
  const qn = n - ICMPV4_HEADER_LEN;
  if (q === buf) buf.copyWithin(d, qOff, qOff + qn);
  else for (let i = 0; i < qn; i++) buf[d + i] = q[qOff + i]!;
  let rest = 0;
  if (type === ICMPV4_DEST_UNREACH && code === ICMPV4_UNREACH_FRAG_NEEDED) rest = info & 0xffff;
  else if (type === ICMPV4_PARAM_PROBLEM) rest = (info & 0xff) * 0x100_0000;
  else if (type === ICMPV4_REDIRECT) rest = info >>> 0;
  buf[off] = type;
  buf[off + ICMPV4_CODE] = code;
  setU16(buf, off + ICMPV4_CHECKSUM, 0);
  setU32(buf, off + ICMPV4_REST, rest);
  setU16(buf, off + ICMPV4_CHECKSUM, checksum(buf, off, n));
  return n;
}
