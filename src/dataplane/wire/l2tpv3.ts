/**
 * L2TPv3 data messages (pseudowires) over IP protocol 115 and over UDP (RFC 3931 §4.1), with
 * just enough of the control message header (§3.2.1) to recognise and count control traffic.
 *
 * Data over IP (§4.1.1.1):
 *   0            4                       4+c                4+c+s
 *   | Session ID | Cookie (c = 0, 4, 8)  | L2-Specific (s)  | payload (e.g. an Ethernet frame) …
 * Data over UDP (§4.1.2.1): a 4-byte word |T=0|x…|Ver=3|Reserved(16)| in front of the same fields.
 * Control over IP (§4.1.1.2): Session ID 0, then the control header. Over UDP: the control
 * header directly, told apart by its T bit:
 *   |T|L|x|x|S|x|x|x|x|x|x|x| Ver | Length | Control Connection ID | Ns | Nr | AVPs …
 *
 * The cookie length and whether an L2-Specific Sublayer is present are session configuration,
 * not on the wire (§4.1): the caller passes them to `wrap()`, or peeks the session ID with the
 * defaults and calls `setLayout()` once it has looked the session up. The only sublayer
 * modelled is the Default L2-Specific Sublayer (§4.6): |x|S|x|x|x|x|x|x| Sequence Number (24) |.
 */
import { EMPTY, setU16, setU32, u16, u32 } from './bytes.js';
import { WireError } from './errors.js';

/** IP protocol number of L2TPv3 (RFC 3931 §4.1.1). */
export const IPPROTO_L2TP = 115;
/** UDP port of L2TP (RFC 3931 §4.1.2.2). */
export const L2TP_UDP_PORT = 1701;
export const L2TP_VERSION = 3;

export const L2TP_SESSION_ID_LEN = 4;
/** The T/Ver/Reserved word in front of a data message over UDP. */
export const L2TP_UDP_DATA_PREFIX_LEN = 4;
export const L2TP_SUBLAYER_LEN = 4;
export const L2TP_CONTROL_HEADER_LEN = 12;

/** Bits of the first 16-bit word of a control header (and of the UDP data prefix). */
export const L2TP_FLAG_T = 0x8000;
export const L2TP_FLAG_L = 0x4000;
export const L2TP_FLAG_S = 0x0800;
export const L2TP_VERSION_MASK = 0x000f;
/** T, L and S as the 12 flag bits of `L2tpv3ControlRepr.flags` (the word without Ver). */
export const L2TP_CONTROL_FLAGS = (L2TP_FLAG_T | L2TP_FLAG_L | L2TP_FLAG_S) >>> 4;

/** Offsets within the control header. */
export const L2TP_CTRL_LENGTH = 2;
export const L2TP_CTRL_CONNECTION_ID = 4;
export const L2TP_CTRL_NS = 8;
export const L2TP_CTRL_NR = 10;

/** S bit of the Default L2-Specific Sublayer's first octet (§4.6). */
export const L2TP_SUBLAYER_S = 0x40;
export const L2TP_SEQUENCE_MASK = 0xffffff;

function validCookieLen(n: number): boolean {
  return n === 0 || n === 4 || n === 8;
}

/** What the two encapsulations share once their first bytes have been told apart. */
abstract class L2tpv3Header {
  buf: Uint8Array = EMPTY;
  off = 0;
  len = 0;
  /**
   * A control message (Session ID 0 over IP, T bit over UDP). Accessors of the other kind of
   * message (session, cookie, sublayer vs. control header) throw RangeError: a programming error.
   */
  isControl = false;
  cookieLen = 0;
  hasSublayer = false;
  /** Where the Session ID (data) or the control header (control) starts, relative to `off`. */
  protected headerStart = 0;

  /**
   * Re-reads a wrapped data message with the session's cookie length (0, 4 or 8) and sublayer
   * flag, e.g. after looking the session up by `sessionId`. No effect on control messages.
   */
  setLayout(cookieLen: number, sublayer: boolean): WireError {
    if (!validCookieLen(cookieLen)) return WireError.BadValue;
    if (this.isControl) return WireError.Ok;
    this.cookieLen = cookieLen;
    this.hasSublayer = sublayer;
    const need = this.headerStart + L2TP_SESSION_ID_LEN + cookieLen + (sublayer ? L2TP_SUBLAYER_LEN : 0);
    return this.len < need ? WireError.Truncated : WireError.Ok;
  }

