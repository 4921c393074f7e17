/**
 * Parsers for network values in the config: addresses, prefixes (with the host-bits rule), marks,
 * ports and port ranges, DSCP, protocols, MACs, endpoints, NAT targets, WireGuard keys, L2TP
 * cookies. Each returns the typed value or a `Fail` with the user-facing message.
 *
 * Host-bits rule: a prefix that names a network (route destination, rule selector, match,
 * set element, allowed-ips) must have every bit past its length zero, as `ip route` insists;
 * an interface address (`ports[].addresses`) is a host address plus the length of its subnet, so
 * its host part may not be all zeros or (IPv4) all ones when the subnet has room for hosts.
 */
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6, parseMac } from '../../dataplane/wire/bytes.js';
import type { Address, Mark, PortRange, Prefix } from './types.js';
import { describe, expected, Fail, type Parsed } from './values.js';

export function prefixMask4(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** Copy of `a` with the bits past `len` cleared. */
export function maskBytes(a: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, len - 8 * i));
    out[i] = a[i]! & ((0xff00 >> bits) & 0xff);
  }
  return out;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return a.length === b.length;
}

export function formatAddress(a: Address): string {
  return a.family === 4 ? formatIpv4(a.addr) : formatIpv6(a.addr);
}

export function formatPrefix(p: Prefix): string {
  return `${p.family === 4 ? formatIpv4(p.addr) : formatIpv6(p.addr)}/${p.len}`;
}

/** Whether prefix `p` contains address `a` (same family). */
export function prefixContains(p: Prefix, a: Address): boolean {
  if (p.family !== a.family) return false;
  if (p.family === 4) {
    const m = prefixMask4(p.len);
    return (p.addr & m) >>> 0 === ((a.addr as number) & m) >>> 0;
  }
  return bytesEqual(maskBytes(p.addr, p.len), maskBytes(a.addr as Uint8Array, p.len));
}

export function sameAddress(a: Address, b: Address): boolean {
  if (a.family !== b.family) return false;
  return a.family === 4 ? a.addr === b.addr : bytesEqual(a.addr, b.addr as Uint8Array);
}

export function samePrefix(a: Prefix, b: Prefix): boolean {
  return a.len === b.len && sameAddress(a, b);
}

function looksV6(s: string): boolean {
  return s.includes(':');
}

/** An IPv4 or IPv6 address. `family` restricts it. */
export function address(v: unknown, family?: 4 | 6): Parsed<Address> {
  const what = family === 4 ? 'an IPv4 address' : family === 6 ? 'an IPv6 address' : 'an IP address';
  if (typeof v !== 'string') return expected(what, v);
  if (looksV6(v)) {
    const a = parseIpv6(v);
    if (!a) return new Fail(`${describe(v)} is not an IPv6 address`);
    if (family === 4) return new Fail(`${describe(v)} is an IPv6 address; expected IPv4`);
    return { family: 6, addr: a };
  }
  const a = parseIpv4(v);
  if (a === null) {
    return new Fail(
      `${describe(v)} is not ${/^[\d.]+$/.test(v) || family === 4 ? 'an IPv4' : 'an IP'} address`,
    );
  }
  if (family === 6) return new Fail(`${describe(v)} is an IPv4 address; expected IPv6`);
  return { family: 4, addr: a };
}

export type PrefixMode = 'network' | 'interface';

/**
 * "addr/len" (a bare address means the full length, as in iproute2). `network` mode applies the
 * host-bits rule; `interface` mode keeps host bits and rejects network/broadcast addresses.
 */
export function prefix(v: unknown, mode: PrefixMode, family?: 4 | 6): Parsed<Prefix> {
  const fam = family === 4 ? 'an IPv4 ' : family === 6 ? 'an IPv6 ' : 'an IP ';
  const kind = mode === 'network' ? 'prefix' : 'address with prefix length';
  if (typeof v !== 'string') return expected(`${fam}${kind}`, v);
  const slash = v.indexOf('/');
  const text = slash < 0 ? v : v.slice(0, slash);
  const lenText = slash < 0 ? null : v.slice(slash + 1);
  const v6 = looksV6(text);
  const famName = v6 ? 'IPv6' : 'IPv4';
  if (!v6 && !/^[\d.]+$/.test(text)) return new Fail(`${describe(v)} is not ${fam}prefix`);
  const bad = new Fail(`${describe(v)} is not an ${famName} prefix`);
  const max = v6 ? 128 : 32;
  let len = max;
  if (lenText !== null) {
    if (!/^\d{1,3}$/.test(lenText)) return bad;
    len = Number(lenText);
    if (len > max)
      return new Fail(`${describe(v)} is not an ${famName} prefix (length ${len} is over ${max})`);
  }
  if (family === 4 && v6) return new Fail(`${describe(v)} is an IPv6 prefix; expected IPv4`);
  if (family === 6 && !v6) return new Fail(`${describe(v)} is an IPv4 prefix; expected IPv6`);
  if (v6) {
    const a = parseIpv6(text);
    if (!a) return bad;
    const net = maskBytes(a, len);
    if (mode === 'network' && !bytesEqual(net, a)) {
      return new Fail(`${describe(v)} has host bits set (the network is ${formatIpv6(net)}/${len})`);
    }
    return { family: 6, addr: a, len };
  }
  const a = parseIpv4(text);
  if (a === null) return bad;
  const m = prefixMask4(len);
  const net = (a & m) >>> 0;
  if (mode === 'network' && net !== a) {
    return new Fail(`${describe(v)} has host bits set (the network is ${formatIpv4(net)}/${len})`);
  }
  if (mode === 'interface' && len < 31) {
    if (net === a) return new Fail(`${describe(v)} is the network address of its subnet, not a host address`);
    if ((a | ~m) >>> 0 === a) return new Fail(`${describe(v)} is the broadcast address of its subnet`);
  }
  return { family: 4, addr: a, len };
}

