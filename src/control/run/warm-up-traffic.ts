/**
 * The synthetic traffic of the JIT warm-up (warm-up.ts), derived from a config: who talks on each
 * port (a neighbour in each of the port's subnets, the gateways routed through it, a remote host
 * behind an L3 port) and where to (every endpoint, ferry's own addresses, a host in each routed
 * prefix and in each prefix the rules and chains match), as UDP, TCP SYN and ICMP echo frames; and
 * the turnaround of what the router sent, so that replies cross it the other way (through
 * conntrack's reverse direction and NAT) and its ARP requests get answered.
 *
 * Not the hot path: this runs once at start, so it allocates freely.
 */

import { checksum, pseudoSumV4 } from '../../dataplane/wire/checksum.js';
import type { FerryConfig, Prefix } from '../config/types.js';

/** What the warm-up knows of a port: its shape as the live port has it. */
export interface PortShape {
  readonly l2: boolean;
  /** 48-bit MAC (0 on L3 ports). */
  readonly mac: number;
}

/** One synthetic packet to feed: the frame as the port receives it. */
export interface Template {
  readonly port: number;
  readonly frame: Uint8Array;
}

const ETH_LEN = 14;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_ARP = 0x0806;
const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const TCP_SYN = 0x02;
const TCP_ACK = 0x10;
/** Templates kept at most: a config with many ports and prefixes still warms up in bounded time. */
export const MAX_TEMPLATES = 768;
/** Stands for "anywhere" behind a default route (TEST-NET-3, RFC 5737). */
const ANYWHERE = 0xcb00_7109; // 203.0.113.9
/** A remote host behind an L3 port whose addresses name no subnet (TEST-NET-2, RFC 5737). */
const REMOTE_BASE = 0xc633_640a; // 198.51.100.10

/** A neighbour's MAC, derived from its address: locally administered, unicast (IEEE 802 bit 1 set). */
export function neighbourMac(addr: number): number {
  return 0x02aa_0000_0000 + (addr >>> 0);
}

interface Endpoint {
  readonly port: number;
  readonly addr: number;
}

function mask(len: number): number {
  return len === 0 ? 0 : (0xffff_ffff << (32 - len)) >>> 0;
}

/** A host inside `p` (its `nth` usable address), or null when the prefix has no room for one. */
function hostIn(p: Prefix, nth: number, avoid: ReadonlySet<number>): number | null {
  if (p.family !== 4) return null;
  if (p.len === 0) return ANYWHERE;
  if (p.len >= 31) return null;
  const net = (p.addr & mask(p.len)) >>> 0;
  const size = 2 ** (32 - p.len);
  for (let i = nth; i < Math.min(size - 1, nth + 16); i++) {
    const a = (net + i) >>> 0;
    if (!avoid.has(a)) return a;
  }
  return null;
}

/** ferry's own addresses (the kernel's on a host port are not ferry's, but they are local too). */
function localAddresses(cfg: FerryConfig): Set<number> {
  const out = new Set<number>();
  for (const p of cfg.ports) for (const a of p.addresses) if (a.family === 4) out.add(a.addr >>> 0);
  return out;
}

function endpoints(cfg: FerryConfig, shapes: readonly PortShape[], local: ReadonlySet<number>): Endpoint[] {
  const out: Endpoint[] = [];
  const seen = new Set<string>();
  const add = (port: number, addr: number | null) => {
    const key = `${port}/${addr}`;
    if (addr === null || seen.has(key)) return;
    seen.add(key);
    out.push({ port, addr: addr >>> 0 });
  };
  for (const p of cfg.ports) {
    for (const a of p.addresses) {
      if (a.family !== 4) continue;
      // The kernel behind a host port talks from its own address.
      if (p.kind === 'host') add(p.index, a.addr);
      // A different host on each leg, so that legs sharing a subnet (a brouter) have their own.
      else add(p.index, hostIn(a, 1 + 8 * p.index, local) ?? hostIn(a, 1, local));
    }
    if (!shapes[p.index]!.l2) add(p.index, REMOTE_BASE + p.index);
  }
  for (const t of cfg.tables) {
    for (const r of t.routes) {
      if (r.port < 0) continue;
      if (r.via?.family === 4) add(r.port, r.via.addr);
      else if (!shapes[r.port]!.l2) add(r.port, hostIn(r.to, 7, local));
    }
  }
  return out;
}

/** Where traffic goes: endpoints, ferry's addresses, a host in every prefix the config routes or matches. */
function destinations(cfg: FerryConfig, eps: readonly Endpoint[], local: ReadonlySet<number>): number[] {
  const out = new Set<number>(eps.map((e) => e.addr));
  for (const a of local) out.add(a);
  const prefix = (p: Prefix | null) => {
    const h = p ? hostIn(p, 7, local) : null;
    if (h !== null) out.add(h);
  };
  for (const t of cfg.tables) for (const r of t.routes) prefix(r.to);
  for (const r of cfg.rules) prefix(r.to);
  for (const c of cfg.chains) {
    for (const r of c.rules) {
      for (const p of r.match.dst?.prefixes ?? []) prefix(p);
      for (const a of r.actions) if (a.kind === 'dnat' && a.addr.family === 4) out.add(a.addr.addr >>> 0);
    }
  }
  for (const s of cfg.sets) for (const p of s.prefixes) prefix(p);
  return [...out];
}

