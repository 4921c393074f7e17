/**
 * BOOTP / DHCPv4 messages (RFC 951, RFC 2131 §2, RFC 1542), the UDP payload on ports 67/68.
 *
 *   0    1      2     3      4     8     10     12      16      20      24      28       44      108    236    240
 *   | op | htype | hlen | hops | xid | secs | flags | ciaddr | yiaddr | siaddr | giaddr | chaddr | sname | file | cookie | options …
 *
 * The options area (RFC 2132) follows the magic cookie 99.130.83.99; without the cookie the
 * message is plain BOOTP and carries no options we interpret (`hasMagic` is false, not an error).
 * Option overload (option 52, RFC 2132 §9.3) continues the options in `file`, then `sname`
 * (RFC 2131 §4.1 gives that order). Typed option decoders and the relay agent option 82 helpers
 * live in `dhcpv4-options.ts`.
 */
import { EMPTY, setU16, setU32, u16, u32, u48 } from './bytes.js';
import { WireError } from './errors.js';

export const DHCP_OP = 0;
export const DHCP_HTYPE = 1;
export const DHCP_HLEN = 2;
export const DHCP_HOPS = 3;
export const DHCP_XID = 4;
export const DHCP_SECS = 8;
export const DHCP_FLAGS = 10;
export const DHCP_CIADDR = 12;
export const DHCP_YIADDR = 16;
export const DHCP_SIADDR = 20;
export const DHCP_GIADDR = 24;
export const DHCP_CHADDR = 28;
export const DHCP_CHADDR_LEN = 16;
export const DHCP_SNAME = 44;
export const DHCP_SNAME_LEN = 64;
export const DHCP_FILE = 108;
export const DHCP_FILE_LEN = 128;
/** The fixed BOOTP header, everything before the magic cookie. */
export const DHCP_FIXED_LEN = 236;
export const DHCP_COOKIE = 236;
export const DHCP_OPTIONS = 240;
/** 99.130.83.99 (RFC 2132 §2). */
export const DHCP_MAGIC_COOKIE = 0x63825363;
/** RFC 1542 §2.1: a BOOTP message is at least 300 octets (the RFC 951 64-octet vendor area). */
export const BOOTP_MIN_LEN = 300;

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const HTYPE_ETHERNET = 1;
/** The broadcast bit of `flags` (RFC 2131 §2, figure 2); the other 15 bits are reserved. */
export const DHCP_FLAG_BROADCAST = 0x8000;

// Option codes (RFC 2132 unless noted).
export const DHCP_OPT_PAD = 0;
export const DHCP_OPT_SUBNET_MASK = 1;
export const DHCP_OPT_ROUTER = 3;
export const DHCP_OPT_DNS = 6;
export const DHCP_OPT_HOSTNAME = 12;
export const DHCP_OPT_DOMAIN_NAME = 15;
export const DHCP_OPT_BROADCAST_ADDRESS = 28;
export const DHCP_OPT_REQUESTED_IP = 50;
export const DHCP_OPT_LEASE_TIME = 51;
export const DHCP_OPT_OVERLOAD = 52;
export const DHCP_OPT_MESSAGE_TYPE = 53;
export const DHCP_OPT_SERVER_ID = 54;
export const DHCP_OPT_PARAMETER_LIST = 55;
export const DHCP_OPT_MAX_MESSAGE_SIZE = 57;
export const DHCP_OPT_RENEWAL_TIME = 58;
export const DHCP_OPT_REBINDING_TIME = 59;
export const DHCP_OPT_VENDOR_CLASS = 60;
export const DHCP_OPT_CLIENT_ID = 61;
/** RFC 3046. */
export const DHCP_OPT_RELAY_AGENT_INFO = 82;
/** RFC 3442. */
export const DHCP_OPT_CLASSLESS_ROUTES = 121;
export const DHCP_OPT_END = 255;

/** Values of option 52 (RFC 2132 §9.3): which fixed fields carry further options. */
export const OVERLOAD_FILE = 1;
export const OVERLOAD_SNAME = 2;