  /** Checks a control header at `headerStart` (RFC 3931 §3.2.1). */
  protected checkControl(): WireError {
    const h = this.off + this.headerStart;
    if (this.len < this.headerStart + L2TP_CONTROL_HEADER_LEN) return WireError.Truncated;
    const w = u16(this.buf, h);
    if ((w & L2TP_VERSION_MASK) !== L2TP_VERSION) return WireError.BadVersion;
    // §3.2.1: T, L and S MUST be 1 in a control message.
    if ((w & (L2TP_FLAG_T | L2TP_FLAG_L | L2TP_FLAG_S)) !== (L2TP_FLAG_T | L2TP_FLAG_L | L2TP_FLAG_S)) {
      return WireError.BadValue;
    }
    // §3.2.1: Length counts from the T bit and covers the header and every AVP.
    const length = u16(this.buf, h + L2TP_CTRL_LENGTH);
    if (length < L2TP_CONTROL_HEADER_LEN || this.headerStart + length > this.len) return WireError.BadLength;
    return WireError.Ok;
  }

  /** Session ID of a data message; 0 for a control message (§4.1: 0 is reserved for control). */
  get sessionId(): number {
    return this.isControl ? 0 : u32(this.buf, this.off + this.headerStart);
  }

  set sessionId(v: number) {
    if (this.isControl) throw new RangeError('l2tpv3: a control message has no session id');
    setU32(this.buf, this.off + this.headerStart, v);
  }

  /** Absolute offset of the cookie (cookieLen bytes). */
  get cookieOff(): number {
    return this.off + this.headerStart + L2TP_SESSION_ID_LEN;
  }

  /** 32-bit word i (0 or 1) of the cookie, high-order word first. */
  cookieWord(i: number): number {
    if (i < 0 || 4 * i + 4 > this.cookieLen) throw new RangeError(`l2tpv3: no cookie word ${i}`);
    return u32(this.buf, this.cookieOff + 4 * i);
  }

  setCookieWord(i: number, v: number): void {
    if (i < 0 || 4 * i + 4 > this.cookieLen) throw new RangeError(`l2tpv3: no cookie word ${i}`);
    setU32(this.buf, this.cookieOff + 4 * i, v);
  }

  /** Whether the cookie equals `ref` (same length and bytes), the check of §4.1 on receipt. */
  cookieEquals(ref: Uint8Array): boolean {
    if (this.isControl || ref.length !== this.cookieLen) return false;
    const o = this.cookieOff;
    for (let i = 0; i < ref.length; i++) if (this.buf[o + i] !== ref[i]) return false;
    return true;
  }

  private get sublayerOff(): number {
    return this.cookieOff + this.cookieLen;
  }

  private requireSublayer(): void {
    if (!this.hasSublayer || this.isControl) throw new RangeError('l2tpv3: no L2-specific sublayer');
  }

  /** S bit of the Default L2-Specific Sublayer: the sequence number is valid (§4.6). */
  get sequenced(): boolean {
    this.requireSublayer();
    return (this.buf[this.sublayerOff]! & L2TP_SUBLAYER_S) !== 0;
  }

  set sequenced(on: boolean) {
    this.requireSublayer();
    const o = this.sublayerOff;
    this.buf[o] = on ? this.buf[o]! | L2TP_SUBLAYER_S : this.buf[o]! & ~L2TP_SUBLAYER_S;
  }

  /** 24-bit sequence number of the Default L2-Specific Sublayer (§4.6). */
  get sequence(): number {
    this.requireSublayer();
    return u32(this.buf, this.sublayerOff) & L2TP_SEQUENCE_MASK;
  }

  set sequence(v: number) {
    this.requireSublayer();
    const o = this.sublayerOff;
    this.buf[o + 1] = v >>> 16;
    this.buf[o + 2] = v >>> 8;
    this.buf[o + 3] = v;
  }

  private get controlOff(): number {
    if (!this.isControl) throw new RangeError('l2tpv3: not a control message');
    return this.off + this.headerStart;
  }

  /** The 12 flag bits in front of Ver (T, L, S and reserved bits) of a control header. */
  get controlFlags(): number {
    return u16(this.buf, this.controlOff) >>> 4;
  }

  /** Ver nibble of the control header (checked to be 3 by `wrap`). */
  get controlVersion(): number {
    return u16(this.buf, this.controlOff) & L2TP_VERSION_MASK;
  }

  /** Length field of a control message: header plus AVPs. */
  get controlLength(): number {
    return u16(this.buf, this.controlOff + L2TP_CTRL_LENGTH);
  }

