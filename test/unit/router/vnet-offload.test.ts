/**
 * Offload descriptors (offloads 'vnet') through the router engine on memory ports: GSO
 * super-frames and partial checksums (CHECKSUM_PARTIAL) carried from receive to transmit, NAT on
 * a partial checksum, the MTU check by gso_size, csum_start moved with the link-layer header.
 *
 * "Completing" a partial checksum here is what the kernel does: the one's-complement sum from
 * csum_start to the end (the field holds the pseudo-header sum), complemented, written at
 * csum_start + csum_offset. The result must then verify against the pseudo-header of the
 * addresses the packet finally carries.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUTS } from '../../../src/control/config/semantic/services.js';
import { PacketBatch } from '../../../src/dataplane/batch.js';
import { RouterEngine } from '../../../src/dataplane/engine/router-engine.js';
import { META_STRIDE, newPortMeta } from '../../../src/dataplane/io/port-meta.js';
import { NAT_SNAT, type PacketMeta, TX_OFFLOAD_STRIDE } from '../../../src/dataplane/pipeline/packet-meta.js';
import type { Pipeline } from '../../../src/dataplane/pipeline/pipeline.js';
import { MemoryPort } from '../../../src/dataplane/ports/memory-port.js';
import { VERDICT_ACCEPT } from '../../../src/dataplane/stages/hook.js';
import { setU16, setU32, u16, u32 } from '../../../src/dataplane/wire/bytes.js';
import { checksum, fold, pseudoSumV4, sum16, verify } from '../../../src/dataplane/wire/checksum.js';
import { ip, macNum } from '../../helpers/frames.js';
import { StaticRoutes } from '../../helpers/static-routes.js';

const R0 = '02:00:00:00:00:01';
const R1 = '02:00:00:00:00:02';
const R3 = '02:00:00:00:00:04';
const GW = '0a:00:00:00:00:01';
const HOST = '0a:00:00:00:00:33';
const PLAIN_HOST = '0a:00:00:00:00:09';
const WAN_IP = '192.0.2.2';
const NAT_PORT = 61000;
const NEEDS_CSUM = 1;
const GSO_TCPV4 = 1;

/** A memory port that (optionally) takes offload descriptors and records them per frame sent. */
class OffloadPort extends MemoryPort {
  readonly descriptors: number[][] = [];

  constructor(
    name: string,
    l2: boolean,
    mac: number,
    readonly txOffload: boolean,
  ) {
    super(name, l2, mac, 1500);
  }

  override transmit(batch: PacketBatch, meta: PacketMeta, slots: Uint16Array, n: number): void {
    for (let k = 0; k < n; k++) {
      const x = slots[k]! * TX_OFFLOAD_STRIDE;
      this.descriptors.push(Array.from(meta.txOffload.subarray(x, x + TX_OFFLOAD_STRIDE)));
    }
    super.transmit(batch, meta, slots, n);
  }

  take(): { frame: Uint8Array; desc: number[] }[] {
    const frames = this.sent.splice(0);
    const descs = this.descriptors.splice(0);
    return frames.map((frame, i) => ({ frame, desc: descs[i]! }));
  }
}

interface Tcp {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  flags: number;
  payload: number;
  /** Leave the TCP checksum partial (pseudo-header sum, not complemented). */
  partial: boolean;
}

/** An IPv4 (DF) + 20-byte TCP packet whose payload byte i is (i * 7) & 0xff. */
function tcp(t: Tcp): Uint8Array {
  const len = 40 + t.payload;
  const p = new Uint8Array(len);
  p[0] = 0x45;
  setU16(p, 2, len);
  setU16(p, 4, 0x1234);
  setU16(p, 6, 0x4000);
  p[8] = 64;
  p[9] = 6;
  setU32(p, 12, ip(t.src));
  setU32(p, 16, ip(t.dst));
  setU16(p, 10, checksum(p, 0, 20));
  setU16(p, 20, t.sport);
  setU16(p, 22, t.dport);
  setU32(p, 24, 1000);
  setU32(p, 28, t.flags & 0x10 ? 5000 : 0);
  p[32] = 5 << 4;
  p[33] = t.flags;
  setU16(p, 34, 65535);
  for (let i = 0; i < t.payload; i++) p[40 + i] = (i * 7) & 0xff;
  const pseudo = pseudoSumV4(ip(t.src), ip(t.dst), 6, len - 20);
  setU16(p, 36, t.partial ? fold(pseudo) : checksum(p, 20, len - 20, pseudo));
  return p;
}

