/**
 * ARP for IPv4 over Ethernet (RFC 826), the only combination ferry answers or relays.
 *
 *   0       2       4    5    6      8      14     18     24     28
 *   | htype | ptype | hl | pl | oper | sha  | spa  | tha  | tpa  |
 *
 * Frames on Ethernet are padded to 60 bytes, so the view's `len` may exceed ARP_LEN; the
 * padding is not part of the message.
 */
import { EMPTY, setU16, setU32, setU48, u16, u32, u48 } from './bytes.js';
import { WireError } from './errors.js';

export const ARP_HTYPE = 0;
export const ARP_PTYPE = 2;
export const ARP_HLEN = 4;
export const ARP_PLEN = 5;
export const ARP_OPER = 6;
/** Sender hardware address. */
export const ARP_SHA = 8;
/** Sender protocol address. */
export const ARP_SPA = 14;
/** Target hardware address. */
export const ARP_THA = 18;
/** Target protocol address. */
export const ARP_TPA = 24;
/** Length of an Ethernet/IPv4 ARP message. */
export const ARP_LEN = 28;

export const ARP_HTYPE_ETHERNET = 1;
export const ARP_PTYPE_IPV4 = 0x0800;
export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;

/** Zero-copy view of one ARP message. Reuse one instance per stage: `wrap()` re-points it. */
export class ArpView {
  buf: Uint8Array = EMPTY;
  off = 0;
  len = 0;

  /**
   * Points the view at buf[off..off+len). Accepts only Ethernet/IPv4 ARP: another hardware or
   * protocol type is `Unsupported`; for that pair RFC 826 fixes the address lengths at 6 and 4,
   * so any other length byte is `BadValue`.
   */
  wrap(buf: Uint8Array, off: number, len: number): WireError {
    this.buf = buf;
    this.off = off;
    this.len = len;
    if (len < ARP_LEN || off + len > buf.length) return WireError.Truncated;
    if (u16(buf, off + ARP_HTYPE) !== ARP_HTYPE_ETHERNET) return WireError.Unsupported;
    if (u16(buf, off + ARP_PTYPE) !== ARP_PTYPE_IPV4) return WireError.Unsupported;
    if (buf[off + ARP_HLEN] !== 6 || buf[off + ARP_PLEN] !== 4) return WireError.BadValue;
    return WireError.Ok;
  }

  /** ARP_OP_REQUEST, ARP_OP_REPLY, or anything else the sender put there (RARP, InARP, …). */
  get operation(): number {
    return u16(this.buf, this.off + ARP_OPER);
  }

  set operation(v: number) {
    setU16(this.buf, this.off + ARP_OPER, v);
  }

  get isRequest(): boolean {
    return this.operation === ARP_OP_REQUEST;
  }

  get isReply(): boolean {
    return this.operation === ARP_OP_REPLY;
  }

  /** Sender MAC as a 48-bit number. */
  get senderMac(): number {
    return u48(this.buf, this.off + ARP_SHA);
  }

  set senderMac(v: number) {
    setU48(this.buf, this.off + ARP_SHA, v);
  }

  /** Sender IPv4 address as an unsigned 32-bit number. */
  get senderIp(): number {
    return u32(this.buf, this.off + ARP_SPA);
  }

  set senderIp(v: number) {
    setU32(this.buf, this.off + ARP_SPA, v);
  }

  get targetMac(): number {
    return u48(this.buf, this.off + ARP_THA);
  }

  set targetMac(v: number) {
    setU48(this.buf, this.off + ARP_THA, v);
  }

  get targetIp(): number {
    return u32(this.buf, this.off + ARP_TPA);
  }

  set targetIp(v: number) {
    setU32(this.buf, this.off + ARP_TPA, v);
  }

  /**
   * Gratuitous ARP: the sender announces its own binding, so sender and target IP are equal
   * (RFC 5227 §3 "ARP Announcement"; either a request or a reply).
   */
  get isGratuitous(): boolean {
    return this.senderIp === this.targetIp;
  }

  /** ARP probe: a request with sender IP 0.0.0.0, used for address conflict detection (RFC 5227 §2.1.1). */
  get isProbe(): boolean {
    return this.isRequest && this.senderIp === 0;
  }

  /**
   * Turns this request, in place, into the reply that says "targetIp is at `mac`": the old
   * sender becomes the target and `mac` answers for the old target IP (RFC 826, "swap fields").
   * The Ethernet header around it is the caller's to rewrite.
   */
  makeReply(mac: number): void {
    const b = this.buf;
    const o = this.off;
    const askerMac = u48(b, o + ARP_SHA);
    const askerIp = u32(b, o + ARP_SPA);
    const wantedIp = u32(b, o + ARP_TPA);
    setU16(b, o + ARP_OPER, ARP_OP_REPLY);
    setU48(b, o + ARP_SHA, mac);
    setU32(b, o + ARP_SPA, wantedIp);
    setU48(b, o + ARP_THA, askerMac);
    setU32(b, o + ARP_TPA, askerIp);
  }
}

/** Plain representation of an Ethernet/IPv4 ARP message (for building frames and for tests). */
export interface ArpRepr {
  operation: number;
  senderMac: Uint8Array;
  senderIp: number;
  targetMac: Uint8Array;
  targetIp: number;
}

export function parseArp(v: ArpView): ArpRepr {
  return {
    operation: v.operation,
    senderMac: v.buf.slice(v.off + ARP_SHA, v.off + ARP_SHA + 6),
    senderIp: v.senderIp,
    targetMac: v.buf.slice(v.off + ARP_THA, v.off + ARP_THA + 6),
    targetIp: v.targetIp,
  };
}

/** Writes the 28-byte message into buf at off; returns ARP_LEN. */
export function emitArp(r: ArpRepr, buf: Uint8Array, off: number): number {
  if (off + ARP_LEN > buf.length) throw new RangeError(`ARP message needs ${ARP_LEN} bytes at ${off}`);
  setU16(buf, off + ARP_HTYPE, ARP_HTYPE_ETHERNET);
  setU16(buf, off + ARP_PTYPE, ARP_PTYPE_IPV4);
  buf[off + ARP_HLEN] = 6;
  buf[off + ARP_PLEN] = 4;
  setU16(buf, off + ARP_OPER, r.operation);
  buf.set(r.senderMac.subarray(0, 6), off + ARP_SHA);
  setU32(buf, off + ARP_SPA, r.senderIp);
  buf.set(r.targetMac.subarray(0, 6), off + ARP_THA);
  setU32(buf, off + ARP_TPA, r.targetIp);
  return ARP_LEN;
}
