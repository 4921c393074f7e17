/**
 * ICMPv6 (RFC 4443) and the Neighbor Discovery messages carried in it (RFC 4861 §4).
 *
 *   0      1      2      4
 *   | type | code | csum | message body …
 *
 *   echo (128/129)        | id | seq | data …
 *   errors (1..4)         | unused / MTU (2) / pointer (4) | invoking packet …
 *   router solicit (133)  | reserved | options …
 *   router advert (134)   | hop limit | M O … | lifetime | reachable | retrans | options …
 *   neighbor solicit (135)| reserved | target (16) | options …
 *   neighbor advert (136) | R S O …  | target (16) | options …
 *   redirect (137)        | reserved | target (16) | destination (16) | options …
 *
 * The checksum covers the IPv6 pseudo-header (RFC 4443 §2.3), which the caller computes with
 * `pseudoSumV6(buf, src, dst, ICMPV6_PROTO, len)` from `checksum.ts`.
 */
import { EMPTY, setU16, setU32, u16, u32, u48 } from './bytes.js';
import { checksum, rewrite16, verify } from './checksum.js';
import { WireError } from './errors.js';
import {
  emitNdpOptionList,
  NDP_OPT_MTU,
  NDP_OPT_PREFIX_INFO,
  NDP_OPT_RDNSS,
  NDP_OPT_REDIRECTED_HEADER,
  NDP_OPT_SOURCE_LLA,
  NDP_OPT_TARGET_LLA,
  type NdpOption,
  NdpOptionView,
  ndpOptionListLen,
  parseNdpOptionList,
} from './ndp.js';

export const ICMPV6_TYPE = 0;
export const ICMPV6_CODE = 1;
export const ICMPV6_CHECKSUM = 2;
/** Type, code and checksum: all a message of an unknown type must have. */
export const ICMPV6_MIN_LEN = 4;
export const ICMPV6_ECHO_ID = 4;
export const ICMPV6_ECHO_SEQ = 6;
/** The 32-bit word after the checksum in error messages: unused, MTU (type 2) or pointer (type 4). */
export const ICMPV6_ERROR_PARAM = 4;
/** Echo and error messages: the data / invoking packet starts here. */
export const ICMPV6_HEADER_LEN = 8;
/** IPv6 next-header number, for the pseudo-header. */
export const ICMPV6_PROTO = 58;

export const ICMPV6_DEST_UNREACHABLE = 1;
export const ICMPV6_PACKET_TOO_BIG = 2;
export const ICMPV6_TIME_EXCEEDED = 3;
export const ICMPV6_PARAM_PROBLEM = 4;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
export const ICMPV6_ROUTER_SOLICIT = 133;
export const ICMPV6_ROUTER_ADVERT = 134;
export const ICMPV6_NEIGHBOR_SOLICIT = 135;
export const ICMPV6_NEIGHBOR_ADVERT = 136;
export const ICMPV6_REDIRECT = 137;

// Router advertisement (RFC 4861 §4.2).
export const RA_HOP_LIMIT = 4;
export const RA_FLAGS = 5;
export const RA_ROUTER_LIFETIME = 6;
export const RA_REACHABLE_TIME = 8;
export const RA_RETRANS_TIMER = 12;
/** M: addresses are available via DHCPv6. */
export const RA_FLAG_MANAGED = 0x80;
/** O: other configuration is available via DHCPv6. */
export const RA_FLAG_OTHER = 0x40;

// Neighbor solicitation / advertisement and redirect (RFC 4861 §4.3–4.5).
export const NA_FLAGS = 4;
export const NA_FLAG_ROUTER = 0x80;
export const NA_FLAG_SOLICITED = 0x40;
export const NA_FLAG_OVERRIDE = 0x20;
export const ND_TARGET = 8;
export const REDIRECT_DESTINATION = 24;