// Message types, option 53 (RFC 2132 §9.6).
export const DHCPDISCOVER = 1;
export const DHCPOFFER = 2;
export const DHCPREQUEST = 3;
export const DHCPDECLINE = 4;
export const DHCPACK = 5;
export const DHCPNAK = 6;
export const DHCPRELEASE = 7;
export const DHCPINFORM = 8;

/** Which area of the message an option was found in. */
export const AREA_OPTIONS = 0;
export const AREA_FILE = 1;
export const AREA_SNAME = 2;

/**
 * Walks the TLVs of one option area [start, end): PAD is one byte, END stops the area.
 * Returns the offset of END, `end` when the area simply runs out, or -1 when an option's length
 * byte or value runs past the area (RFC 2132 §2: every option but PAD and END is code, len, data).
 */
function checkArea(b: Uint8Array, start: number, end: number): number {
  let p = start;
  while (p < end) {
    const c = b[p]!;
    if (c === DHCP_OPT_PAD) {
      p++;
      continue;
    }
    if (c === DHCP_OPT_END) return p;
    if (p + 2 > end) return -1;
    p += 2 + b[p + 1]!;
    if (p > end) return -1;
  }
  return end;
}

/** Zero-copy view of one BOOTP/DHCPv4 message. Reuse one instance per stage: `wrap()` re-points it. */
export class Dhcpv4View {
  buf: Uint8Array = EMPTY;
  off = 0;
  len = 0;
  /** The magic cookie is present: the options area is DHCP/RFC 1048 options. */
  hasMagic = false;
  /** Value of option 52 (0 when absent): OVERLOAD_FILE | OVERLOAD_SNAME. */
  overload = 0;
  /** Absolute offset of the END option of the main options area, or -1 when the area just runs out. */
  endOff = -1;
  /** Result of the last `findOption()` hit: absolute offset and length of the option's value. */
  optOff = 0;
  optLen = 0;
  private readonly cursor = new Dhcpv4OptionCursor();

  /**
   * Points the view at buf[off..off+len); checks the fixed header, op and hlen, and walks every
   * option area so that later option lookups cannot run past it.
   */
  wrap(buf: Uint8Array, off: number, len: number): WireError {
    this.buf = buf;
    this.off = off;
    this.len = len;
    this.hasMagic = false;
    this.overload = 0;
    this.endOff = -1;
    // No stale answer from the previous packet's findOption.
    this.optOff = 0;
    this.optLen = 0;
    if (len < DHCP_FIXED_LEN || off + len > buf.length) return WireError.Truncated;
    const op = buf[off + DHCP_OP]!;
    if (op !== BOOTREQUEST && op !== BOOTREPLY) return WireError.BadValue;
    if (buf[off + DHCP_HLEN]! > DHCP_CHADDR_LEN) return WireError.BadLength;
    if (len < DHCP_OPTIONS || u32(buf, off + DHCP_COOKIE) !== DHCP_MAGIC_COOKIE) return WireError.Ok;
    this.hasMagic = true;
    const end = off + len;
    const e = checkArea(buf, off + DHCP_OPTIONS, end);
    if (e < 0) return WireError.BadOption;
    this.endOff = e < end ? e : -1;
    // Option 52 counts only in the options field itself (RFC 2131 §4.1).
    let p = off + DHCP_OPTIONS;
    while (p < e) {
      const c = buf[p]!;
      if (c === DHCP_OPT_PAD) {
        p++;
        continue;
      }
      if (c === DHCP_OPT_OVERLOAD) {
        // RFC 2132 §9.3: length 1, value 1 (file), 2 (sname) or 3 (both).
        if (buf[p + 1] !== 1) return WireError.BadOption;
        const v = buf[p + 2]!;
        if (v < 1 || v > 3) return WireError.BadOption;
        this.overload = v;
        break;
      }
      p += 2 + buf[p + 1]!;
    }
    if (this.overload & OVERLOAD_FILE && checkArea(buf, off + DHCP_FILE, off + DHCP_FIXED_LEN) < 0) {
      return WireError.BadOption;
    }
    if (this.overload & OVERLOAD_SNAME && checkArea(buf, off + DHCP_SNAME, off + DHCP_FILE) < 0) {
      return WireError.BadOption;
    }
    return WireError.Ok;
  }

