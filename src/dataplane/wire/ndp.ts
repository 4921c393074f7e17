/**
 * Neighbor Discovery options (RFC 4861 §4.6): type, length in units of 8 octets, value.
 *
 *   0      1      2
 *   | type | len  | value … (len * 8 - 2 bytes)
 *
 * Known here: source/target link-layer address (1/2), prefix information (3), redirected
 * header (4), MTU (5) and recursive DNS servers (25, RFC 8106). Others are skipped by length.
 * `NdpOptionView` walks an options area without allocating; `parseNdpOptionList` /
 * `emitNdpOptionList` convert to and from a list of `NdpOption` for the control plane and tests.
 */
import { EMPTY, setU16, setU32, setU48, u16, u32, u48 } from './bytes.js';
import { WireError } from './errors.js';

export const NDP_OPT_SOURCE_LLA = 1;
export const NDP_OPT_TARGET_LLA = 2;
export const NDP_OPT_PREFIX_INFO = 3;
export const NDP_OPT_REDIRECTED_HEADER = 4;
export const NDP_OPT_MTU = 5;
export const NDP_OPT_RDNSS = 25;

/** Options are sized in units of this many octets. */
export const NDP_OPT_UNIT = 8;

// Prefix information (RFC 4861 §4.6.2), offsets from the option start; length is always 4.
export const NDP_PI_PREFIX_LEN = 2;
export const NDP_PI_FLAGS = 3;
export const NDP_PI_VALID_LIFETIME = 4;
export const NDP_PI_PREFERRED_LIFETIME = 8;
export const NDP_PI_RESERVED2 = 12;
export const NDP_PI_PREFIX = 16;
export const NDP_PI_LEN = 32;
/** L: the prefix is on-link. */
export const NDP_PI_FLAG_ON_LINK = 0x80;
/** A: the prefix may be used for stateless address autoconfiguration. */
export const NDP_PI_FLAG_AUTONOMOUS = 0x40;

// Redirected header (RFC 4861 §4.6.3): 6 reserved bytes, then the start of the redirected packet.
export const NDP_RH_PACKET = 8;

// MTU (RFC 4861 §4.6.4): 2 reserved bytes, then the MTU; length is always 1.
export const NDP_MTU_VALUE = 4;
export const NDP_MTU_LEN = 8;

// RDNSS (RFC 8106 §5.1): 2 reserved bytes, lifetime, then 16-byte addresses.
export const NDP_RDNSS_LIFETIME = 4;
export const NDP_RDNSS_ADDRS = 8;

/**
 * A cursor over an options area: `reset()` it, then each `next()` that returns true leaves
 * `type`, `off` (absolute offset of the option's type byte) and `len` (bytes) on one option
 * that passed the checks below, so its accessors are safe. `next()` returns false at the end
 * of the area (`error` is Ok) or at the first malformed option (`error` says why).
 */
export class NdpOptionView {
  buf: Uint8Array = EMPTY;
  /** Absolute offset of the current option. */
  off = 0;
  /** Length of the current option in bytes (a multiple of 8, at least 8). */
  len = 0;
  type = 0;
  error: WireError = WireError.Ok;
  private end = 0;
  private pos = 0;

  /** Points the cursor at the options area buf[start..end) (the caller has checked it lies in buf). */
  reset(buf: Uint8Array, start: number, end: number): void {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.off = start;
    this.len = 0;
    this.type = 0;
    this.error = WireError.Ok;
  }

  /**
   * Moves to the next option. RFC 4861 §4.6: a length of 0 is invalid (the packet must be
   * discarded); an option running past the area is also `BadOption`, as is a known option whose
   * length cannot hold its fixed fields (prefix information 4, MTU 1, RDNSS odd and >= 3).
   */
  next(): boolean {
    const p = this.pos;
    if (p >= this.end || this.error !== WireError.Ok) return false;
    if (p + 2 > this.end) return this.fail();
    const t = this.buf[p]!;
    const n = this.buf[p + 1]! * NDP_OPT_UNIT;
    if (n === 0 || p + n > this.end) return this.fail();
    if (!lengthFits(t, n)) return this.fail();
    this.type = t;
    this.off = p;
    this.len = n;
    this.pos = p + n;
    return true;
  }

  private fail(): boolean {
    this.error = WireError.BadOption;
    this.off = this.pos;
    this.len = 0;
    return false;
  }

  // ---- link-layer address options (types 1 and 2) ----

  /** Absolute offset of the link-layer address. */
  get linkAddrOff(): number {
    return this.off + 2;
  }

  /** Bytes available for the address (len - 2; 6 for Ethernet with len 8). */
  get linkAddrLen(): number {
    return this.len - 2;
  }

  /** The address as a 48-bit number (Ethernet, RFC 2464 §8). */
  get linkAddr(): number {
    return u48(this.buf, this.off + 2);
  }

  // ---- prefix information (type 3) ----