  get connectionId(): number {
    return u32(this.buf, this.controlOff + L2TP_CTRL_CONNECTION_ID);
  }

  get ns(): number {
    return u16(this.buf, this.controlOff + L2TP_CTRL_NS);
  }

  get nr(): number {
    return u16(this.buf, this.controlOff + L2TP_CTRL_NR);
  }

  /** Bytes before the payload: the whole session header, or the control header. */
  get headerLen(): number {
    if (this.isControl) return this.headerStart + L2TP_CONTROL_HEADER_LEN;
    return (
      this.headerStart + L2TP_SESSION_ID_LEN + this.cookieLen + (this.hasSublayer ? L2TP_SUBLAYER_LEN : 0)
    );
  }

  /** Absolute offset of the payload: the tunnelled frame, or the AVPs of a control message. */
  get payloadOff(): number {
    return this.off + this.headerLen;
  }

  /** Payload bytes; for a control message the AVPs the Length field covers. */
  get payloadLen(): number {
    if (this.isControl) return this.controlLength - L2TP_CONTROL_HEADER_LEN;
    return this.len - this.headerLen;
  }
}

/** Zero-copy view of an L2TPv3 message carried directly in IP (protocol 115). */
export class L2tpv3IpView extends L2tpv3Header {
  /**
   * Points the view at buf[off..off+len) (the IP payload). Session ID 0 marks a control message
   * (§4.1.1.2) whose header is checked instead; `cookieLen`/`sublayer` then do not apply.
   */
  wrap(buf: Uint8Array, off: number, len: number, cookieLen = 0, sublayer = false): WireError {
    this.buf = buf;
    this.off = off;
    this.len = len;
    this.headerStart = 0;
    this.isControl = false;
    this.cookieLen = 0;
    this.hasSublayer = false;
    if (len < L2TP_SESSION_ID_LEN || off + len > buf.length) return WireError.Truncated;
    if (u32(buf, off) === 0) {
      this.isControl = true;
      this.headerStart = L2TP_SESSION_ID_LEN;
      return this.checkControl();
    }
    return this.setLayout(cookieLen, sublayer);
  }
}

/** Zero-copy view of an L2TPv3 message in a UDP payload (port 1701 or as configured). */
export class L2tpv3UdpView extends L2tpv3Header {
  /**
   * Points the view at buf[off..off+len) (the UDP payload). Ver must be 3 (§4.1.2.1); the T bit
   * marks a control message, whose header is checked instead.
   */
  wrap(buf: Uint8Array, off: number, len: number, cookieLen = 0, sublayer = false): WireError {
    this.buf = buf;
    this.off = off;
    this.len = len;
    this.headerStart = 0;
    this.isControl = false;
    this.cookieLen = 0;
    this.hasSublayer = false;
    if (len < L2TP_UDP_DATA_PREFIX_LEN || off + len > buf.length) return WireError.Truncated;
    const w = u16(buf, off);
    if ((w & L2TP_VERSION_MASK) !== L2TP_VERSION) return WireError.BadVersion;
    if (w & L2TP_FLAG_T) {
      this.isControl = true;
      return this.checkControl();
    }
    this.headerStart = L2TP_UDP_DATA_PREFIX_LEN;
    const err = this.setLayout(cookieLen, sublayer);
    if (err !== WireError.Ok) return err;
    // §4.1: Session ID 0 is reserved for control messages, which carry T=1 over UDP.
    return u32(buf, off + this.headerStart) === 0 ? WireError.BadValue : WireError.Ok;
  }

  /** Reserved bits of the data prefix word (everything but T and Ver; ignored on receipt). */
  get dataReserved(): number {
    return (u32(this.buf, this.off) & ~0x800f0000) >>> 0;
  }
}

export interface L2tpv3SublayerRepr {
  /** S bit: the sequence number is valid. */
  sequenced: boolean;
  sequence: number;
  /** The reserved x bits of the first octet as received (0 when sending, §4.6). */
  reserved: number;
}

export interface L2tpv3DataRepr {
  control: false;
  sessionId: number;
  /** 0, 4 or 8 bytes. */
  cookie: Uint8Array;
  sublayer: L2tpv3SublayerRepr | null;
  /** Over UDP only: the prefix word's bits other than T and Ver as received (0 when sending). */
  reserved: number;
}