function u32Text(s: string): number | null {
  if (!/^(0x[0-9a-fA-F]{1,8}|\d{1,10})$/.test(s)) return null;
  const n = Number(s);
  return n <= 0xffffffff ? n : null;
}

/** A packet or connection mark: a number, "0x10", or "value/mask" ("0x1/0xff"). */
export function mark(v: unknown): Parsed<Mark> {
  const what = 'a mark (a number, "0x10" or "value/mask")';
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) return new Fail(`mark ${v} is not in 0..0xffffffff`);
    return { value: v, mask: 0xffffffff };
  }
  if (typeof v !== 'string') return expected(what, v);
  const parts = v.split('/');
  const value = u32Text(parts[0]!.trim());
  const mask = parts.length === 2 ? u32Text(parts[1]!.trim()) : parts.length === 1 ? 0xffffffff : null;
  if (value === null || mask === null) return new Fail(`${describe(v)} is not ${what}`);
  if ((value & ~mask) >>> 0 !== 0) {
    return new Fail(
      `${describe(v)}: value 0x${value.toString(16)} has bits outside the mask 0x${mask.toString(16)}`,
    );
  }
  return { value, mask };
}

/** A port number (0..65535 for matches, 1..65535 when `min` is 1). */
export function portNumber(v: unknown, min = 0): Parsed<number> {
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= 65535) return v;
  if (typeof v === 'number') return new Fail(`port ${v} is not in ${min}..65535`);
  return expected('a port number', v);
}

/** A port or port range: 443, "443", "1000-2000". */
export function portRange(v: unknown, min = 0): Parsed<PortRange> {
  if (typeof v === 'number') {
    const p = portNumber(v, min);
    return p instanceof Fail ? p : { min: p, max: p };
  }
  if (typeof v !== 'string') return expected('a port or range ("1000-2000")', v);
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(v.trim());
  if (!m) return new Fail(`${describe(v)} is not a port or range ("1000-2000")`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a < min || a > 65535 || b < min || b > 65535)
    return new Fail(`${describe(v)}: ports are ${min}..65535`);
  if (a > b) return new Fail(`${describe(v)}: range start is above its end`);
  return { min: a, max: b };
}

/** An id range for L2TP brokers: "1000-1999" of u32 ids (0 is reserved). */
export function idRange(v: unknown): Parsed<PortRange> {
  if (typeof v !== 'string') return expected('an id range ("1000-1999")', v);
  const m = /^(\d{1,10})-(\d{1,10})$/.exec(v.trim());
  if (!m) return new Fail(`${describe(v)} is not an id range ("1000-1999")`);
  const a = Number(m[1]);
  const b = Number(m[2]);
  if (a < 1 || b > 0xffffffff) return new Fail(`${describe(v)}: ids are 1..4294967295`);
  if (a > b) return new Fail(`${describe(v)}: range start is above its end`);
  return { min: a, max: b };
}

/** DSCP code points by name (RFC 2474 class selectors, RFC 2597 AF, RFC 3246 EF, RFC 5865 VA, RFC 8622 LE). */
export const DSCP_NAMES: Readonly<Record<string, number>> = {
  cs0: 0,
  cs1: 8,
  cs2: 16,
  cs3: 24,
  cs4: 32,
  cs5: 40,
  cs6: 48,
  cs7: 56,
  af11: 10,
  af12: 12,
  af13: 14,
  af21: 18,
  af22: 20,
  af23: 22,
  af31: 26,
  af32: 28,
  af33: 30,
  af41: 34,
  af42: 36,
  af43: 38,
  ef: 46,
  va: 44,
  le: 1,
};

export function dscp(v: unknown): Parsed<number> {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && v <= 63) return v;
    return new Fail(`DSCP ${v} is not in 0..63`);
  }
  if (typeof v === 'string' && v.toLowerCase() in DSCP_NAMES) return DSCP_NAMES[v.toLowerCase()]!;
  return expected('a DSCP value (0..63 or a name: cs1, af41, ef, …)', v);
}

