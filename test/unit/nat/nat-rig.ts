/** A masquerading router for the NAT tests: lan 10.1.0.1/24, wan 192.0.2.2/24 (default via .1), tun (table 42). */
import { DEFAULT_TIMEOUTS } from '../../../src/control/config/semantic/services.js';
import type { ConntrackConfig, ConntrackTimeouts } from '../../../src/control/config/types.js';
import {
  NAT_DNAT,
  NAT_MASQUERADE,
  NAT_SNAT,
  type PacketMeta,
} from '../../../src/dataplane/pipeline/packet-meta.js';
import type { Pipeline } from '../../../src/dataplane/pipeline/pipeline.js';
import { type HookName, VERDICT_ACCEPT } from '../../../src/dataplane/stages/hook.js';
import { setU16, setU32, u16, u32 } from '../../../src/dataplane/wire/bytes.js';
import { checksum, pseudoSumV4, verify } from '../../../src/dataplane/wire/checksum.js';
import { emitIcmpv4Error } from '../../../src/dataplane/wire/icmpv4.js';
import { arpRequest, icmpEcho as icmpEchoFrame, ip, ipFrame } from '../../helpers/frames.js';
import { RouterRig } from '../../helpers/router-rig.js';

export const R0 = '02:00:00:00:00:01';
export const R1 = '02:00:00:00:00:02';
export const GW = '0a:00:00:00:00:01';
export const HOSTS: Record<string, string> = {
  '10.1.0.33': '0a:00:00:00:00:33',
  '10.1.0.34': '0a:00:00:00:00:34',
  '10.1.0.35': '0a:00:00:00:00:35',
  '10.1.0.53': '0a:00:00:00:00:53',
};
export const WAN_IP = '192.0.2.2';

/** Timeouts at the RFC floors (VPP's defaults): UDP 300 s, TCP 7440/240 s, ICMP 60 s. */
export const RFC_TIMEOUTS: ConntrackTimeouts = {
  ...DEFAULT_TIMEOUTS,
  tcpSynSent: 240_000,
  tcpSynRecv: 240_000,
  tcpEstablished: 7_440_000,
  tcpFinWait: 240_000,
  tcpCloseWait: 240_000,
  tcpLastAck: 240_000,
  tcpTimeWait: 240_000,
  udpStream: 300_000,
  icmp: 60_000,
};

export function ctConfig(o: Partial<ConntrackConfig> = {}): ConntrackConfig {
  return { capacity: 1024, liberal: false, timeouts: RFC_TIMEOUTS, ...o };
}

/**
 * NAT requests as the classifier records them (OP_NAT4 writes natKind/natAddr/natPortMin/Max and
 * accepts): small chain programs, so these tests do not depend on the ruleset compiler.
 */
export type NatAction =
  | { kind: 'masquerade' }
  | { kind: 'snat' | 'dnat'; addr: string; min: number; max: number };
export const masquerade: NatAction = { kind: 'masquerade' };
export const dnat = (addr: string, port: number): NatAction => ({ kind: 'dnat', addr, min: port, max: port });
export const snat = (addr: string, min: number, max: number): NatAction => ({ kind: 'snat', addr, min, max });

function request(m: PacketMeta, s: number, a: NatAction): void {
  m.natKind[s] = a.kind === 'masquerade' ? NAT_MASQUERADE : a.kind === 'snat' ? NAT_SNAT : NAT_DNAT;
  m.natAddr[s] = a.kind === 'masquerade' ? 0 : ip(a.addr);
  m.natPortMin[s] = a.kind === 'masquerade' ? 0 : a.min;
  m.natPortMax[s] = a.kind === 'masquerade' ? 0 : a.max;
}