/** Fixed length of each message (where its options begin, for NDP); 0 for types not modelled. */
function fixedLen(type: number): number {
  switch (type) {
    case ICMPV6_DEST_UNREACHABLE:
    case ICMPV6_PACKET_TOO_BIG:
    case ICMPV6_TIME_EXCEEDED:
    case ICMPV6_PARAM_PROBLEM:
    case ICMPV6_ECHO_REQUEST:
    case ICMPV6_ECHO_REPLY:
    case ICMPV6_ROUTER_SOLICIT:
      return 8;
    case ICMPV6_ROUTER_ADVERT:
      return 16;
    case ICMPV6_NEIGHBOR_SOLICIT:
    case ICMPV6_NEIGHBOR_ADVERT:
      return 24;
    case ICMPV6_REDIRECT:
      return 40;
    default:
      return 0;
  }
}

export function isNdpType(type: number): boolean {
  return type >= ICMPV6_ROUTER_SOLICIT && type <= ICMPV6_REDIRECT;
}

/** Zero-copy view of one ICMPv6 message. Reuse one instance per stage: `wrap()` re-points it. */
export class Icmpv6View {
  buf: Uint8Array = EMPTY;
  off = 0;
  len = 0;

  // ---- filled by parseOptions() (NDP messages) when it returns Ok; reset by wrap() ----
  /** Absolute offset of the source link-layer address, or -1 (its length is `sllaLen`). */
  sllaOff = -1;
  sllaLen = 0;
  /** Absolute offset of the target link-layer address, or -1. */
  tllaOff = -1;
  tllaLen = 0;
  /** The MTU option's value, or -1. */
  mtuOption = -1;
  prefixCount = 0;
  /** Absolute offset of the first prefix-information option (walk the rest with an NdpOptionView). */
  firstPrefixOff = -1;
  rdnssCount = 0;
  firstRdnssOff = -1;
  /** Absolute offset and length of the packet inside a redirected-header option, or -1. */
  redirectedOff = -1;
  redirectedLen = 0;
  private readonly cursor = new NdpOptionView();

  /**
   * Points the view at buf[off..off+len) (the whole ICMPv6 message); checks the fixed part of
   * the message type fits. Types this module does not model need only the 4-byte header.
   */
  wrap(buf: Uint8Array, off: number, len: number): WireError {
    this.buf = buf;
    this.off = off;
    this.len = len;
    this.resetOptions();
    if (len < ICMPV6_MIN_LEN || off + len > buf.length) return WireError.Truncated;
    if (len < fixedLen(buf[off]!)) return WireError.Truncated;
    return WireError.Ok;
  }

  get type(): number {
    return this.buf[this.off]!;
  }

  get code(): number {
    return this.buf[this.off + ICMPV6_CODE]!;
  }

  get checksum(): number {
    return u16(this.buf, this.off + ICMPV6_CHECKSUM);
  }

  set checksum(v: number) {
    setU16(this.buf, this.off + ICMPV6_CHECKSUM, v);
  }

  /** Checks the message against the IPv6 pseudo-header sum (next header 58, length `len`). */
  verifyChecksum(pseudoSum: number): boolean {
    return verify(this.buf, this.off, this.len, pseudoSum);
  }

  fillChecksum(pseudoSum: number): void {
    this.checksum = 0;
    this.checksum = checksum(this.buf, this.off, this.len, pseudoSum);
  }

  /** RFC 4443 §2.1: types 0–127 are errors, 128–255 informational. */
  isError(): boolean {
    return this.buf[this.off]! < 128;
  }

  isNdp(): boolean {
    return isNdpType(this.buf[this.off]!);
  }

  // ---- echo request / reply (RFC 4443 §4) ----

  get echoId(): number {
    return u16(this.buf, this.off + ICMPV6_ECHO_ID);
  }

  get echoSeq(): number {
    return u16(this.buf, this.off + ICMPV6_ECHO_SEQ);
  }

