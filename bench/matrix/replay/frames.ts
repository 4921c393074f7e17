/**
 * Frames for the replay benchmark, built byte by byte with valid IPv4 header and UDP/TCP
 * checksums, plus the few header reads the flow set-up needs (what ferry transmitted: its NAT
 * mapping and MACs). Not the hot path: these run while the traffic is prepared.
 */
import { setU16, setU32, setU48, u16, u32, u48 } from '../../../src/dataplane/wire/bytes.js';
import { checksum, pseudoSumV4 } from '../../../src/dataplane/wire/checksum.js';

export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const ETH_HEADER = 14;
export const TCP_SYN = 0x02;
export const TCP_ACK = 0x10;
export const TCP_PSH = 0x08;

/** A 5-tuple in one direction. */
export interface Tuple {
  proto: number;
  src: number;
  dst: number;
  sport: number;
  dport: number;
}

export interface TcpFields {
  seq: number;
  ack: number;
  flags: number;
  /** Window field as sent (scaled by the peer's shift once the SYNs agreed on scaling). */
  window: number;
  /** SYN options: MSS 1460, window scale `wscale` (RFC 7323 §2). */
  wscale?: number;
}

/**
 * An IPv4 packet of `ipLength` bytes (at least the headers) carrying UDP or TCP for `t`; the
 * payload is filler. TTL 64, DF set.
 */
export function ipv4Packet(t: Tuple, ipLength: number, tcp?: TcpFields): Uint8Array {
  const l4Header = t.proto === PROTO_UDP ? 8 : tcp?.wscale !== undefined ? 28 : 20;
  const len = Math.max(ipLength, 20 + l4Header);
  const p = new Uint8Array(len);
  p[0] = 0x45;
  setU16(p, 2, len);
  setU16(p, 4, (t.sport * 31 + t.dport) & 0xffff);
  setU16(p, 6, 0x4000);
  p[8] = 64;
  p[9] = t.proto;
  setU32(p, 12, t.src);
  setU32(p, 16, t.dst);
  setU16(p, 10, checksum(p, 0, 20));
  const l4 = 20;
  for (let i = l4 + l4Header; i < len; i++) p[i] = i & 0xff;
  setU16(p, l4, t.sport);
  setU16(p, l4 + 2, t.dport);
  const l4len = len - 20;
  if (t.proto === PROTO_UDP) {
    setU16(p, l4 + 4, l4len);
    const c = checksum(p, l4, l4len, pseudoSumV4(t.src, t.dst, PROTO_UDP, l4len));
    setU16(p, l4 + 6, c === 0 ? 0xffff : c);
    return p;
  }
  if (!tcp) throw new Error('ipv4Packet: a TCP segment needs its TCP fields');
  setU32(p, l4 + 4, tcp.seq >>> 0);
  setU32(p, l4 + 8, tcp.ack >>> 0);
  p[l4 + 12] = (l4Header / 4) << 4;
  p[l4 + 13] = tcp.flags;
  setU16(p, l4 + 14, tcp.window);
  if (tcp.wscale !== undefined) p.set([2, 4, 0x05, 0xb4, 1, 3, 3, tcp.wscale], l4 + 20);
  setU16(p, l4 + 16, checksum(p, l4, l4len, pseudoSumV4(t.src, t.dst, PROTO_TCP, l4len)));
  return p;
}

/** The packet behind an Ethernet header dst/src/0x0800. */
export function ethernet(dst: number, src: number, packet: Uint8Array): Uint8Array {
  const f = new Uint8Array(ETH_HEADER + packet.length);
  setU48(f, 0, dst);
  setU48(f, 6, src);
  setU16(f, 12, 0x0800);
  f.set(packet, ETH_HEADER);
  return f;
}

/** ARP reply from `mac`/`ip` to `targetMac`/`targetIp` (how the bench teaches ferry a neighbour). */
export function arpReply(mac: number, ip: number, targetMac: number, targetIp: number): Uint8Array {
  const f = new Uint8Array(42);
  setU48(f, 0, targetMac);
  setU48(f, 6, mac);
  setU16(f, 12, 0x0806);
  setU16(f, 14, 1);
  setU16(f, 16, 0x0800);
  f[18] = 6;
  f[19] = 4;
  setU16(f, 20, 2);
  setU48(f, 22, mac);
  setU32(f, 28, ip);
  setU48(f, 32, targetMac);
  setU32(f, 38, targetIp);
  return f;
}

/** What a transmitted frame says: its MACs (L2 ports) and its 5-tuple. */
export interface Seen {
  dstMac: number;
  srcMac: number;
  tuple: Tuple;
}

export function readFrame(f: Uint8Array, l2: boolean): Seen {
  const ip = l2 ? ETH_HEADER : 0;
  if (l2 && u16(f, 12) !== 0x0800) throw new Error(`not IPv4: EtherType 0x${u16(f, 12).toString(16)}`);
  const ihl = (f[ip]! & 15) * 4;
  return {
    dstMac: l2 ? u48(f, 0) : 0,
    srcMac: l2 ? u48(f, 6) : 0,
    tuple: {
      proto: f[ip + 9]!,
      src: u32(f, ip + 12),
      dst: u32(f, ip + 16),
      sport: u16(f, ip + ihl),
      dport: u16(f, ip + ihl + 2),
    },
  };
}

/** "a.b.c.d" → number. */
export function ip4(s: string): number {
  const p = s.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255))
    throw new Error(`bad IPv4 ${s}`);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}
