/**
 * DHCPv4 option values decoded on demand from a wrapped `Dhcpv4View` (RFC 2132), classless static
 * routes (RFC 3442), and the relay agent information option 82 (RFC 3046) with the in-place
 * insert/strip a relay performs.
 *
 * Number-returning decoders do not allocate: they return the value, `OPT_ABSENT` or
 * `OPT_MALFORMED`. Decoders returning strings or byte arrays allocate and are meant for the
 * control plane and traces.
 */
import { EMPTY, setU32, u32 } from './bytes.js';
import {
  BOOTP_MIN_LEN,
  DHCP_OPT_CLIENT_ID,
  DHCP_OPT_DNS,
  DHCP_OPT_END,
  DHCP_OPT_HOSTNAME,
  DHCP_OPT_LEASE_TIME,
  DHCP_OPT_PAD,
  DHCP_OPT_PARAMETER_LIST,
  DHCP_OPT_REBINDING_TIME,
  DHCP_OPT_RELAY_AGENT_INFO,
  DHCP_OPT_RENEWAL_TIME,
  DHCP_OPT_REQUESTED_IP,
  DHCP_OPT_ROUTER,
  DHCP_OPT_SERVER_ID,
  DHCP_OPT_SUBNET_MASK,
  type Dhcpv4Option,
  Dhcpv4OptionCursor,
  type Dhcpv4View,
} from './dhcpv4.js';
import { WireError } from './errors.js';

/** The option is not in the message. */
export const OPT_ABSENT = -1;
/** The option is there but its length does not fit its type. */
export const OPT_MALFORMED = -2;

/** A 4-byte option (address or seconds) as an unsigned number, or OPT_ABSENT / OPT_MALFORMED. */
export function optionU32(v: Dhcpv4View, code: number): number {
  if (!v.findOption(code)) return OPT_ABSENT;
  return v.optLen === 4 ? u32(v.buf, v.optOff) : OPT_MALFORMED;
}

/** Option 1 (RFC 2132 §3.3). */
export function subnetMask(v: Dhcpv4View): number {
  return optionU32(v, DHCP_OPT_SUBNET_MASK);
}

/** Option 50 (RFC 2132 §9.1). */
export function requestedIp(v: Dhcpv4View): number {
  return optionU32(v, DHCP_OPT_REQUESTED_IP);
}

/** Option 51, seconds (RFC 2132 §9.2); 0xffffffff means infinity. */
export function leaseTime(v: Dhcpv4View): number {
  return optionU32(v, DHCP_OPT_LEASE_TIME);
}

/** Option 54 (RFC 2132 §9.7). */
export function serverId(v: Dhcpv4View): number {
  return optionU32(v, DHCP_OPT_SERVER_ID);
}

/** Option 58, T1 in seconds (RFC 2132 §9.11). */
export function renewalTime(v: Dhcpv4View): number {
  return optionU32(v, DHCP_OPT_RENEWAL_TIME);
}

/** Option 59, T2 in seconds (RFC 2132 §9.12). */
export function rebindingTime(v: Dhcpv4View): number {
  return optionU32(v, DHCP_OPT_REBINDING_TIME);
}

/**
 * An address-list option: copies up to `out.length` addresses into `out` and returns how many the
 * option holds, or OPT_ABSENT / OPT_MALFORMED (length 0 or not a multiple of 4: RFC 2132 §3.5
 * and §3.8 ask for at least one address, 4 octets each).
 */
export function optionAddresses(v: Dhcpv4View, code: number, out: Uint32Array): number {
  if (!v.findOption(code)) return OPT_ABSENT;
  const n = v.optLen;
  if (n === 0 || n % 4 !== 0) return OPT_MALFORMED;
  const count = n / 4;
  const copy = Math.min(count, out.length);
  for (let i = 0; i < copy; i++) out[i] = u32(v.buf, v.optOff + 4 * i);
  return count;
}

/** Option 3 (RFC 2132 §3.5), in order of preference. */
export function routers(v: Dhcpv4View, out: Uint32Array): number {
  return optionAddresses(v, DHCP_OPT_ROUTER, out);
}

/** Option 6 (RFC 2132 §3.8), in order of preference. */
export function dnsServers(v: Dhcpv4View, out: Uint32Array): number {
  return optionAddresses(v, DHCP_OPT_DNS, out);
}

/**
 * Option 55 (RFC 2132 §9.8): copies up to `out.length` requested codes into `out` and returns how
 * many there are, or OPT_ABSENT / OPT_MALFORMED (the minimum length is 1).
 */