  /** NAT: rewrites the echo identifier and patches the checksum (RFC 1624). */
  setEchoId(v: number): void {
    rewrite16(this.buf, this.off + ICMPV6_ECHO_ID, v, this.off + ICMPV6_CHECKSUM);
  }

  /** Absolute offset of the echo data (also the invoking packet of an error). */
  get dataOff(): number {
    return this.off + ICMPV6_HEADER_LEN;
  }

  get dataLen(): number {
    return this.len - ICMPV6_HEADER_LEN;
  }

  // ---- errors (RFC 4443 §3) ----

  /** Packet Too Big: the MTU of the next-hop link (RFC 4443 §3.2). */
  get mtu(): number {
    return u32(this.buf, this.off + ICMPV6_ERROR_PARAM);
  }

  /** Parameter Problem: offset of the error in the invoking packet (RFC 4443 §3.4). */
  get pointer(): number {
    return u32(this.buf, this.off + ICMPV6_ERROR_PARAM);
  }

  /** Absolute offset of as much of the invoking packet as the error carries. */
  get invokingOff(): number {
    return this.off + ICMPV6_HEADER_LEN;
  }

  get invokingLen(): number {
    return this.len - ICMPV6_HEADER_LEN;
  }

  // ---- router advertisement (RFC 4861 §4.2) ----

  /** Cur Hop Limit (0 = unspecified). */
  get raHopLimit(): number {
    return this.buf[this.off + RA_HOP_LIMIT]!;
  }

  get raFlags(): number {
    return this.buf[this.off + RA_FLAGS]!;
  }

  get raManaged(): boolean {
    return (this.buf[this.off + RA_FLAGS]! & RA_FLAG_MANAGED) !== 0;
  }

  get raOther(): boolean {
    return (this.buf[this.off + RA_FLAGS]! & RA_FLAG_OTHER) !== 0;
  }

  /** Seconds; 0 = not a default router. */
  get routerLifetime(): number {
    return u16(this.buf, this.off + RA_ROUTER_LIFETIME);
  }

  /** Milliseconds; 0 = unspecified. */
  get reachableTime(): number {
    return u32(this.buf, this.off + RA_REACHABLE_TIME);
  }

  /** Milliseconds; 0 = unspecified. */
  get retransTimer(): number {
    return u32(this.buf, this.off + RA_RETRANS_TIMER);
  }

  // ---- neighbor solicitation / advertisement, redirect (RFC 4861 §4.3–4.5) ----

  /** Absolute offset of the 16-byte target address (NS, NA, redirect). */
  get targetOff(): number {
    return this.off + ND_TARGET;
  }

  get naRouter(): boolean {
    return (this.buf[this.off + NA_FLAGS]! & NA_FLAG_ROUTER) !== 0;
  }

  get naSolicited(): boolean {
    return (this.buf[this.off + NA_FLAGS]! & NA_FLAG_SOLICITED) !== 0;
  }

  get naOverride(): boolean {
    return (this.buf[this.off + NA_FLAGS]! & NA_FLAG_OVERRIDE) !== 0;
  }

  /** Absolute offset of the redirect's 16-byte destination address. */
  get destinationOff(): number {
    return this.off + REDIRECT_DESTINATION;
  }

  // ---- NDP options ----

  /** Absolute offset of the first NDP option (meaningful for NDP types only). */
  get optionsOff(): number {
    return this.off + fixedLen(this.type);
  }

  /** Source link-layer address as a 48-bit number (Ethernet); valid when `sllaOff >= 0`. */
  get sourceLinkAddr(): number {
    return u48(this.buf, this.sllaOff);
  }

  /** Target link-layer address as a 48-bit number (Ethernet); valid when `tllaOff >= 0`. */
  get targetLinkAddr(): number {
    return u48(this.buf, this.tllaOff);
  }