  get op(): number {
    return this.buf[this.off + DHCP_OP]!;
  }

  get htype(): number {
    return this.buf[this.off + DHCP_HTYPE]!;
  }

  /** Hardware address length (checked <= 16 by `wrap`). */
  get hlen(): number {
    return this.buf[this.off + DHCP_HLEN]!;
  }

  get hops(): number {
    return this.buf[this.off + DHCP_HOPS]!;
  }

  set hops(v: number) {
    this.buf[this.off + DHCP_HOPS] = v;
  }

  get xid(): number {
    return u32(this.buf, this.off + DHCP_XID);
  }

  get secs(): number {
    return u16(this.buf, this.off + DHCP_SECS);
  }

  get flags(): number {
    return u16(this.buf, this.off + DHCP_FLAGS);
  }

  set flags(v: number) {
    setU16(this.buf, this.off + DHCP_FLAGS, v);
  }

  /** The client asks for broadcast replies (RFC 2131 §4.1). */
  get broadcast(): boolean {
    return (this.buf[this.off + DHCP_FLAGS]! & 0x80) !== 0;
  }

  set broadcast(on: boolean) {
    const o = this.off + DHCP_FLAGS;
    this.buf[o] = on ? this.buf[o]! | 0x80 : this.buf[o]! & 0x7f;
  }

  get ciaddr(): number {
    return u32(this.buf, this.off + DHCP_CIADDR);
  }

  set ciaddr(v: number) {
    setU32(this.buf, this.off + DHCP_CIADDR, v);
  }

  get yiaddr(): number {
    return u32(this.buf, this.off + DHCP_YIADDR);
  }

  set yiaddr(v: number) {
    setU32(this.buf, this.off + DHCP_YIADDR, v);
  }

  get siaddr(): number {
    return u32(this.buf, this.off + DHCP_SIADDR);
  }

  set siaddr(v: number) {
    setU32(this.buf, this.off + DHCP_SIADDR, v);
  }

  get giaddr(): number {
    return u32(this.buf, this.off + DHCP_GIADDR);
  }

  set giaddr(v: number) {
    setU32(this.buf, this.off + DHCP_GIADDR, v);
  }

  /** Client hardware address as a 48-bit number when hlen is 6 (Ethernet); -1 otherwise. */
  get chaddr(): number {
    return this.buf[this.off + DHCP_HLEN] === 6 ? u48(this.buf, this.off + DHCP_CHADDR) : -1;
  }

  /** Absolute offset of chaddr (hlen bytes are meaningful, the field is 16). */
  get chaddrOff(): number {
    return this.off + DHCP_CHADDR;
  }

  get snameOff(): number {
    return this.off + DHCP_SNAME;
  }

  get fileOff(): number {
    return this.off + DHCP_FILE;
  }

  /** Absolute offset of the first option (meaningful when `hasMagic`). */
  get optionsOff(): number {
    return this.off + DHCP_OPTIONS;
  }

  /**
   * Finds the first instance of option `code` in interpretation order (options, file, sname).
   * On a hit sets `optOff`/`optLen` to the value and returns true. PAD and END are not TLVs and
   * are never found. Split options (RFC 3396) are joined by `optionBytes()` in dhcpv4-options.ts.
   */
  findOption(code: number): boolean {
    const c = this.cursor;
    c.start(this);
    while (c.next()) {
      if (c.code === code) {
        this.optOff = c.valueOff;
        this.optLen = c.len;
        return true;
      }
    }
    return false;
  }

  /** Option 53 (RFC 2132 §9.6), or 0 when it is absent or not one byte long. */
  get messageType(): number {
    return this.findOption(DHCP_OPT_MESSAGE_TYPE) && this.optLen === 1 ? this.buf[this.optOff]! : 0;
  }
}

/**
 * Allocation-free walk over the TLV options of a wrapped `Dhcpv4View`, in the order a client
 * interprets them: the options field, then `file` and `sname` when option 52 says so.
 *
 *   cur.start(view); while (cur.next()) use(cur.code, cur.valueOff, cur.len);
 */