  get prefixLength(): number {
    return this.buf[this.off + NDP_PI_PREFIX_LEN]!;
  }

  get prefixFlags(): number {
    return this.buf[this.off + NDP_PI_FLAGS]!;
  }

  get prefixOnLink(): boolean {
    return (this.prefixFlags & NDP_PI_FLAG_ON_LINK) !== 0;
  }

  get prefixAutonomous(): boolean {
    return (this.prefixFlags & NDP_PI_FLAG_AUTONOMOUS) !== 0;
  }

  /** Seconds; 0xffffffff means infinity (RFC 4861 §4.6.2). */
  get validLifetime(): number {
    return u32(this.buf, this.off + NDP_PI_VALID_LIFETIME);
  }

  get preferredLifetime(): number {
    return u32(this.buf, this.off + NDP_PI_PREFERRED_LIFETIME);
  }

  /** Absolute offset of the 16-byte prefix. */
  get prefixOff(): number {
    return this.off + NDP_PI_PREFIX;
  }

  // ---- redirected header (type 4) ----

  /** Absolute offset of the redirected packet's first byte. */
  get redirectedOff(): number {
    return this.off + NDP_RH_PACKET;
  }

  get redirectedLen(): number {
    return this.len - NDP_RH_PACKET;
  }

  // ---- MTU (type 5) ----

  get mtu(): number {
    return u32(this.buf, this.off + NDP_MTU_VALUE);
  }

  // ---- RDNSS (type 25) ----

  /** Seconds; 0xffffffff means infinity (RFC 8106 §5.1). */
  get rdnssLifetime(): number {
    return u32(this.buf, this.off + NDP_RDNSS_LIFETIME);
  }

  get rdnssCount(): number {
    return (this.len - NDP_RDNSS_ADDRS) / 16;
  }

  /** Absolute offset of server address i (< rdnssCount). */
  rdnssAddrOff(i: number): number {
    return this.off + NDP_RDNSS_ADDRS + 16 * i;
  }
}

/** Whether an option of type t can be n bytes long (n is a positive multiple of 8). */
function lengthFits(t: number, n: number): boolean {
  switch (t) {
    case NDP_OPT_PREFIX_INFO:
      return n === NDP_PI_LEN;
    case NDP_OPT_MTU:
      return n === NDP_MTU_LEN;
    case NDP_OPT_RDNSS:
      // RFC 8106 §5.1: length 3 + 2 per address, at least one address.
      return n >= 24 && (n - NDP_RDNSS_ADDRS) % 16 === 0;
    default:
      return true;
  }
}

/** One option as carried in a repr, in wire order. */
export type NdpOption =
  /** `addr` holds len*8-2 bytes: the address and any padding (6 bytes for Ethernet). */
  | { kind: 'source-lla'; addr: Uint8Array }
  | { kind: 'target-lla'; addr: Uint8Array }
  | {
      kind: 'prefix-info';
      prefixLength: number;
      /** The whole flags byte (NDP_PI_FLAG_* and the reserved bits). */
      flags: number;
      validLifetime: number;
      preferredLifetime: number;
      reserved2: number;
      prefix: Uint8Array;
    }
  /** `reserved` is the 48-bit reserved field; `packet` includes any zero padding to 8 bytes. */
  | { kind: 'redirected-header'; reserved: number; packet: Uint8Array }
  | { kind: 'mtu'; reserved: number; mtu: number }
  | { kind: 'rdnss'; reserved: number; lifetime: number; servers: Uint8Array[] }
  /** `data` is everything after the type and length bytes (len*8-2 bytes when parsed). */
  | { kind: 'unknown'; type: number; data: Uint8Array }
  /** Bytes from the first malformed option to the end of the area, carried through unchanged. */
  | { kind: 'malformed'; bytes: Uint8Array };

/** Decodes the options area buf[start..end) into a list; a malformed tail becomes one 'malformed' entry. */
export function parseNdpOptionList(buf: Uint8Array, start: number, end: number): NdpOption[] {
  const c = new NdpOptionView();
  c.reset(buf, start, end);
  const out: NdpOption[] = [];
  while (c.next()) out.push(decodeOption(c));
  if (c.error !== WireError.Ok) out.push({ kind: 'malformed', bytes: buf.slice(c.off, end) });
  return out;
}