  /**
   * Walks the NDP options (RFC 4861 §4.6) and records where the interesting ones are: the first
   * source/target link-layer address (the first of each), MTU, redirected
   * header, and the count and first offset of prefix-information and RDNSS options. Returns
   * `Unsupported` for a message that is not NDP and `BadOption` for a malformed option
   * (`NdpOptionView.next`). Allocates nothing.
   */
  private resetOptions(): void {
    this.sllaOff = -1;
    this.sllaLen = 0;
    this.tllaOff = -1;
    this.tllaLen = 0;
    this.mtuOption = -1;
    this.prefixCount = 0;
    this.firstPrefixOff = -1;
    this.rdnssCount = 0;
    this.firstRdnssOff = -1;
    this.redirectedOff = -1;
    this.redirectedLen = 0;
  }

  parseOptions(): WireError {
    // Start from scratch so a second call (checkNdp calls it too) does not count options twice.
    this.resetOptions();
    if (!this.isNdp()) return WireError.Unsupported;
    const c = this.cursor;
    c.reset(this.buf, this.optionsOff, this.off + this.len);
    while (c.next()) {
      switch (c.type) {
        case NDP_OPT_SOURCE_LLA:
          if (this.sllaOff < 0) {
            this.sllaOff = c.linkAddrOff;
            this.sllaLen = c.linkAddrLen;
          }
          break;
        case NDP_OPT_TARGET_LLA:
          if (this.tllaOff < 0) {
            this.tllaOff = c.linkAddrOff;
            this.tllaLen = c.linkAddrLen;
          }
          break;
        case NDP_OPT_PREFIX_INFO:
          if (this.prefixCount++ === 0) this.firstPrefixOff = c.off;
          break;
        case NDP_OPT_REDIRECTED_HEADER:
          if (this.redirectedOff < 0) {
            this.redirectedOff = c.redirectedOff;
            this.redirectedLen = c.redirectedLen;
          }
          break;
        case NDP_OPT_MTU:
          if (this.mtuOption < 0) this.mtuOption = c.mtu;
          break;
        case NDP_OPT_RDNSS:
          if (this.rdnssCount++ === 0) this.firstRdnssOff = c.off;
          break;
      }
    }
    return c.error;
  }
}

function isUnspecified(b: Uint8Array, o: number): boolean {
  let x = 0;
  for (let i = 0; i < 16; i++) x |= b[o + i]!;
  return x === 0;
}

function isMulticast(b: Uint8Array, o: number): boolean {
  return b[o] === 0xff;
}

/** fe80::/10 (RFC 4291 §2.5.6). */
function isLinkLocalUnicast(b: Uint8Array, o: number): boolean {
  return b[o] === 0xfe && (b[o + 1]! & 0xc0) === 0x80;
}

/** ff02::1:ff00:0/104 (RFC 4291 §2.7.1). */
function isSolicitedNode(b: Uint8Array, o: number): boolean {
  if (b[o] !== 0xff || b[o + 1] !== 0x02 || b[o + 11] !== 0x01 || b[o + 12] !== 0xff) return false;
  let x = 0;
  for (let i = 2; i < 11; i++) x |= b[o + i]!;
  return x === 0;
}

function sameAddress(b: Uint8Array, p: number, q: number): boolean {
  for (let i = 0; i < 16; i++) if (b[p + i] !== b[q + i]) return false;
  return true;
}

/**
 * The receive-side validity checks of RFC 4861 for an NDP message in a wrapped view, given the
 * IPv6 hop limit and the offsets in `v.buf` of the IPv6 source and destination addresses. The
 * ICMPv6 checksum is the caller's to verify (`verifyChecksum`). Walks the options
 * (`parseOptions`), so the view's option fields are filled on return. Length minimums are
 * already enforced by `wrap()` (`Truncated`).
 *
 * Returns `Unsupported` for non-NDP types, `BadOption` for malformed options and `BadValue` for
 * any other rule broken.
 */