export function parameterRequestList(v: Dhcpv4View, out: Uint8Array): number {
  if (!v.findOption(DHCP_OPT_PARAMETER_LIST)) return OPT_ABSENT;
  if (v.optLen === 0) return OPT_MALFORMED;
  const copy = Math.min(v.optLen, out.length);
  for (let i = 0; i < copy; i++) out[i] = v.buf[v.optOff + i]!;
  return v.optLen;
}

/** Whether the client's parameter request list (option 55) asks for `code`. */
export function isParameterRequested(v: Dhcpv4View, code: number): boolean {
  if (!v.findOption(DHCP_OPT_PARAMETER_LIST)) return false;
  for (let i = 0; i < v.optLen; i++) if (v.buf[v.optOff + i] === code) return true;
  return false;
}

/**
 * The value of option `code` with every instance joined in interpretation order, as RFC 3396 §6
 * asks for options split across instances or areas; null when absent. Allocates.
 */
export function optionBytes(v: Dhcpv4View, code: number): Uint8Array | null {
  const cur = new Dhcpv4OptionCursor();
  let total = 0;
  let seen = false;
  cur.start(v);
  while (cur.next()) {
    if (cur.code !== code) continue;
    seen = true;
    total += cur.len;
  }
  if (!seen) return null;
  const out = new Uint8Array(total);
  let p = 0;
  cur.start(v);
  while (cur.next()) {
    if (cur.code !== code) continue;
    out.set(v.buf.subarray(cur.valueOff, cur.valueOff + cur.len), p);
    p += cur.len;
  }
  return out;
}