/** Well-known destination ports, so port matches in the rules see some of them. */
function servicePorts(cfg: FerryConfig): number[] {
  const out = new Set<number>([53, 443, 5201]);
  for (const c of cfg.chains)
    for (const r of c.rules) for (const x of r.match.dport?.ranges ?? []) out.add(x.min);
  return [...out].slice(0, 6);
}

/** An ARP reply from every endpoint on an L2 port, so the router knows its neighbours (and a brouter where they are). */
export function arpTemplates(cfg: FerryConfig, shapes: readonly PortShape[]): Template[] {
  const local = localAddresses(cfg);
  const out: Template[] = [];
  for (const e of endpoints(cfg, shapes, local)) {
    const shape = shapes[e.port]!;
    const own = cfg.ports[e.port]!.addresses.find((a) => a.family === 4);
    if (!shape.l2 || !own || own.family !== 4) continue;
    const body = new Uint8Array(28);
    body.set([0, 1, 8, 0, 6, 4, 0, 2]); // Ethernet/IPv4, reply
    putMac(body, 8, neighbourMac(e.addr));
    put32(body, 14, e.addr);
    putMac(body, 18, shape.mac);
    put32(body, 24, own.addr >>> 0);
    out.push({ port: e.port, frame: ether(shape.mac, neighbourMac(e.addr), ETHERTYPE_ARP, body) });
  }
  return out;
}

/** UDP, TCP SYN and ICMP echo from every endpoint to every destination, as frames on the endpoint's port. */
export function buildTemplates(cfg: FerryConfig, shapes: readonly PortShape[]): Template[] {
  const local = localAddresses(cfg);
  const eps = endpoints(cfg, shapes, local);
  const dsts = destinations(cfg, eps, local);
  const services = servicePorts(cfg);
  const out: Template[] = [];
  let k = 0;
  for (const e of eps) {
    const shape = shapes[e.port]!;
    for (const d of dsts) {
      if (d === e.addr) continue;
      const svc = services[k % services.length]!;
      const sport = 40000 + (k % 1000);
      k++;
      for (const ip of [
        udpPacket(e.addr, d, sport, svc),
        tcpPacket(e.addr, d, sport, svc, TCP_SYN, 1000, 0),
        icmpEcho(e.addr, d, k),
      ]) {
        const frame = shape.l2 ? ether(shape.mac, neighbourMac(e.addr), ETHERTYPE_IPV4, ip) : ip;
        out.push({ port: e.port, frame });
      }
    }
  }
  // Spread the kept templates over all endpoints rather than keeping the first ones only.
  if (out.length <= MAX_TEMPLATES) return out;
  const step = out.length / MAX_TEMPLATES;
  return Array.from({ length: MAX_TEMPLATES }, (_, i) => out[Math.floor(i * step)]!);
}

function ether(dst: number, src: number, type: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(ETH_LEN + payload.length);
  putMac(f, 0, dst);
  putMac(f, 6, src);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  f.set(payload, ETH_LEN);
  return f;
}