export function checkNdp(v: Icmpv6View, hopLimit: number, srcOff: number, dstOff: number): WireError {
  if (!v.isNdp()) return WireError.Unsupported;
  // §6.1.1, §6.1.2, §7.1.1, §7.1.2, §8.1: hop limit 255 proves the packet was not forwarded
  // by a router, and the ICMP code is 0.
  if (hopLimit !== 255 || v.code !== 0) return WireError.BadValue;
  const e = v.parseOptions();
  if (e !== WireError.Ok) return e;
  const b = v.buf;
  switch (v.type) {
    case ICMPV6_ROUTER_SOLICIT:
      // §6.1.1: an unspecified source carries no source link-layer address option.
      if (isUnspecified(b, srcOff) && v.sllaOff >= 0) return WireError.BadValue;
      break;
    case ICMPV6_ROUTER_ADVERT:
      // §6.1.2: routers advertise from their link-local address.
      if (!isLinkLocalUnicast(b, srcOff)) return WireError.BadValue;
      break;
    case ICMPV6_NEIGHBOR_SOLICIT:
      // §7.1.1: the target is not multicast; duplicate address detection (unspecified source)
      // goes to a solicited-node address and carries no source link-layer address option.
      if (isMulticast(b, v.targetOff)) return WireError.BadValue;
      if (isUnspecified(b, srcOff) && (!isSolicitedNode(b, dstOff) || v.sllaOff >= 0))
        return WireError.BadValue;
      break;
    case ICMPV6_NEIGHBOR_ADVERT:
      // §7.1.2: the target is not multicast; an advertisement to a multicast group is unsolicited.
      if (isMulticast(b, v.targetOff)) return WireError.BadValue;
      if (isMulticast(b, dstOff) && v.naSolicited) return WireError.BadValue;
      break;
    case ICMPV6_REDIRECT:
      // §8.1: from a link-local address; the destination is not multicast; the target is a
      // link-local router address or the destination itself (on-link).
      if (!isLinkLocalUnicast(b, srcOff) || isMulticast(b, v.destinationOff)) return WireError.BadValue;
      if (!isLinkLocalUnicast(b, v.targetOff) && !sameAddress(b, v.targetOff, v.destinationOff)) {
        return WireError.BadValue;
      }
      break;
  }
  return WireError.Ok;
}

/** Plain representation of an ICMPv6 message (for building messages, traces and tests). */
export type Icmpv6Repr =
  | { kind: 'echo-request' | 'echo-reply'; code: number; id: number; seq: number; data: Uint8Array }
  /** `unused` is the 32-bit word that must be zero on send (carried for exact round trips). */
  | { kind: 'dest-unreachable' | 'time-exceeded'; code: number; unused: number; invoking: Uint8Array }
  | { kind: 'packet-too-big'; code: number; mtu: number; invoking: Uint8Array }
  | { kind: 'param-problem'; code: number; pointer: number; invoking: Uint8Array }
  | { kind: 'router-solicit'; code: number; reserved: number; options: NdpOption[] }
  | {
      kind: 'router-advert';
      code: number;
      hopLimit: number;
      /** The whole flags byte (RA_FLAG_* and the bits other RFCs define). */
      flags: number;
      routerLifetime: number;
      reachableTime: number;
      retransTimer: number;
      options: NdpOption[];
    }
  | { kind: 'neighbor-solicit'; code: number; reserved: number; target: Uint8Array; options: NdpOption[] }
  | {
      kind: 'neighbor-advert';
      code: number;
      /** NA_FLAG_* plus five reserved bits (the byte at offset 4). */
      flags: number;
      /** The 24 reserved bits after the flags byte. */
      reserved: number;
      target: Uint8Array;
      options: NdpOption[];
    }
  | {
      kind: 'redirect';
      code: number;
      reserved: number;
      target: Uint8Array;
      destination: Uint8Array;
      options: NdpOption[];
    }
  /** A type not modelled here: `body` is everything after the checksum. */
  | { kind: 'other'; type: number; code: number; body: Uint8Array };