/** `oif wan <postrouting>` in postrouting; `ip daddr 192.0.2.2 udp dport <fwd> dnat …` in prerouting. */
export function natRig(
  opts: {
    ct?: Partial<ConntrackConfig>;
    postrouting?: NatAction;
    forward?: { port: number; to: NatAction };
  } = {},
): RouterRig {
  const r = new RouterRig(
    [
      { name: 'lan', mac: R0, address: '10.1.0.1' },
      { name: 'wan', mac: R1, address: WAN_IP },
      { name: 'tun', address: '100.64.0.2', prefixLen: 32 },
    ],
    { conntrack: ctConfig(opts.ct) },
  );
  r.routes.add(0, 0, 1, ip('192.0.2.1'));
  r.routes.add(0, 0, 2, 0, 42);
  r.routes.rules.push({ mark: 42, table: 42 });
  const post = opts.postrouting ?? masquerade;
  r.engine.hooks.postrouting.programs.push({
    run(pipe: Pipeline, s: number): number {
      if (pipe.meta.outPort[s] === 1) request(pipe.meta, s, post);
      return VERDICT_ACCEPT;
    },
  });
  const fwd = opts.forward;
  if (fwd)
    r.engine.hooks.prerouting.programs.push({
      run(pipe: Pipeline, s: number): number {
        const d = pipe.batch.data;
        const l3 = pipe.meta.l3Off[s]!;
        const l4 = pipe.meta.l4Off[s]!;
        if (u32(d, l3 + 16) === ip(WAN_IP) && d[l3 + 9] === 17 && u16(d, l4 + 2) === fwd.port)
          request(pipe.meta, s, fwd.to);
        return VERDICT_ACCEPT;
      },
    });
  r.send('wan', [arpRequest(GW, '192.0.2.1', WAN_IP)]);
  for (const [a, m] of Object.entries(HOSTS)) r.send('lan', [arpRequest(m, a, '10.1.0.1')]);
  r.sent('wan');
  r.sent('lan');
  return r;
}

export function fromLan(r: RouterRig, host: string, pkt: Uint8Array): void {
  r.send('lan', [ipFrame(R0, HOSTS[host]!, pkt)]);
}

export function fromWan(r: RouterRig, pkt: Uint8Array): void {
  r.send('wan', [ipFrame(R1, GW, pkt)]);
}

/** What left a port: IP packets (Ethernet stripped). */
export function out(r: RouterRig, port: string): Uint8Array[] {
  if (port === 'tun') return r.sent(port);
  // Only IPv4: after a long idle the router also re-probes its neighbours with ARP.
  return r
    .sent(port)
    .filter((f) => f[12] === 0x08 && f[13] === 0x00)
    .map((f) => f.subarray(14));
}

export interface Hdr {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  proto: number;
}

const fmt = (a: number): string => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;

/** Addresses and ports of an IPv4 packet (ICMP: id as sport), after checking every checksum. */
export function hdr(p: Uint8Array): Hdr {
  const hl = (p[0]! & 15) * 4;
  const len = u16(p, 2);
  if (!verify(p, 0, hl)) throw new Error('bad IP header checksum');
  const proto = p[9]!;
  const src = u32(p, 12);
  const dst = u32(p, 16);
  if (proto === 6 || proto === 17) {
    const c = u16(p, hl + (proto === 6 ? 16 : 6));
    if (!(proto === 17 && c === 0) && !verify(p, hl, len - hl, pseudoSumV4(src, dst, proto, len - hl)))
      throw new Error('bad L4 checksum');
    return { src: fmt(src), dst: fmt(dst), sport: u16(p, hl), dport: u16(p, hl + 2), proto };
  }
  if (proto === 1 && !verify(p, hl, len - hl)) throw new Error('bad ICMP checksum');
  return { src: fmt(src), dst: fmt(dst), sport: proto === 1 ? u16(p, hl + 4) : 0, dport: 0, proto };
}

/** The packet an ICMP error quotes, with its IP header checksum checked. */
export function quoted(p: Uint8Array): Hdr {
  const q = p.subarray((p[0]! & 15) * 4 + 8);
  const hl = (q[0]! & 15) * 4;
  if (!verify(q, 0, hl)) throw new Error('bad quoted IP checksum');
  return {
    src: fmt(u32(q, 12)),
    dst: fmt(u32(q, 16)),
    sport: u16(q, hl),
    dport: u16(q, hl + 2),
    proto: q[9]!,
  };
}