function putMac(b: Uint8Array, o: number, mac: number): void {
  const hi = Math.floor(mac / 0x1_0000_0000);
  b[o] = hi >> 8;
  b[o + 1] = hi & 0xff;
  put32(b, o + 2, mac >>> 0);
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function get32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function ipv4(src: number, dst: number, proto: number, l4: Uint8Array): Uint8Array {
  const p = new Uint8Array(20 + l4.length);
  p[0] = 0x45;
  p[2] = p.length >> 8;
  p[3] = p.length & 0xff;
  p[4] = 0x12;
  p[6] = 0x40; // DF
  p[8] = 64;
  p[9] = proto;
  put32(p, 12, src);
  put32(p, 16, dst);
  p.set(l4, 20);
  ipChecksum(p, 0);
  return p;
}

function ipChecksum(b: Uint8Array, ip: number): void {
  b[ip + 10] = 0;
  b[ip + 11] = 0;
  const c = checksum(b, ip, 20);
  b[ip + 10] = c >> 8;
  b[ip + 11] = c & 0xff;
}

/** Recomputes the L4 checksum of the packet at `ip` (IHL 5): UDP, TCP or ICMP. */
function l4Checksum(b: Uint8Array, ip: number): void {
  const len = ((b[ip + 2]! << 8) | b[ip + 3]!) - 20;
  const l4 = ip + 20;
  const proto = b[ip + 9]!;
  const at = proto === PROTO_UDP ? 6 : proto === PROTO_TCP ? 16 : 2;
  b[l4 + at] = 0;
  b[l4 + at + 1] = 0;
  const acc = proto === PROTO_ICMP ? 0 : pseudoSumV4(get32(b, ip + 12), get32(b, ip + 16), proto, len);
  let c = checksum(b, l4, len, acc);
  if (proto === PROTO_UDP && c === 0) c = 0xffff; // RFC 768: zero means "no checksum"
  b[l4 + at] = c >> 8;
  b[l4 + at + 1] = c & 0xff;
}

function udpPacket(src: number, dst: number, sport: number, dport: number): Uint8Array {
  const u = new Uint8Array(8 + 32);
  u[0] = sport >> 8;
  u[1] = sport & 0xff;
  u[2] = dport >> 8;
  u[3] = dport & 0xff;
  u[5] = u.length;
  const p = ipv4(src, dst, PROTO_UDP, u);
  l4Checksum(p, 0);
  return p;
}

function tcpPacket(
  src: number,
  dst: number,
  sport: number,
  dport: number,
  flags: number,
  seq: number,
  ack: number,
) {
  const t = new Uint8Array(20);
  t[0] = sport >> 8;
  t[1] = sport & 0xff;
  t[2] = dport >> 8;
  t[3] = dport & 0xff;
  put32(t, 4, seq);
  put32(t, 8, ack);
  t[12] = 5 << 4;
  t[13] = flags;
  t[14] = 0xff; // window 65535
  t[15] = 0xff;
  const p = ipv4(src, dst, PROTO_TCP, t);
  l4Checksum(p, 0);
  return p;
}

function icmpEcho(src: number, dst: number, seq: number): Uint8Array {
  const m = new Uint8Array(8 + 56);
  m[0] = 8;
  m[4] = 0x77;
  m[6] = (seq >> 8) & 0xff;
  m[7] = seq & 0xff;
  for (let i = 8; i < m.length; i++) m[i] = i;
  const p = ipv4(src, dst, PROTO_ICMP, m);
  l4Checksum(p, 0);
  return p;
}

/**
 * Turns a frame the router sent out of a port into the answer its receiver would send back, in
 * place: an ARP reply to an ARP request; for IPv4, addresses (and ports) swapped, an echo
 * request answered, a TCP SYN answered with SYN-ACK and a SYN-ACK with its ACK; UDP answered as
 * is when `replies` is true. Returns the answer's length, or 0 when nothing answers it.
 */
export function turnAround(f: Uint8Array, len: number, l2: boolean, replies: boolean): number {
  let ip = 0;
  if (l2) {
    if (len < ETH_LEN) return 0;
    const type = (f[12]! << 8) | f[13]!;
    if (type === ETHERTYPE_ARP) return arpAnswer(f, len);
    if (type !== ETHERTYPE_IPV4) return 0;
    swap(f, 0, 6, 6);
    ip = ETH_LEN;
  }
  if (len < ip + 20 || f[ip] !== 0x45) return 0;
  const total = (f[ip + 2]! << 8) | f[ip + 3]!;
  if (ip + total > len || (((f[ip + 6]! & 0x3f) << 8) | f[ip + 7]!) !== 0) return 0;
  const l4 = ip + 20;
  const proto = f[ip + 9]!;
  if (proto === PROTO_ICMP) {
    if (f[l4] !== 8) return 0; // only echo requests get an answer
    f[l4] = 0;
  } else if (proto === PROTO_TCP) {
    const flags = f[l4 + 13]!;
    const seq = get32(f, l4 + 4);
    const ack = get32(f, l4 + 8);
    if (flags === TCP_SYN) {
      f[l4 + 13] = TCP_SYN | TCP_ACK;
      put32(f, l4 + 4, 5000);
      put32(f, l4 + 8, (seq + 1) >>> 0);
    } else if (flags === (TCP_SYN | TCP_ACK)) {
      f[l4 + 13] = TCP_ACK;
      put32(f, l4 + 4, ack);
      put32(f, l4 + 8, (seq + 1) >>> 0);
    } else return 0;
    swap(f, l4, l4 + 2, 2);
  } else if (proto === PROTO_UDP) {
    if (!replies) return 0;
    swap(f, l4, l4 + 2, 2);
  } else return 0;
  swap(f, ip + 12, ip + 16, 4);
  f[ip + 8] = 64;
  ipChecksum(f, ip);
  l4Checksum(f, ip);
  return len;
}

/** An ARP request for T becomes T's reply, from T's derived MAC (neighbourMac). */
function arpAnswer(f: Uint8Array, len: number): number {
  const arp = ETH_LEN;
  if (len < arp + 28 || f[arp + 7] !== 1) return 0;
  const target = get32(f, arp + 24);
  const mac = neighbourMac(target);
  f.copyWithin(0, 6, 12); // to the asker
  putMac(f, 6, mac);
  f[arp + 7] = 2;
  f.copyWithin(arp + 18, arp + 8, arp + 18); // target <- sender (MAC and address)
  putMac(f, arp + 8, mac);
  put32(f, arp + 14, target);
  return len;
}

function swap(b: Uint8Array, x: number, y: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const t = b[x + i]!;
    b[x + i] = b[y + i]!;
    b[y + i] = t;
  }
}