export function parseIcmpv6(v: Icmpv6View): Icmpv6Repr {
  const b = v.buf;
  const o = v.off;
  const end = o + v.len;
  const code = v.code;
  // Every modelled type is at least 8 bytes (wrap() checked); 'other' may be only 4.
  const word = fixedLen(v.type) > 0 ? u32(b, o + 4) : 0;
  const rest = (from: number) => b.slice(o + from, end);
  const addr = (at: number) => b.slice(o + at, o + at + 16);
  const options = () => parseNdpOptionList(b, v.optionsOff, end);
  switch (v.type) {
    case ICMPV6_ECHO_REQUEST:
    case ICMPV6_ECHO_REPLY:
      return {
        kind: v.type === ICMPV6_ECHO_REQUEST ? 'echo-request' : 'echo-reply',
        code,
        id: v.echoId,
        seq: v.echoSeq,
        data: rest(ICMPV6_HEADER_LEN),
      };
    case ICMPV6_DEST_UNREACHABLE:
    case ICMPV6_TIME_EXCEEDED:
      return {
        kind: v.type === ICMPV6_DEST_UNREACHABLE ? 'dest-unreachable' : 'time-exceeded',
        code,
        unused: word,
        invoking: rest(ICMPV6_HEADER_LEN),
      };
    case ICMPV6_PACKET_TOO_BIG:
      return { kind: 'packet-too-big', code, mtu: word, invoking: rest(ICMPV6_HEADER_LEN) };
    case ICMPV6_PARAM_PROBLEM:
      return { kind: 'param-problem', code, pointer: word, invoking: rest(ICMPV6_HEADER_LEN) };
    case ICMPV6_ROUTER_SOLICIT:
      return { kind: 'router-solicit', code, reserved: word, options: options() };
    case ICMPV6_ROUTER_ADVERT:
      return {
        kind: 'router-advert',
        code,
        hopLimit: v.raHopLimit,
        flags: v.raFlags,
        routerLifetime: v.routerLifetime,
        reachableTime: v.reachableTime,
        retransTimer: v.retransTimer,
        options: options(),
      };
    case ICMPV6_NEIGHBOR_SOLICIT:
      return { kind: 'neighbor-solicit', code, reserved: word, target: addr(ND_TARGET), options: options() };
    case ICMPV6_NEIGHBOR_ADVERT:
      return {
        kind: 'neighbor-advert',
        code,
        flags: b[o + NA_FLAGS]!,
        reserved: word & 0xffffff,
        target: addr(ND_TARGET),
        options: options(),
      };
    case ICMPV6_REDIRECT:
      return {
        kind: 'redirect',
        code,
        reserved: word,
        target: addr(ND_TARGET),
        destination: addr(REDIRECT_DESTINATION),
        options: options(),
      };
    default:
      return { kind: 'other', type: v.type, code, body: rest(ICMPV6_MIN_LEN) };
  }
}

const TYPE_OF_KIND: Record<Exclude<Icmpv6Repr['kind'], 'other'>, number> = {
  'echo-request': ICMPV6_ECHO_REQUEST,
  'echo-reply': ICMPV6_ECHO_REPLY,
  'dest-unreachable': ICMPV6_DEST_UNREACHABLE,
  'packet-too-big': ICMPV6_PACKET_TOO_BIG,
  'time-exceeded': ICMPV6_TIME_EXCEEDED,
  'param-problem': ICMPV6_PARAM_PROBLEM,
  'router-solicit': ICMPV6_ROUTER_SOLICIT,
  'router-advert': ICMPV6_ROUTER_ADVERT,
  'neighbor-solicit': ICMPV6_NEIGHBOR_SOLICIT,
  'neighbor-advert': ICMPV6_NEIGHBOR_ADVERT,
  redirect: ICMPV6_REDIRECT,
};