export const PROTOCOLS: Readonly<Record<string, number>> = {
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  icmpv6: 58,
  l2tp: 115,
  sctp: 132,
  udplite: 136,
};

export function protocol(v: unknown): Parsed<number> {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && v <= 255) return v;
    return new Fail(`protocol ${v} is not in 0..255`);
  }
  if (typeof v === 'string' && v in PROTOCOLS) return PROTOCOLS[v]!;
  return expected(`a protocol (${Object.keys(PROTOCOLS).join(', ')} or 0..255)`, v);
}

export function mac(v: unknown): Parsed<Uint8Array> {
  if (typeof v !== 'string') return expected('a MAC address string', v);
  const m = parseMac(v);
  if (!m) return new Fail(`${describe(v)} is not a MAC address`);
  if (m[0]! & 1) return new Fail(`${describe(v)} is a multicast MAC; a port needs a unicast one`);
  if (m.every((b) => b === 0)) return new Fail(`${describe(v)} is the all-zero MAC`);
  return m;
}

const HOSTNAME =
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** "host:port" or "[v6]:port"; host is an IP address or a DNS name. */
export function endpoint(v: unknown, needPort = true): Parsed<{ host: string; port: number }> {
  const what = needPort ? 'an endpoint ("host:port" or "[ipv6]:port")' : 'a host';
  if (typeof v !== 'string') return expected(what, v);
  let host: string;
  let portText: string | undefined;
  const br = /^\[([^\]]+)\](?::(\d+))?$/.exec(v);
  if (br) {
    host = br[1]!;
    portText = br[2];
    if (!parseIpv6(host)) return new Fail(`${describe(v)}: "${host}" is not an IPv6 address`);
  } else {
    const i = v.lastIndexOf(':');
    if (i >= 0 && v.indexOf(':') !== i)
      return new Fail(`${describe(v)}: write IPv6 endpoints as "[addr]:port"`);
    host = i < 0 ? v : v.slice(0, i);
    portText = i < 0 ? undefined : v.slice(i + 1);
    if (/^[\d.]+$/.test(host) ? parseIpv4(host) === null : !HOSTNAME.test(host)) {
      return new Fail(`${describe(v)}: "${host}" is not an IP address or host name`);
    }
  }
  if (portText === undefined) {
    if (needPort) return new Fail(`${describe(v)} has no port (write "host:port")`);
    return { host, port: 0 };
  }
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) {
    return new Fail(`${describe(v)}: port ${portText} is not in 1..65535`);
  }
  return { host, port };
}

/** NAT target: "addr", "addr:port", "addr:port-port", "[v6]", "[v6]:port". */
export function natTarget(v: unknown): Parsed<{ addr: Address; ports: PortRange | null }> {
  const what = 'a NAT target ("addr", "addr:port", "addr:1000-2000", "[ipv6]:port")';
  if (typeof v !== 'string') return expected(what, v);
  let addrText: string;
  let portText: string | undefined;
  const br = /^\[([^\]]+)\](?::(.+))?$/.exec(v);
  if (br) {
    addrText = br[1]!;
    portText = br[2];
  } else if (v.includes(':') && v.indexOf(':') !== v.lastIndexOf(':')) {
    addrText = v; // bare IPv6 address, no port
  } else {
    const i = v.indexOf(':');
    addrText = i < 0 ? v : v.slice(0, i);
    portText = i < 0 ? undefined : v.slice(i + 1);
  }
  const a = address(addrText);
  if (a instanceof Fail) return new Fail(`${describe(v)} is not ${what}`);
  if (portText === undefined) return { addr: a, ports: null };
  const r = portRange(portText, 1);
  if (r instanceof Fail) return new Fail(`${describe(v)}: ${r.message}`);
  return { addr: a, ports: r };
}

/** A WireGuard key: base64 of 32 bytes (44 characters ending in "="). */
export function wgKey(v: unknown): Parsed<Uint8Array> {
  if (typeof v !== 'string') return expected('a WireGuard key (44 characters of base64)', v);
  if (!/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(v)) {
    return new Fail(`${describe(v)} is not a WireGuard key (base64 of 32 bytes, 44 characters)`);
  }
  return new Uint8Array(Buffer.from(v, 'base64'));
}

/** An L2TPv3 cookie: 8 or 16 hex digits (4 or 8 bytes, RFC 3931 §4.1). */
export function cookie(v: unknown): Parsed<Uint8Array> {
  if (typeof v !== 'string') return expected('a hex string of 8 or 16 digits', v);
  if (!/^([0-9a-fA-F]{8}|[0-9a-fA-F]{16})$/.test(v)) {
    return new Fail(`${describe(v)} is not a cookie (8 or 16 hex digits: 4 or 8 bytes)`);
  }
  return new Uint8Array(Buffer.from(v, 'hex'));
}