function ether(dst: string, src: string, pkt: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + pkt.length);
  const d = macNum(dst);
  const s = macNum(src);
  for (let i = 0; i < 6; i++) {
    f[i] = Math.floor(d / 2 ** (8 * (5 - i))) & 0xff;
    f[6 + i] = Math.floor(s / 2 ** (8 * (5 - i))) & 0xff;
  }
  setU16(f, 12, 0x0800);
  f.set(pkt, 14);
  return f;
}

/** The descriptor a vnet port reports for a TCP frame whose IP header starts at `l3` (port-meta.ts layout). */
function rxDesc(l3: number, gsoSize: number): number[] {
  return [0, NEEDS_CSUM, gsoSize ? GSO_TCPV4 : 0, gsoSize ? l3 + 40 : 0, gsoSize, l3 + 20, 16, 0];
}

/** What the kernel does with a partial checksum on the way out. */
function complete(frame: Uint8Array, desc: number[]): void {
  const start = desc[5]!;
  setU16(frame, start + desc[6]!, ~fold(sum16(frame, start, frame.length - start)) & 0xffff);
}

/** True when the TCP checksum of the IP packet verifies against the pseudo-header of its addresses. */
function tcpVerifies(p: Uint8Array): boolean {
  const len = u16(p, 2);
  return verify(p, 20, len - 20, pseudoSumV4(u32(p, 12), u32(p, 16), 6, len - 20));
}

function payloadIntact(p: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (p[40 + i] !== ((i * 7) & 0xff)) return false;
  return true;
}

class Rig {
  readonly lan = new OffloadPort('lan', true, macNum(R0), true);
  readonly wan = new OffloadPort('wan', true, macNum(R1), true);
  readonly tun = new OffloadPort('tun', false, 0, true);
  readonly plain = new OffloadPort('plain', true, macNum(R3), false);
  readonly routes = new StaticRoutes();
  readonly engine: RouterEngine;
  private readonly batch = new PacketBatch(16, 16 * 70_000);
  private readonly rxMeta = newPortMeta(16);
  now = 1000;

  constructor() {
    const ports = [this.lan, this.wan, this.tun, this.plain];
    this.engine = new RouterEngine(ports, this.routes, {
      conntrack: { capacity: 1024, liberal: false, timeouts: DEFAULT_TIMEOUTS },
    });
    const e = this.engine;
    e.addAddress(ip('10.1.0.1'), 24, 0);
    e.addAddress(ip(WAN_IP), 24, 1);
    e.addAddress(ip('100.64.0.2'), 24, 2);
    e.addAddress(ip('10.2.0.1'), 24, 3);
    this.routes.add(ip('10.1.0.0'), 24, 0);
    this.routes.add(ip('192.0.2.0'), 24, 1);
    this.routes.add(ip('100.64.0.0'), 24, 2);
    this.routes.add(ip('10.2.0.0'), 24, 3);
    this.routes.add(0, 0, 1, ip('192.0.2.1'));
    const n = e.ctx.neighbours;
    n.setPermanent(ip('192.0.2.1'), 1, macNum(GW), this.now);
    n.setPermanent(ip('10.1.0.33'), 0, macNum(HOST), this.now);
    n.setPermanent(ip('10.2.0.9'), 3, macNum(PLAIN_HOST), this.now);
    // `oif wan snat to 192.0.2.2:61000` (a port rewrite on every flow)
    e.hooks.postrouting.programs.push({
      run(pipe: Pipeline, s: number): number {
        const m = pipe.meta;
        if (m.outPort[s] === 1) {
          m.natKind[s] = NAT_SNAT;
          m.natAddr[s] = ip(WAN_IP);
          m.natPortMin[s] = NAT_PORT;
          m.natPortMax[s] = NAT_PORT;
        }
        return VERDICT_ACCEPT;
      },
    });
  }