function typeOf(r: Icmpv6Repr): number {
  return r.kind === 'other' ? r.type : TYPE_OF_KIND[r.kind];
}

/** Message length: the value the pseudo-header sum needs. */
export function icmpv6Len(r: Icmpv6Repr): number {
  switch (r.kind) {
    case 'echo-request':
    case 'echo-reply':
      return ICMPV6_HEADER_LEN + r.data.length;
    case 'dest-unreachable':
    case 'time-exceeded':
    case 'packet-too-big':
    case 'param-problem':
      return ICMPV6_HEADER_LEN + r.invoking.length;
    case 'other':
      return ICMPV6_MIN_LEN + r.body.length;
    default:
      return fixedLen(typeOf(r)) + ndpOptionListLen(r.options);
  }
}

/** Writes the message into buf at off, computes the checksum with `pseudoSum`, and returns its length. */
export function emitIcmpv6(r: Icmpv6Repr, buf: Uint8Array, off: number, pseudoSum: number): number {
  const n = icmpv6Len(r);
  if (off + n > buf.length) throw new RangeError(`icmpv6 message needs ${n} bytes at ${off}`);
  buf[off] = typeOf(r);
  buf[off + ICMPV6_CODE] = r.code;
  setU16(buf, off + ICMPV6_CHECKSUM, 0);
  switch (r.kind) {
    case 'echo-request':
    case 'echo-reply':
      setU16(buf, off + ICMPV6_ECHO_ID, r.id);
      setU16(buf, off + ICMPV6_ECHO_SEQ, r.seq);
      buf.set(r.data, off + ICMPV6_HEADER_LEN);
      break;
    case 'dest-unreachable':
    case 'time-exceeded':
      setU32(buf, off + ICMPV6_ERROR_PARAM, r.unused);
      buf.set(r.invoking, off + ICMPV6_HEADER_LEN);
      break;
    case 'packet-too-big':
      setU32(buf, off + ICMPV6_ERROR_PARAM, r.mtu);
      buf.set(r.invoking, off + ICMPV6_HEADER_LEN);
      break;
    case 'param-problem':
      setU32(buf, off + ICMPV6_ERROR_PARAM, r.pointer);
      buf.set(r.invoking, off + ICMPV6_HEADER_LEN);
      break;
    case 'router-solicit':
      setU32(buf, off + 4, r.reserved);
      emitNdpOptionList(r.options, buf, off + 8);
      break;
    case 'router-advert':
      buf[off + RA_HOP_LIMIT] = r.hopLimit;
      buf[off + RA_FLAGS] = r.flags;
      setU16(buf, off + RA_ROUTER_LIFETIME, r.routerLifetime);
      setU32(buf, off + RA_REACHABLE_TIME, r.reachableTime);
      setU32(buf, off + RA_RETRANS_TIMER, r.retransTimer);
      emitNdpOptionList(r.options, buf, off + 16);
      break;
    case 'neighbor-solicit':
      setU32(buf, off + 4, r.reserved);
      buf.set(r.target.subarray(0, 16), off + ND_TARGET);
      emitNdpOptionList(r.options, buf, off + 24);
      break;
    case 'neighbor-advert':
      setU32(buf, off + 4, r.reserved);
      buf[off + NA_FLAGS] = r.flags;
      buf.set(r.target.subarray(0, 16), off + ND_TARGET);
      emitNdpOptionList(r.options, buf, off + 24);
      break;
    case 'redirect':
      setU32(buf, off + 4, r.reserved);
      buf.set(r.target.subarray(0, 16), off + ND_TARGET);
      buf.set(r.destination.subarray(0, 16), off + REDIRECT_DESTINATION);
      emitNdpOptionList(r.options, buf, off + 40);
      break;
    case 'other':
      buf.set(r.body, off + ICMPV6_MIN_LEN);
      break;
  }
  setU16(buf, off + ICMPV6_CHECKSUM, checksum(buf, off, n, pseudoSum));
  return n;
}