export class Dhcpv4OptionCursor {
  /** Code of the current option. */
  code = 0;
  /** Absolute offset of the current option's value. */
  valueOff = 0;
  len = 0;
  /** AREA_OPTIONS, AREA_FILE or AREA_SNAME. */
  area = AREA_OPTIONS;
  private buf: Uint8Array = EMPTY;
  private base = 0;
  private pos = 0;
  private end = 0;
  private overload = 0;

  /** Starts at the first option of `v`, which must have wrapped with `Ok`. */
  start(v: Dhcpv4View): void {
    this.buf = v.buf;
    this.base = v.off;
    this.overload = v.overload;
    this.area = AREA_OPTIONS;
    this.pos = v.off + DHCP_OPTIONS;
    this.end = v.hasMagic ? v.off + v.len : this.pos;
  }

  /** Moves to the next TLV option; false when every area is done. */
  next(): boolean {
    const b = this.buf;
    for (;;) {
      while (this.pos < this.end) {
        const c = b[this.pos]!;
        if (c === DHCP_OPT_PAD) {
          this.pos++;
          continue;
        }
        if (c === DHCP_OPT_END) break;
        this.code = c;
        this.len = b[this.pos + 1]!;
        this.valueOff = this.pos + 2;
        this.pos += 2 + this.len;
        return true;
      }
      if (this.area === AREA_OPTIONS && this.overload & OVERLOAD_FILE) {
        this.area = AREA_FILE;
        this.pos = this.base + DHCP_FILE;
        this.end = this.base + DHCP_FIXED_LEN;
      } else if (this.area !== AREA_SNAME && this.overload & OVERLOAD_SNAME) {
        this.area = AREA_SNAME;
        this.pos = this.base + DHCP_SNAME;
        this.end = this.base + DHCP_FILE;
      } else {
        this.pos = this.end;
        return false;
      }
    }
  }
}

/** One entry of an options area as it is on the wire. PAD (0) and END (255) carry no data. */
export interface Dhcpv4Option {
  code: number;
  data: Uint8Array;
}

/** Plain representation of a BOOTP/DHCPv4 message; `emit(parse(v))` reproduces the bytes exactly. */
export interface Dhcpv4Repr {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: number;
  yiaddr: number;
  siaddr: number;
  giaddr: number;
  /** Up to 16 bytes; emitted zero-padded to the field's 16. */
  chaddr: Uint8Array;
  /** Raw field, up to 64 bytes (holds options when overloaded; see `optionList`). */
  sname: Uint8Array;
  /** Raw field, up to 128 bytes (holds options when overloaded). */
  file: Uint8Array;
  hasMagic: boolean;
  /** The options field in wire order, PAD and END included; empty without the cookie. */
  options: Dhcpv4Option[];
  /** Bytes after END (padding), or the whole vendor area of a cookie-less BOOTP message. */
  trailer: Uint8Array;
}

export function parseDhcpv4(v: Dhcpv4View): Dhcpv4Repr {
  const b = v.buf;
  const o = v.off;
  const end = o + v.len;
  const options: Dhcpv4Option[] = [];
  let p = o + DHCP_OPTIONS;
  if (v.hasMagic) {
    const stop = v.endOff < 0 ? end : v.endOff;
    while (p < stop) {
      const c = b[p]!;
      if (c === DHCP_OPT_PAD) {
        options.push({ code: c, data: EMPTY });
        p++;
        continue;
      }
      const n = b[p + 1]!;
      options.push({ code: c, data: b.slice(p + 2, p + 2 + n) });
      p += 2 + n;
    }
    if (v.endOff >= 0) {
      options.push({ code: DHCP_OPT_END, data: EMPTY });
      p = v.endOff + 1;
    }
  } else {
    p = o + DHCP_FIXED_LEN;
  }
  return {
    op: v.op,
    htype: v.htype,
    hlen: v.hlen,
    hops: v.hops,
    xid: v.xid,
    secs: v.secs,
    flags: v.flags,
    ciaddr: v.ciaddr,
    yiaddr: v.yiaddr,
    siaddr: v.siaddr,
    giaddr: v.giaddr,
    chaddr: b.slice(o + DHCP_CHADDR, o + DHCP_CHADDR + DHCP_CHADDR_LEN),
    sname: b.slice(o + DHCP_SNAME, o + DHCP_SNAME + DHCP_SNAME_LEN),
    file: b.slice(o + DHCP_FILE, o + DHCP_FILE + DHCP_FILE_LEN),
    hasMagic: v.hasMagic,
    options,
    trailer: b.slice(p, end),
  };
}