export interface L2tpv3ControlRepr {
  control: true;
  /** The 12 bits before Ver: L2TP_CONTROL_FLAGS plus any reserved bits received. */
  flags: number;
  /** Length field: header plus AVPs (the caller writes the AVPs after the header). */
  length: number;
  connectionId: number;
  ns: number;
  nr: number;
}

export type L2tpv3Repr = L2tpv3DataRepr | L2tpv3ControlRepr;

export function parseL2tpv3(v: L2tpv3IpView | L2tpv3UdpView): L2tpv3Repr {
  if (v.isControl) {
    return {
      control: true,
      flags: v.controlFlags,
      length: v.controlLength,
      connectionId: v.connectionId,
      ns: v.ns,
      nr: v.nr,
    };
  }
  const slOff = v.cookieOff + v.cookieLen;
  return {
    control: false,
    sessionId: v.sessionId,
    cookie: v.buf.slice(v.cookieOff, slOff),
    sublayer: v.hasSublayer
      ? { sequenced: v.sequenced, sequence: v.sequence, reserved: v.buf[slOff]! & ~L2TP_SUBLAYER_S & 0xff }
      : null,
    reserved: v instanceof L2tpv3UdpView ? v.dataReserved : 0,
  };
}

function sessionHeaderLen(r: L2tpv3DataRepr): number {
  return L2TP_SESSION_ID_LEN + r.cookie.length + (r.sublayer ? L2TP_SUBLAYER_LEN : 0);
}

/** Header bytes `emitL2tpv3Ip` (or, with `overUdp`, `emitL2tpv3Udp`) writes for `r`. */
export function l2tpv3HeaderLen(r: L2tpv3Repr, overUdp: boolean): number {
  if (r.control) return (overUdp ? 0 : L2TP_SESSION_ID_LEN) + L2TP_CONTROL_HEADER_LEN;
  return (overUdp ? L2TP_UDP_DATA_PREFIX_LEN : 0) + sessionHeaderLen(r);
}

function emitSession(r: L2tpv3DataRepr, buf: Uint8Array, off: number): void {
  if (!validCookieLen(r.cookie.length)) throw new RangeError(`l2tpv3 cookie of ${r.cookie.length} bytes`);
  setU32(buf, off, r.sessionId);
  buf.set(r.cookie, off + L2TP_SESSION_ID_LEN);
  if (r.sublayer) {
    const s = off + L2TP_SESSION_ID_LEN + r.cookie.length;
    setU32(buf, s, r.sublayer.sequence & L2TP_SEQUENCE_MASK);
    buf[s] = (r.sublayer.reserved & ~L2TP_SUBLAYER_S) | (r.sublayer.sequenced ? L2TP_SUBLAYER_S : 0);
  }
}

function emitControl(r: L2tpv3ControlRepr, buf: Uint8Array, off: number): void {
  setU16(buf, off, ((r.flags << 4) | L2TP_VERSION) & 0xffff);
  setU16(buf, off + L2TP_CTRL_LENGTH, r.length);
  setU32(buf, off + L2TP_CTRL_CONNECTION_ID, r.connectionId);
  setU16(buf, off + L2TP_CTRL_NS, r.ns);
  setU16(buf, off + L2TP_CTRL_NR, r.nr);
}

function need(r: L2tpv3Repr, overUdp: boolean, buf: Uint8Array, off: number): number {
  const n = l2tpv3HeaderLen(r, overUdp);
  if (off + n > buf.length) throw new RangeError(`l2tpv3 header needs ${n} bytes at ${off}`);
  return n;
}

/** Writes the header for IP encapsulation at buf[off]; returns its length. The payload follows. */
export function emitL2tpv3Ip(r: L2tpv3Repr, buf: Uint8Array, off: number): number {
  const n = need(r, false, buf, off);
  if (r.control) {
    setU32(buf, off, 0);
    emitControl(r, buf, off + L2TP_SESSION_ID_LEN);
  } else {
    emitSession(r, buf, off);
  }
  return n;
}

/** Writes the header for UDP encapsulation at buf[off]; returns its length. The payload follows. */
export function emitL2tpv3Udp(r: L2tpv3Repr, buf: Uint8Array, off: number): number {
  const n = need(r, true, buf, off);
  if (r.control) {
    emitControl(r, buf, off);
  } else {
    setU32(buf, off, ((r.reserved & ~0x800f0000) | (L2TP_VERSION << 16)) >>> 0);
    emitSession(r, buf, off + L2TP_UDP_DATA_PREFIX_LEN);
  }
  return n;
}