  /** Receives one frame on port `port` with the offload descriptor `desc` (null: none). */
  receive(port: number, frame: Uint8Array, desc: number[] | null): void {
    this.now += 0.001;
    const b = this.batch;
    b.count = 1;
    b.data.set(frame, 0);
    b.offset[0] = 0;
    b.length[0] = frame.length;
    b.wireLength[0] = frame.length;
    b.port[0] = port;
    b.tsSec[0] = Math.floor(this.now);
    b.tsNsec[0] = 0;
    this.rxMeta.fill(0);
    if (desc) this.rxMeta.set(desc, 0);
    this.engine.receive(b, this.now, desc ? this.rxMeta : null);
  }

  /** The client 10.1.0.33:40000 opens a connection to 198.51.100.7:5201 through the SNAT. */
  handshake(): void {
    const syn = tcp({ ...FLOW, flags: 0x02, payload: 0, partial: true });
    this.receive(0, ether(R0, HOST, syn), rxDesc(14, 0));
    this.wan.take();
    const synAck = tcp({ ...REPLY, flags: 0x12, payload: 0, partial: false });
    this.receive(1, ether(R1, GW, synAck), null);
    this.lan.take();
  }
}

const FLOW = { src: '10.1.0.33', dst: '198.51.100.7', sport: 40000, dport: 5201 };
const REPLY = { src: '198.51.100.7', dst: WAN_IP, sport: 5201, dport: NAT_PORT };