/** An ICMP error from `from` to `to` quoting `pkt` (whole). */
export function icmpError(
  from: string,
  to: string,
  type: number,
  code: number,
  pkt: Uint8Array,
  info = 0,
): Uint8Array {
  const n = 8 + pkt.length;
  const outp = new Uint8Array(20 + n);
  outp.set([0x45, 0, (20 + n) >> 8, (20 + n) & 255, 0, 0, 0, 0, 64, 1, 0, 0]);
  const s = ip(from);
  const d = ip(to);
  outp.set(
    [
      s >>> 24,
      (s >>> 16) & 255,
      (s >>> 8) & 255,
      s & 255,
      d >>> 24,
      (d >>> 16) & 255,
      (d >>> 8) & 255,
      d & 255,
    ],
    12,
  );
  const c = checksum(outp, 0, 20);
  outp[10] = c >> 8;
  outp[11] = c & 255;
  emitIcmpv4Error(type, code, pkt, 0, pkt.length, outp, 20, info);
  return outp;
}

/** Records the ct state and ct mark each packet has when it reaches `hook` (after its chains). */
export function ctProbe(r: RouterRig, hook: HookName): { state: number; ctMark: number; mark: number }[] {
  const seen: { state: number; ctMark: number; mark: number }[] = [];
  r.engine.hooks[hook].programs.push({
    run(pipe: Pipeline, s: number): number {
      seen.push({ state: pipe.meta.ctState[s]!, ctMark: pipe.meta.ctMark[s]!, mark: pipe.meta.mark[s]! });
      return VERDICT_ACCEPT;
    },
  });
  return seen;
}

/** An echo request/reply with identifier `id` (checksum fixed). */
export function echo(src: string, dst: string, id: number, type = 8): Uint8Array {
  const p = icmpEchoFrame({ src, dst }, 1, 56, type);
  p[24] = id >> 8;
  p[25] = id & 255;
  p[22] = 0;
  p[23] = 0;
  const c = checksum(p, 20, p.length - 20);
  p[22] = c >> 8;
  p[23] = c & 255;
  return p;
}

/** An IPv4/TCP segment with valid checksums (flags: SYN 0x02, RST 0x04, ACK 0x10, FIN 0x01). */
export function tcp(
  o: { src: string; dst: string },
  sport: number,
  dport: number,
  t: { seq?: number; ack?: number; flags?: number; payload?: number; window?: number } = {},
): Uint8Array {
  const payload = t.payload ?? 0;
  const p = new Uint8Array(40 + payload);
  const s = ip(o.src);
  const d = ip(o.dst);
  p.set([0x45, 0, (40 + payload) >> 8, (40 + payload) & 255, 0x55, 0x55, 0x40, 0, 64, 6, 0, 0]);
  setU32(p, 12, s);
  setU32(p, 16, d);
  setU16(p, 10, checksum(p, 0, 20));
  setU16(p, 20, sport);
  setU16(p, 22, dport);
  setU32(p, 24, t.seq ?? 1000);
  setU32(p, 28, t.ack ?? 0);
  p[32] = 5 << 4;
  p[33] = t.flags ?? 0x02;
  setU16(p, 34, t.window ?? 64240);
  for (let i = 0; i < payload; i++) p[40 + i] = (i * 13) & 255;
  setU16(p, 36, checksum(p, 20, 20 + payload, pseudoSumV4(s, d, 6, 20 + payload)));
  return p;
}

/**
 * Lets `secs` pass and returns the IPv4 packets the router sent on wan meanwhile — what its timers
 * made — after the gateway announced itself again, so nothing is left waiting for ARP.
 */
export function wanAfter(r: RouterRig, secs: number): Uint8Array[] {
  r.advance(secs);
  r.send('wan', [arpRequest(GW, '192.0.2.1', WAN_IP)]);
  return out(r, 'wan');
}

/** Lets `secs` pass, then has the gateway and the hosts announce themselves again (their ARP entries aged meanwhile). */
export function idle(r: RouterRig, secs: number): void {
  r.advance(secs);
  r.send('wan', [arpRequest(GW, '192.0.2.1', WAN_IP)]);
  for (const [a, m] of Object.entries(HOSTS)) r.send('lan', [arpRequest(m, a, '10.1.0.1')]);
  r.sent('wan');
  r.sent('lan');
}
