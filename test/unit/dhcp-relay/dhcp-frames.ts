/** DHCP test messages: real ones from the fixtures, built ones from ferry's emitters, and a decoder for what the relay sent. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { parseCaptureBuffer } from '../../../src/dataplane/pcap/index.js';
import { setU32, u16, u32 } from '../../../src/dataplane/wire/bytes.js';
import { checksum, pseudoSumV4, verify } from '../../../src/dataplane/wire/checksum.js';
import {
  BOOTP_MIN_LEN,
  BOOTREPLY,
  BOOTREQUEST,
  DHCP_GIADDR,
  DHCP_OPT_END,
  DHCP_OPT_MESSAGE_TYPE,
  type Dhcpv4Option,
  Dhcpv4View,
  emitDhcpv4,
  HTYPE_ETHERNET,
} from '../../../src/dataplane/wire/dhcpv4.js';
import { ETHERTYPE_IPV4 } from '../../../src/dataplane/wire/ethernet.js';
import { emitIpv4, Ipv4View } from '../../../src/dataplane/wire/ipv4.js';
import { ether, ip, mac } from '../../helpers/frames.js';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/pcap/', import.meta.url));

export interface CapturedDhcp {
  /** The Ethernet frame as captured. */
  frame: Uint8Array;
  /** A copy of its DHCP message (the UDP payload). */
  dhcp: Uint8Array;
  type: number;
  src: number;
  dst: number;
}

/** Every DHCP frame of a fixture capture, in order. */
export function fixtureDhcp(file: string): CapturedDhcp[] {
  const out: CapturedDhcp[] = [];
  const v = new Dhcpv4View();
  for (const p of parseCaptureBuffer(readFileSync(FIXTURES + file), file).packets()) {
    const f = p.data;
    if (u16(f, 12) !== ETHERTYPE_IPV4 || f[14 + 9] !== 17) continue;
    const l4 = 14 + (f[14]! & 15) * 4;
    const sport = u16(f, l4);
    if (sport !== 67 && sport !== 68) continue;
    const dhcp = f.slice(l4 + 8, l4 + u16(f, l4 + 4));
    expect(v.wrap(dhcp, 0, dhcp.length)).toBe(0);
    out.push({ frame: f, dhcp, type: v.messageType, src: u32(f, 26), dst: u32(f, 30) });
  }
  return out;
}

export interface UdpOpts {
  dstMac: string;
  srcMac: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  ttl?: number;
}

/** An IPv4/UDP datagram with a correct checksum carrying `payload`. */
export function udpPacket(o: Omit<UdpOpts, 'dstMac' | 'srcMac'>, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(28 + payload.length);
  emitIpv4(
    {
      dscp: 0,
      ecn: 0,
      id: 0x0101,
      flags: 0,
      fragOffset: 0,
      ttl: o.ttl ?? 64,
      protocol: 17,
      src: ip(o.src),
      dst: ip(o.dst),
      options: new Uint8Array(0),
      payloadLen: 8 + payload.length,
    },
    out,
    0,
  );
  const u = 20;
  const len = 8 + payload.length;
  out[u] = o.sport >> 8;
  out[u + 1] = o.sport & 255;
  out[u + 2] = o.dport >> 8;
  out[u + 3] = o.dport & 255;
  out[u + 4] = len >> 8;
  out[u + 5] = len & 255;
  out.set(payload, 28);
  const c = checksum(out, u, len, pseudoSumV4(ip(o.src), ip(o.dst), 17, len)) || 0xffff;
  out[u + 6] = c >> 8;
  out[u + 7] = c & 255;
  return out;
}

/** The same as an Ethernet frame. */
export function udpFrame(o: UdpOpts, payload: Uint8Array): Uint8Array {
  return ether(o.dstMac, o.srcMac, ETHERTYPE_IPV4, udpPacket(o, payload));
}

/** A client's broadcast from 0.0.0.0:68 to 255.255.255.255:67. */
export function clientBroadcast(clientMac: string, msg: Uint8Array): Uint8Array {
  return udpFrame(
    {
      dstMac: 'ff:ff:ff:ff:ff:ff',
      srcMac: clientMac,
      src: '0.0.0.0',
      dst: '255.255.255.255',
      sport: 68,
      dport: 67,
    },
    msg,
  );
}

export interface MsgOpts {
  op?: number;
  type?: number;
  xid?: number;
  chaddr?: string;
  htype?: number;
  hlen?: number;
  hops?: number;
  flags?: number;
  ciaddr?: string;
  yiaddr?: string;
  giaddr?: string;
  /** Options after option 53, before END. */
  options?: Dhcpv4Option[];
}