describe('offload descriptors through the router (offloads vnet)', () => {
  it('SNATs a partial-checksum SYN: the seed follows the new address, the port is left to the completion', () => {
    const r = new Rig();
    const syn = tcp({ ...FLOW, flags: 0x02, payload: 0, partial: true });
    r.receive(0, ether(R0, HOST, syn), rxDesc(14, 0));
    const [sent] = r.wan.take();
    expect(sent).toBeDefined();
    const { frame, desc } = sent!;
    expect(desc).toEqual([0, NEEDS_CSUM, 0, 0, 0, 34, 16, 0]);
    const p = frame.subarray(14);
    expect(u32(p, 12)).toBe(ip(WAN_IP));
    expect(u16(p, 20)).toBe(NAT_PORT);
    expect(verify(p, 0, 20)).toBe(true);
    // still the seed: the pseudo-header sum of the new addresses, as the kernel expects it
    expect(u16(p, 36)).toBe(fold(pseudoSumV4(ip(WAN_IP), ip(FLOW.dst), 6, 20)));
    complete(frame, desc);
    expect(tcpVerifies(p)).toBe(true);
  });

  it('forwards a NATed TCP super-frame whole in both directions; completed, it verifies and the data is intact', () => {
    const r = new Rig();
    r.handshake();
    const payload = 10 * 1448;
    const data = tcp({ ...FLOW, flags: 0x18, payload, partial: true });
    r.receive(0, ether(R0, HOST, data), rxDesc(14, 1448));
    const out = r.wan.take();
    expect(out).toHaveLength(1);
    const { frame, desc } = out[0]!;
    expect(frame.length).toBe(14 + 40 + payload);
    expect(desc).toEqual([0, NEEDS_CSUM, GSO_TCPV4, 54, 1448, 34, 16, 0]);
    const p = frame.subarray(14);
    expect(p[8]).toBe(63);
    expect(verify(p, 0, 20)).toBe(true);
    expect(u32(p, 12)).toBe(ip(WAN_IP));
    expect(u16(p, 20)).toBe(NAT_PORT);
    complete(frame, desc);
    expect(tcpVerifies(p)).toBe(true);
    expect(payloadIntact(p, payload)).toBe(true);

    // the server's super-frame back: destination address and port translated (port rewrite)
    const back = tcp({ ...REPLY, flags: 0x10, payload, partial: true });
    r.receive(1, ether(R1, GW, back), rxDesc(14, 1448));
    const [ret] = r.lan.take();
    expect(ret).toBeDefined();
    expect(ret!.desc).toEqual([0, NEEDS_CSUM, GSO_TCPV4, 54, 1448, 34, 16, 0]);
    const q = ret!.frame.subarray(14);
    expect(u32(q, 16)).toBe(ip(FLOW.src));
    expect(u16(q, 22)).toBe(FLOW.sport);
    complete(ret!.frame, ret!.desc);
    expect(tcpVerifies(q)).toBe(true);
    expect(payloadIntact(q, payload)).toBe(true);
    expect(r.engine.drops()).toEqual({});
  });

  it('a super-frame whose segments fit the MTU passes; one whose gso_size does not gets ICMP frag-needed', () => {
    const r = new Rig();
    r.handshake();
    // 20 + 20 + 1460 = 1500: fits exactly
    r.receive(
      0,
      ether(R0, HOST, tcp({ ...FLOW, flags: 0x10, payload: 4 * 1460, partial: true })),
      rxDesc(14, 1460),
    );
    expect(r.wan.take()).toHaveLength(1);
    r.receive(
      0,
      ether(R0, HOST, tcp({ ...FLOW, flags: 0x10, payload: 4 * 1461, partial: true })),
      rxDesc(14, 1461),
    );
    expect(r.wan.take()).toHaveLength(0);
    expect(r.engine.drops()['ip4-fragmentation-needed']).toBe(1);
    const icmp = r.lan.take().map((s) => s.frame.subarray(14));
    expect(icmp).toHaveLength(1);
    const e = icmp[0]!;
    expect(e[9]).toBe(1);
    expect([e[20], e[21]]).toEqual([3, 4]);
    expect(u16(e, 26)).toBe(1500);
    expect(u32(e, 16)).toBe(ip(FLOW.src));
  });

  it('moves csum_start and hdr_len with the link-layer header: TUN → Ethernet and Ethernet → TUN', () => {
    const r = new Rig();
    const toLan = tcp({
      src: '100.64.0.9',
      dst: '10.1.0.33',
      sport: 7000,
      dport: 8000,
      flags: 0x02,
      payload: 0,
      partial: true,
    });
    r.receive(2, toLan, rxDesc(0, 0));
    const [a] = r.lan.take();
    expect(a!.desc).toEqual([0, NEEDS_CSUM, 0, 0, 0, 34, 16, 0]);
    complete(a!.frame, a!.desc);
    expect(tcpVerifies(a!.frame.subarray(14))).toBe(true);

    const toTun = tcp({
      src: '10.1.0.33',
      dst: '100.64.0.9',
      sport: 8000,
      dport: 7000,
      flags: 0x12,
      payload: 3 * 1400,
      partial: true,
    });
    r.receive(0, ether(R0, HOST, toTun), rxDesc(14, 1400));
    const [b] = r.tun.take();
    expect(b!.frame.length).toBe(40 + 3 * 1400);
    expect(b!.desc).toEqual([0, NEEDS_CSUM, GSO_TCPV4, 40, 1400, 20, 16, 0]);
    complete(b!.frame, b!.desc);
    expect(tcpVerifies(b!.frame)).toBe(true);
  });

  it('frames without a descriptor leave with "no offload" on an offloading port', () => {
    const r = new Rig();
    r.receive(0, ether(R0, HOST, tcp({ ...FLOW, flags: 0x02, payload: 0, partial: true })), rxDesc(14, 0));
    r.wan.take();
    r.receive(1, ether(R1, GW, tcp({ ...REPLY, flags: 0x12, payload: 0, partial: false })), null);
    const [s] = r.lan.take();
    expect(s!.desc).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(tcpVerifies(s!.frame.subarray(14))).toBe(true);
  });

  it('a port without offloads gets the partial checksum completed in software; a super-frame does not pass', () => {
    const r = new Rig();
    const pkt = tcp({
      src: '10.1.0.33',
      dst: '10.2.0.9',
      sport: 1,
      dport: 2,
      flags: 0x02,
      payload: 100,
      partial: true,
    });
    r.receive(0, ether(R0, HOST, pkt), rxDesc(14, 0));
    const [s] = r.plain.take();
    expect(s!.desc).toEqual(Array(META_STRIDE).fill(0));
    expect(tcpVerifies(s!.frame.subarray(14))).toBe(true);
    const big = tcp({
      src: '10.1.0.33',
      dst: '10.2.0.9',
      sport: 1,
      dport: 2,
      flags: 0x10,
      payload: 3 * 1448,
      partial: true,
    });
    r.receive(0, ether(R0, HOST, big), rxDesc(14, 1448));
    expect(r.plain.take()).toHaveLength(0);
    expect(r.engine.drops()['ip4-fragmentation-needed']).toBe(1);
  });
});