function decodeOption(c: NdpOptionView): NdpOption {
  const b = c.buf;
  const o = c.off;
  switch (c.type) {
    case NDP_OPT_SOURCE_LLA:
      return { kind: 'source-lla', addr: b.slice(o + 2, o + c.len) };
    case NDP_OPT_TARGET_LLA:
      return { kind: 'target-lla', addr: b.slice(o + 2, o + c.len) };
    case NDP_OPT_PREFIX_INFO:
      return {
        kind: 'prefix-info',
        prefixLength: c.prefixLength,
        flags: c.prefixFlags,
        validLifetime: c.validLifetime,
        preferredLifetime: c.preferredLifetime,
        reserved2: u32(b, o + NDP_PI_RESERVED2),
        prefix: b.slice(c.prefixOff, c.prefixOff + 16),
      };
    case NDP_OPT_REDIRECTED_HEADER:
      return {
        kind: 'redirected-header',
        reserved: u48(b, o + 2),
        packet: b.slice(c.redirectedOff, o + c.len),
      };
    case NDP_OPT_MTU:
      return { kind: 'mtu', reserved: u16(b, o + 2), mtu: c.mtu };
    case NDP_OPT_RDNSS: {
      const servers: Uint8Array[] = [];
      for (let i = 0; i < c.rdnssCount; i++) servers.push(b.slice(c.rdnssAddrOff(i), c.rdnssAddrOff(i) + 16));
      return { kind: 'rdnss', reserved: u16(b, o + 2), lifetime: c.rdnssLifetime, servers };
    }
    default:
      return { kind: 'unknown', type: c.type, data: b.slice(o + 2, o + c.len) };
  }
}

/** Rounds a byte count up to whole 8-octet units. */
function units(n: number): number {
  return Math.ceil(n / NDP_OPT_UNIT);
}

/** Wire size of one option, padding included. */
export function ndpOptionLen(o: NdpOption): number {
  switch (o.kind) {
    case 'source-lla':
    case 'target-lla':
      return units(2 + o.addr.length) * NDP_OPT_UNIT;
    case 'prefix-info':
      return NDP_PI_LEN;
    case 'redirected-header':
      return units(NDP_RH_PACKET + o.packet.length) * NDP_OPT_UNIT;
    case 'mtu':
      return NDP_MTU_LEN;
    case 'rdnss':
      return NDP_RDNSS_ADDRS + 16 * o.servers.length;
    case 'unknown':
      return units(2 + o.data.length) * NDP_OPT_UNIT;
    case 'malformed':
      return o.bytes.length;
  }
}

export function ndpOptionListLen(opts: readonly NdpOption[]): number {
  let n = 0;
  for (const o of opts) n += ndpOptionLen(o);
  return n;
}

/**
 * Writes the options at buf[off..) (zero padding each to a multiple of 8) and returns the bytes
 * written. The caller has checked the room (`ndpOptionListLen`). Throws `RangeError` for an option
 * too long for its 8-bit length field and for an RDNSS option without servers (neither would parse).
 */
export function emitNdpOptionList(opts: readonly NdpOption[], buf: Uint8Array, off: number): number {
  let p = off;
  for (const o of opts) {
    const n = ndpOptionLen(o);
    if (o.kind === 'malformed') {
      buf.set(o.bytes, p);
      p += n;
      continue;
    }
    if (n > 255 * NDP_OPT_UNIT)
      throw new RangeError(`ndp option of ${n} bytes exceeds ${255 * NDP_OPT_UNIT}`);
    if (o.kind === 'rdnss' && o.servers.length === 0) throw new RangeError('rdnss option needs a server');
    buf.fill(0, p, p + n);
    buf[p + 1] = n / NDP_OPT_UNIT;
    switch (o.kind) {
      case 'source-lla':
      case 'target-lla':
        buf[p] = o.kind === 'source-lla' ? NDP_OPT_SOURCE_LLA : NDP_OPT_TARGET_LLA;
        buf.set(o.addr, p + 2);
        break;
      case 'prefix-info':
        buf[p] = NDP_OPT_PREFIX_INFO;
        buf[p + NDP_PI_PREFIX_LEN] = o.prefixLength;
        buf[p + NDP_PI_FLAGS] = o.flags;
        setU32(buf, p + NDP_PI_VALID_LIFETIME, o.validLifetime);
        setU32(buf, p + NDP_PI_PREFERRED_LIFETIME, o.preferredLifetime);
        setU32(buf, p + NDP_PI_RESERVED2, o.reserved2);
        buf.set(o.prefix.subarray(0, 16), p + NDP_PI_PREFIX);
        break;
      case 'redirected-header':
        buf[p] = NDP_OPT_REDIRECTED_HEADER;
        setU48(buf, p + 2, o.reserved);
        buf.set(o.packet, p + NDP_RH_PACKET);
        break;
      case 'mtu':
        buf[p] = NDP_OPT_MTU;
        setU16(buf, p + 2, o.reserved);
        setU32(buf, p + NDP_MTU_VALUE, o.mtu);
        break;
      case 'rdnss':
        buf[p] = NDP_OPT_RDNSS;
        setU16(buf, p + 2, o.reserved);
        setU32(buf, p + NDP_RDNSS_LIFETIME, o.lifetime);
        for (let i = 0; i < o.servers.length; i++)
          buf.set(o.servers[i]!.subarray(0, 16), p + NDP_RDNSS_ADDRS + 16 * i);
        break;
      case 'unknown':
        buf[p] = o.type;
        buf.set(o.data, p + 2);
        break;
    }
    p += n;
  }
  return p - off;
}