/** Bytes `options` take on the wire. */
export function dhcpv4OptionsLen(options: readonly Dhcpv4Option[]): number {
  let n = 0;
  for (const opt of options) {
    n += opt.code === DHCP_OPT_PAD || opt.code === DHCP_OPT_END ? 1 : 2 + opt.data.length;
  }
  return n;
}

/**
 * Writes an options list (PAD/END as single bytes, everything else code, len, data) at buf[off];
 * returns the bytes written. Used for the options field and for overloaded file/sname contents.
 */
export function emitDhcpv4Options(options: readonly Dhcpv4Option[], buf: Uint8Array, off: number): number {
  const n = dhcpv4OptionsLen(options);
  if (off + n > buf.length) throw new RangeError(`dhcp options need ${n} bytes at ${off}`);
  let p = off;
  for (const opt of options) {
    if (opt.code === DHCP_OPT_PAD || opt.code === DHCP_OPT_END) {
      if (opt.data.length !== 0) throw new RangeError(`dhcp option ${opt.code} carries no data`);
      buf[p++] = opt.code;
      continue;
    }
    if (opt.data.length > 255) throw new RangeError(`dhcp option ${opt.code} data over 255 bytes`);
    buf[p] = opt.code;
    buf[p + 1] = opt.data.length;
    buf.set(opt.data, p + 2);
    p += 2 + opt.data.length;
  }
  return n;
}

/** Length of the message `emitDhcpv4` writes for `r` (before any `minLen` padding). */
export function dhcpv4Len(r: Dhcpv4Repr): number {
  return (r.hasMagic ? DHCP_OPTIONS + dhcpv4OptionsLen(r.options) : DHCP_FIXED_LEN) + r.trailer.length;
}

/**
 * Writes the message into buf at off and returns its length. With `minLen` (e.g. BOOTP_MIN_LEN,
 * RFC 1542 §2.1) the message is zero-padded up to that length.
 */
export function emitDhcpv4(r: Dhcpv4Repr, buf: Uint8Array, off: number, minLen = 0): number {
  const body = dhcpv4Len(r);
  const n = Math.max(body, minLen);
  if (off + n > buf.length) throw new RangeError(`dhcp message needs ${n} bytes at ${off}`);
  if (r.chaddr.length > DHCP_CHADDR_LEN || r.sname.length > DHCP_SNAME_LEN || r.file.length > DHCP_FILE_LEN) {
    throw new RangeError('dhcp chaddr/sname/file longer than their fields');
  }
  buf.fill(0, off, off + n);
  buf[off + DHCP_OP] = r.op;
  buf[off + DHCP_HTYPE] = r.htype;
  buf[off + DHCP_HLEN] = r.hlen;
  buf[off + DHCP_HOPS] = r.hops;
  setU32(buf, off + DHCP_XID, r.xid);
  setU16(buf, off + DHCP_SECS, r.secs);
  setU16(buf, off + DHCP_FLAGS, r.flags);
  setU32(buf, off + DHCP_CIADDR, r.ciaddr);
  setU32(buf, off + DHCP_YIADDR, r.yiaddr);
  setU32(buf, off + DHCP_SIADDR, r.siaddr);
  setU32(buf, off + DHCP_GIADDR, r.giaddr);
  buf.set(r.chaddr, off + DHCP_CHADDR);
  buf.set(r.sname, off + DHCP_SNAME);
  buf.set(r.file, off + DHCP_FILE);
  let p = off + DHCP_FIXED_LEN;
  if (r.hasMagic) {
    setU32(buf, off + DHCP_COOKIE, DHCP_MAGIC_COOKIE);
    p = off + DHCP_OPTIONS;
    p += emitDhcpv4Options(r.options, buf, p);
  }
  buf.set(r.trailer, p);
  return n;
}