/** An option's value as text, one character per byte (NVT ASCII per RFC 2132 §3.14); null when absent. */
export function optionText(v: Dhcpv4View, code: number): string | null {
  const b = optionBytes(v, code);
  if (b === null) return null;
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** Option 12 (RFC 2132 §3.14); null when absent or empty (its minimum length is 1). Allocates. */
export function hostname(v: Dhcpv4View): string | null {
  const s = optionText(v, DHCP_OPT_HOSTNAME);
  return s === null || s.length === 0 ? null : s;
}

/**
 * Option 61 (RFC 2132 §9.14): type octet then identifier, minimum length 2. Null when absent or
 * shorter. Allocates.
 */
export function clientId(v: Dhcpv4View): Uint8Array | null {
  const b = optionBytes(v, DHCP_OPT_CLIENT_ID);
  return b === null || b.length < 2 ? null : b;
}

/** An option with the area it was found in (AREA_OPTIONS, AREA_FILE, AREA_SNAME). */
export interface Dhcpv4FoundOption extends Dhcpv4Option {
  area: number;
}

/** Every TLV option in interpretation order, overloaded areas included (no PAD/END). Allocates. */
export function optionList(v: Dhcpv4View): Dhcpv4FoundOption[] {
  const cur = new Dhcpv4OptionCursor();
  const out: Dhcpv4FoundOption[] = [];
  cur.start(v);
  while (cur.next()) {
    out.push({ code: cur.code, data: v.buf.slice(cur.valueOff, cur.valueOff + cur.len), area: cur.area });
  }
  return out;
}

// ---- option 121: classless static routes (RFC 3442) ----

/** RFC 3442: one descriptor (width + 0 significant octets) plus a router is 5 bytes at least. */
export const CLASSLESS_ROUTES_MIN_LEN = 5;

/** Significant octets of a destination of this width: width / 8 rounded up (RFC 3442). */
function significantOctets(width: number): number {
  return (width + 7) >>> 3;
}

/**
 * Allocation-free reader of an option 121 value:
 *
 *   if (r.wrap(v.buf, v.optOff, v.optLen) === WireError.Ok) while (r.next()) add(r.prefix, r.prefixLen, r.gateway);
 */
export class ClasslessRouteReader {
  /** Destination network (host bits beyond the width are cleared). */
  prefix = 0;
  prefixLen = 0;
  gateway = 0;
  private buf: Uint8Array = EMPTY;
  private pos = 0;
  private end = 0;

  /** Checks every descriptor of the value at buf[off..off+len) before the first `next()`. */
  wrap(buf: Uint8Array, off: number, len: number): WireError {
    this.buf = buf;
    this.pos = off;
    this.end = off;
    if (off + len > buf.length) return WireError.Truncated;
    if (len < CLASSLESS_ROUTES_MIN_LEN) return WireError.BadOption;
    const end = off + len;
    let p = off;
    while (p < end) {
      const width = buf[p]!;
      // RFC 3442: the width is a count of mask bits, so at most 32; the significant octets and
      // the 4-octet router must both be present.
      if (width > 32) return WireError.BadOption;
      p += 1 + significantOctets(width) + 4;
      if (p > end) return WireError.BadOption;
    }
    this.end = end;
    return WireError.Ok;
  }

  /** Moves to the next route; false at the end. */
  next(): boolean {
    if (this.pos >= this.end) return false;
    const b = this.buf;
    const width = b[this.pos]!;
    const n = significantOctets(width);
    let a = 0;
    for (let i = 0; i < 4; i++) a = a * 256 + (i < n ? b[this.pos + 1 + i]! : 0);
    // Octets are sent whole, so bits past the width may be set; the destination is masked to it.
    const mask = width === 0 ? 0 : (0xffffffff << (32 - width)) >>> 0;
    this.prefix = (a & mask) >>> 0;
    this.prefixLen = width;
    this.gateway = u32(b, this.pos + 1 + n);
    this.pos += 1 + n + 4;
    return true;
  }
}

export interface ClasslessRoute {
  prefix: number;
  prefixLen: number;
  gateway: number;
}

/** Bytes `routes` take as an option 121 value. */
export function classlessRoutesLen(routes: readonly ClasslessRoute[]): number {
  let n = 0;
  for (const r of routes) n += 1 + significantOctets(r.prefixLen) + 4;
  return n;
}

/** Encodes routes as an option 121 value at buf[off]; returns the bytes written. */
export function emitClasslessRoutes(routes: readonly ClasslessRoute[], buf: Uint8Array, off: number): number {
  const n = classlessRoutesLen(routes);
  if (off + n > buf.length) throw new RangeError(`classless routes need ${n} bytes at ${off}`);
  let p = off;
  for (const r of routes) {
    if (r.prefixLen < 0 || r.prefixLen > 32) throw new RangeError(`prefix length ${r.prefixLen}`);
    const sig = significantOctets(r.prefixLen);
    buf[p++] = r.prefixLen;
    for (let i = 0; i < sig; i++) buf[p++] = r.prefix >>> (24 - 8 * i);
    setU32(buf, p, r.gateway);
    p += 4;
  }
  return n;
}

// ---- option 82: relay agent information (RFC 3046) ----

/** Sub-option codes (RFC 3046 §3.1, §3.2). */
export const RELAY_SUBOPT_CIRCUIT_ID = 1;
export const RELAY_SUBOPT_REMOTE_ID = 2;

/** Checks that buf[off..off+len) is a list of code, len, value sub-options (RFC 3046 §2.0). */
function checkSubOptions(buf: Uint8Array, off: number, len: number): boolean {
  const end = off + len;
  let p = off;
  while (p < end) {
    if (p + 2 > end) return false;
    p += 2 + buf[p + 1]!;
  }
  return p === end;
}

/** Zero-copy view of the value of option 82: a list of sub-options, none of them PAD or END. */
export class RelayAgentInfoView {
  buf: Uint8Array = EMPTY;
  off = 0;
  len = 0;
  /** Result of the last `find()` hit: absolute offset and length of the sub-option's value. */
  subOff = 0;
  subLen = 0;

  /** Points the view at an option 82 value (e.g. `v.optOff`, `v.optLen` after `findOption(82)`). */
  wrap(buf: Uint8Array, off: number, len: number): WireError {
    this.buf = buf;
    this.off = off;
    this.len = len;
    if (off + len > buf.length) return WireError.Truncated;
    return checkSubOptions(buf, off, len) ? WireError.Ok : WireError.BadOption;
  }

  /** Finds the first sub-option `code`; on a hit sets `subOff`/`subLen` and returns true. */
  find(code: number): boolean {
    const b = this.buf;
    const end = this.off + this.len;
    let p = this.off;
    while (p < end) {
      const n = b[p + 1]!;
      if (b[p] === code) {
        this.subOff = p + 2;
        this.subLen = n;
        return true;
      }
      p += 2 + n;
    }
    return false;
  }

  /** Sub-option 1, the circuit the request came in on (RFC 3046 §3.1). */
  findCircuitId(): boolean {
    return this.find(RELAY_SUBOPT_CIRCUIT_ID);
  }

  /** Sub-option 2, the remote end of the circuit (RFC 3046 §3.2). */
  findRemoteId(): boolean {
    return this.find(RELAY_SUBOPT_REMOTE_ID);
  }
}

/** All sub-options in order, unknown codes carried raw. Allocates. */
export function parseRelayAgentInfo(ri: RelayAgentInfoView): Dhcpv4Option[] {
  const out: Dhcpv4Option[] = [];
  const end = ri.off + ri.len;
  let p = ri.off;
  while (p < end) {
    const n = ri.buf[p + 1]!;
    out.push({ code: ri.buf[p]!, data: ri.buf.slice(p + 2, p + 2 + n) });
    p += 2 + n;
  }
  return out;
}

/** Encodes sub-options as an option 82 value at buf[off] (what a relay inserts); returns its length. */
export function emitRelayAgentInfo(subs: readonly Dhcpv4Option[], buf: Uint8Array, off: number): number {
  let n = 0;
  for (const s of subs) {
    if (s.data.length > 255) throw new RangeError(`relay sub-option ${s.code} over 255 bytes`);
    n += 2 + s.data.length;
  }
  if (n > 255) throw new RangeError(`relay agent information of ${n} bytes exceeds an option`);
  if (off + n > buf.length) throw new RangeError(`relay agent information needs ${n} bytes at ${off}`);
  let p = off;
  for (const s of subs) {
    buf[p] = s.code;
    buf[p + 1] = s.data.length;
    buf.set(s.data, p + 2);
    p += 2 + s.data.length;
  }
  return n;
}

/**
 * Adds option 82 with the value info[infoOff..infoOff+infoLen) as the last option, in front of
 * END (RFC 3046 §2.1), overwriting trailing padding first and growing the message only as much
 * as needed. `maxLen` is the longest the message may become (buffer room, MTU, the server's
 * maximum). On `Ok` the view's `len` and `endOff` describe the new message. Errors:
 * - Unsupported: no magic cookie, so no options area (plain BOOTP);
 * - Duplicate: the message already carries option 82 (RFC 3046 §2.1.1 leaves the policy to the
 *   caller: a relay on an untrusted circuit discards it, a trusted one forwards it unchanged);
 * - NoRoom: it would not fit (RFC 3046 §2.1: forward without the option, count the error);
 * - BadLength / BadOption: the value is over 255 bytes or is not a list of sub-options.
 * `info` must not overlap the message.
 */
export function insertRelayAgentInfo(
  v: Dhcpv4View,
  maxLen: number,
  info: Uint8Array,
  infoOff: number,
  infoLen: number,
): WireError {
  if (!v.hasMagic) return WireError.Unsupported;
  if (infoLen > 255 || infoOff + infoLen > info.length) return WireError.BadLength;
  if (!checkSubOptions(info, infoOff, infoLen)) return WireError.BadOption;
  if (v.findOption(DHCP_OPT_RELAY_AGENT_INFO)) return WireError.Duplicate;
  const b = v.buf;
  const at = v.endOff >= 0 ? v.endOff : v.off + v.len;
  const newEnd = at + 2 + infoLen + 1;
  const newLen = Math.max(newEnd - v.off, v.len);
  if (newLen > maxLen || v.off + newLen > b.length) return WireError.NoRoom;
  b[at] = DHCP_OPT_RELAY_AGENT_INFO;
  b[at + 1] = infoLen;
  for (let i = 0; i < infoLen; i++) b[at + 2 + i] = info[infoOff + i]!;
  b[newEnd - 1] = DHCP_OPT_END;
  v.len = newLen;
  v.endOff = newEnd - 1;
  return WireError.Ok;
}

/**
 * Removes every option 82 from the options field of a reply before it goes to the client
 * (RFC 3046 §2.1, §2.2: the server echoes it, the relay strips it). Later options, END and the
 * padding move up and the message shrinks, but one of 300 bytes or more keeps at least 300
 * (RFC 1542 §2.1), the gap filled with PAD. Returns the new length, also set in `v.len`.
 */
export function stripRelayAgentInfo(v: Dhcpv4View): number {
  if (!v.hasMagic) return v.len;
  const b = v.buf;
  let msgEnd = v.off + v.len;
  let stop = v.endOff >= 0 ? v.endOff : msgEnd;
  let p = v.optionsOff;
  let removed = 0;
  while (p < stop) {
    const c = b[p]!;
    if (c === DHCP_OPT_PAD) {
      p++;
      continue;
    }
    const size = 2 + b[p + 1]!;
    if (c !== DHCP_OPT_RELAY_AGENT_INFO) {
      p += size;
      continue;
    }
    b.copyWithin(p, p + size, msgEnd);
    msgEnd -= size;
    stop -= size;
    removed += size;
  }
  if (removed === 0) return v.len;
  // A conforming message stays at 300 bytes at least; a shorter one just shrinks.
  const newLen = v.len >= BOOTP_MIN_LEN ? Math.max(v.len - removed, BOOTP_MIN_LEN) : v.len - removed;
  b.fill(DHCP_OPT_PAD, msgEnd, v.off + newLen);
  if (v.endOff >= 0) v.endOff -= removed;
  v.len = newLen;
  return newLen;
}