/** A DHCP message, padded to the BOOTP minimum of 300 bytes (RFC 1542 §2.1). */
export function dhcpMessage(o: MsgOpts): Uint8Array {
  const chaddr = new Uint8Array(16);
  chaddr.set(mac(o.chaddr ?? '0a:00:00:00:00:51'));
  const options: Dhcpv4Option[] = [];
  if (o.type !== undefined) options.push({ code: DHCP_OPT_MESSAGE_TYPE, data: Uint8Array.of(o.type) });
  options.push(...(o.options ?? []), { code: DHCP_OPT_END, data: new Uint8Array(0) });
  const buf = new Uint8Array(2048);
  const n = emitDhcpv4(
    {
      op: o.op ?? BOOTREQUEST,
      htype: o.htype ?? HTYPE_ETHERNET,
      hlen: o.hlen ?? 6,
      hops: o.hops ?? 0,
      xid: o.xid ?? 0x12345678,
      secs: 0,
      flags: o.flags ?? 0,
      ciaddr: ip(o.ciaddr ?? '0.0.0.0'),
      yiaddr: ip(o.yiaddr ?? '0.0.0.0'),
      siaddr: 0,
      giaddr: ip(o.giaddr ?? '0.0.0.0'),
      chaddr,
      sname: new Uint8Array(0),
      file: new Uint8Array(0),
      hasMagic: true,
      options,
      trailer: new Uint8Array(0),
    },
    buf,
    0,
    BOOTP_MIN_LEN,
  );
  return buf.slice(0, n);
}

export function replyMessage(o: MsgOpts): Uint8Array {
  return dhcpMessage({ ...o, op: BOOTREPLY });
}

/** A copy of `msg` with giaddr set, as a server relayed through us would send it. */
export function withGiaddr(msg: Uint8Array, giaddr: string): Uint8Array {
  const out = msg.slice();
  setU32(out, DHCP_GIADDR, ip(giaddr));
  return out;
}

export interface Sent {
  dstMac: string;
  srcMac: string;
  etherType: number;
  ip: {
    src: string;
    dst: string;
    ttl: number;
    proto: number;
    df: boolean;
    totalLen: number;
    headerLen: number;
  };
  udp: { sport: number; dport: number; len: number };
  /** The DHCP message. */
  dhcp: Uint8Array;
}

const ipv4 = new Ipv4View();
const fmtMac = (b: Uint8Array, o: number): string =>
  Array.from(b.subarray(o, o + 6), (x) => x.toString(16).padStart(2, '0')).join(':');
const fmtIp = (a: number): string => [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.');

/**
 * Decodes a DHCP datagram the router sent (Ethernet, or bare IP with l2 = 0), checking as it goes
 * that the IP header checksum and the UDP checksum are right and the lengths agree.
 */
export function decodeSent(frame: Uint8Array, l2 = 14): Sent {
  expect(ipv4.wrap(frame, l2, frame.length - l2)).toBe(0);
  expect(ipv4.verifyChecksum()).toBe(true);
  const l4 = l2 + ipv4.headerLen;
  const udpLen = u16(frame, l4 + 4);
  expect(l4 + udpLen).toBe(l2 + ipv4.totalLen);
  expect(l2 + ipv4.totalLen).toBe(frame.length);
  expect(u16(frame, l4 + 6)).not.toBe(0);
  expect(verify(frame, l4, udpLen, pseudoSumV4(ipv4.src, ipv4.dst, 17, udpLen))).toBe(true);
  return {
    dstMac: l2 ? fmtMac(frame, 0) : '',
    srcMac: l2 ? fmtMac(frame, 6) : '',
    etherType: l2 ? u16(frame, 12) : 0,
    ip: {
      src: fmtIp(ipv4.src),
      dst: fmtIp(ipv4.dst),
      ttl: ipv4.ttl,
      proto: ipv4.protocol,
      df: (u16(frame, l2 + 6) & 0x4000) !== 0,
      totalLen: ipv4.totalLen,
      headerLen: ipv4.headerLen,
    },
    udp: { sport: u16(frame, l4), dport: u16(frame, l4 + 2), len: udpLen },
    dhcp: frame.slice(l4 + 8, l4 + udpLen),
  };
}

/** Byte offsets where a and b differ (same length expected). */
export function diffOffsets(a: Uint8Array, b: Uint8Array): number[] {
  expect(a.length).toBe(b.length);
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push(i);
  return out;
}
