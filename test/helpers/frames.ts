/** Builders for test frames, made with ferry's own emitters (which the codec tests pin to real captures). */
import { emitArp } from '../../src/dataplane/wire/arp.js';
import { parseIpv4 as parseAddr, parseMac } from '../../src/dataplane/wire/bytes.js';
import { checksum, pseudoSumV4 } from '../../src/dataplane/wire/checksum.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, emitEthernet } from '../../src/dataplane/wire/ethernet.js';
import { emitIcmpv4 } from '../../src/dataplane/wire/icmpv4.js';
import { emitIpv4, IPV4_FLAG_DF } from '../../src/dataplane/wire/ipv4.js';

export const ip = (s: string): number => {
  const v = parseAddr(s);
  if (v === null) throw new Error(`bad address ${s}`);
  return v;
};
export const mac = (s: string): Uint8Array => parseMac(s)!;
export const macNum = (s: string): number => {
  const b = mac(s);
  return (
    (b[0]! * 256 + b[1]!) * 0x1_0000_0000 + (((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0)
  );
};

export interface IpOpts {
  src: string;
  dst: string;
  ttl?: number;
  df?: boolean;
  id?: number;
}

/** An IPv4 packet carrying ICMP echo request `seq` with `payload` bytes of data. */
export function icmpEcho(o: IpOpts, seq = 1, payload = 56, type = 8): Uint8Array {
  const data = Uint8Array.from({ length: payload }, (_, i) => i & 0xff);
  const out = new Uint8Array(20 + 8 + payload);
  emitIpv4(
    {
      dscp: 0,
      ecn: 0,
      id: o.id ?? 0x1234,
      flags: o.df === false ? 0 : IPV4_FLAG_DF,
      fragOffset: 0,
      ttl: o.ttl ?? 64,
      protocol: 1,
      src: ip(o.src),
      dst: ip(o.dst),
      options: new Uint8Array(0),
      payloadLen: 8 + payload,
    },
    out,
    0,
  );
  emitIcmpv4({ type, code: 0, rest: (0x77 << 16) | seq, data }, out, 20);
  return out;
}

/** An IPv4/UDP datagram. */
export function udp(o: IpOpts, sport: number, dport: number, payload = 18): Uint8Array {
  const out = new Uint8Array(20 + 8 + payload);
  emitIpv4(
    {
      dscp: 0,
      ecn: 0,
      id: o.id ?? 0x4321,
      flags: o.df ? IPV4_FLAG_DF : 0,
      fragOffset: 0,
      ttl: o.ttl ?? 64,
      protocol: 17,
      src: ip(o.src),
      dst: ip(o.dst),
      options: new Uint8Array(0),
      payloadLen: 8 + payload,
    },
    out,
    0,
  );
  const u = 20;
  out[u] = sport >> 8;
  out[u + 1] = sport & 255;
  out[u + 2] = dport >> 8;
  out[u + 3] = dport & 255;
  out[u + 4] = (8 + payload) >> 8;
  out[u + 5] = (8 + payload) & 255;
  for (let i = 0; i < payload; i++) out[u + 8 + i] = (i * 7) & 255;
  const c = checksum(out, u, 8 + payload, pseudoSumV4(ip(o.src), ip(o.dst), 17, 8 + payload));
  out[u + 6] = c >> 8;
  out[u + 7] = c & 255;
  return out;
}

/** Wraps an L3 payload in an Ethernet header. */
export function ether(dst: string, src: string, type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(14 + payload.length);
  emitEthernet({ dst: mac(dst), src: mac(src), vlans: [], etherType: type }, out, 0);
  out.set(payload, 14);
  return out;
}

export function ipFrame(dst: string, src: string, packet: Uint8Array): Uint8Array {
  return ether(dst, src, ETHERTYPE_IPV4, packet);
}

export function arpRequest(srcMac: string, srcIp: string, targetIp: string): Uint8Array {
  const body = new Uint8Array(28);
  emitArp(
    {
      operation: 1,
      senderMac: mac(srcMac),
      senderIp: ip(srcIp),
      targetMac: new Uint8Array(6),
      targetIp: ip(targetIp),
    },
    body,
    0,
  );
  return ether('ff:ff:ff:ff:ff:ff', srcMac, ETHERTYPE_ARP, body);
}

export function arpReply(srcMac: string, srcIp: string, dstMac: string, dstIp: string): Uint8Array {
  const body = new Uint8Array(28);
  emitArp(
    {
      operation: 2,
      senderMac: mac(srcMac),
      senderIp: ip(srcIp),
      targetMac: mac(dstMac),
      targetIp: ip(dstIp),
    },
    body,
    0,
  );
  return ether(dstMac, srcMac, ETHERTYPE_ARP, body);
}
