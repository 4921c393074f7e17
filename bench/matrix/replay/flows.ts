/**
 * Established flows through a real router built from a config, and the cyclic traffic of the
 * replay benchmark over them.
 *
 * Set-up (not timed): the router learns its neighbours from ARP replies; then each flow is opened
 * through it one packet at a time — UDP request and reply, TCP SYN, SYN-ACK (window scale 7) and
 * ACK — and what ferry transmits tells the flow's egress port, NAT mapping and MACs, from which
 * the reply direction is built. Every step must produce exactly one frame, or the set-up fails
 * with the engine's drop counters.
 *
 * Traffic: `rounds` rounds; per round every UDP flow sends one request and gets one reply, every
 * TCP flow carries two full-size data segments server → client and one client ACK (every 16th
 * round a 200-byte request instead). ACKs acknowledge what was sent LAG rounds earlier, so
 * within a cycle no segment acknowledges data the router has not yet seen (window tracking is
 * strict). Replaying the cycle again makes the segments in-window retransmissions, as valid to
 * the tracker as the first time (the windows are 8 MiB). The packets are then cut into batches
 * per ingress port (as the live driver delivers them) and ordered by their first packet.
 */
import { buildRouter } from '../../../src/control/build-router.js';
import type { FerryConfig } from '../../../src/control/config/types.js';
import { PacketBatch } from '../../../src/dataplane/batch.js';
import type { RouterEngine } from '../../../src/dataplane/engine/router-engine.js';
import { BenchPort } from './bench-port.js';
import {
  arpReply,
  ETH_HEADER,
  ethernet,
  ip4,
  ipv4Packet,
  PROTO_TCP,
  PROTO_UDP,
  readFrame,
  TCP_ACK,
  TCP_PSH,
  TCP_SYN,
  type TcpFields,
  type Tuple,
} from './frames.js';

export const BATCH = 256;
const SLOT = 2048;
/** ACKs acknowledge data of this many rounds before (see the header). */
const LAG = 8;
const WSCALE = 7;
const WINDOW = 0xffff;
const TCP_DATA_IP_LENGTH = 1500;
const TCP_REQUEST_BYTES = 200;

export interface Neighbour {
  port: string;
  mac: number;
  ip: string;
  /** The router's address on that port (the ARP reply's target). */
  routerIp: string;
}

export interface FlowSpec {
  proto: 'udp' | 'tcp';
  lanPort: string;
  client: string;
  clientMac: number;
  clientPort: number;
  server: string;
  serverPort: number;
}

export interface TrafficSpec {
  cfg: FerryConfig;
  /** MAC of each Ethernet port of the config, by name. */
  macs: Record<string, number>;
  neighbours: Neighbour[];
  flows: FlowSpec[];
  rounds: number;
  /** IP length of the n-th UDP packet of the cycle (both directions). */
  udpIpLength: (n: number) => number;
}

/** One batch of the cycle, as the port would hand it over. */
export interface Chunk {
  port: number;
  count: number;
  data: Uint8Array;
  offset: Uint32Array;
  length: Uint32Array;
}

export interface Rig {
  engine: RouterEngine;
  ports: BenchPort[];
  chunks: Chunk[];
  frames: number;
  frameBytes: number;
  /** Simulated engine clock (seconds), advanced by the caller. */
  now: number;
}

interface Leg {
  port: number;
  l2: boolean;
  dstMac: number;
  srcMac: number;
  tuple: Tuple;
}

interface OpenFlow {
  proto: 'udp' | 'tcp';
  fwd: Leg;
  rev: Leg;
  /** Next sequence numbers (TCP). */
  clientSeq: number;
  serverSeq: number;
}

function portIndex(ports: BenchPort[], name: string): number {
  const i = ports.findIndex((p) => p.name === name);
  if (i < 0)
    throw new Error(`replay: no port ${name} in the config (ports: ${ports.map((p) => p.name).join(', ')})`);
  return i;
}

function frameOf(leg: Leg, ipLength: number, tcp?: TcpFields): Uint8Array {
  const p = ipv4Packet(leg.tuple, ipLength, tcp);
  return leg.l2 ? ethernet(leg.dstMac, leg.srcMac, p) : p;
}

/** Feeds one frame in and returns the one frame that comes out (and its port), or throws. */
function step(rig: Rig, port: number, frame: Uint8Array, what: string): { port: number; frame: Uint8Array } {
  const b = new PacketBatch(1, SLOT);
  b.data.set(frame, 0);
  b.offset[0] = 0;
  b.length[0] = frame.length;
  b.port[0] = port;
  b.count = 1;
  rig.now += 0.001;
  rig.engine.receive(b, rig.now);
  const out: { port: number; frame: Uint8Array }[] = [];
  rig.ports.forEach((p, i) => {
    for (const f of p.take()) out.push({ port: i, frame: f });
  });
  if (out.length !== 1) {
    throw new Error(
      `replay set-up: ${what}: expected one frame out, got ${out.length} ` +
        `(${out.map((o) => rig.ports[o.port]!.name).join(', ')}); drops ${JSON.stringify(rig.engine.drops())}`,
    );
  }
  return out[0]!;
}

function open(rig: Rig, spec: FlowSpec, i: number): OpenFlow {
  const lan = portIndex(rig.ports, spec.lanPort);
  const lanPort = rig.ports[lan]!;
  const proto = spec.proto === 'udp' ? PROTO_UDP : PROTO_TCP;
  const fwd: Leg = {
    port: lan,
    l2: lanPort.l2,
    dstMac: lanPort.mac,
    srcMac: spec.clientMac,
    tuple: {
      proto,
      src: ip4(spec.client),
      dst: ip4(spec.server),
      sport: spec.clientPort,
      dport: spec.serverPort,
    },
  };
  const isn = (0x1000_0000 + i * 0x0100_0000) >>> 0;
  const synFields: TcpFields = { seq: isn, ack: 0, flags: TCP_SYN, window: WINDOW, wscale: WSCALE };
  const first = step(
    rig,
    lan,
    frameOf(fwd, 60 - ETH_HEADER, proto === PROTO_TCP ? synFields : undefined),
    `flow ${i} open`,
  );
  const outPort = rig.ports[first.port]!;
  const seen = readFrame(first.frame, outPort.l2);
  const rev: Leg = {
    port: first.port,
    l2: outPort.l2,
    dstMac: seen.srcMac,
    srcMac: seen.dstMac,
    tuple: {
      proto,
      src: seen.tuple.dst,
      dst: seen.tuple.src,
      sport: seen.tuple.dport,
      dport: seen.tuple.sport,
    },
  };
  const flow: OpenFlow = { proto: spec.proto, fwd, rev, clientSeq: isn + 1, serverSeq: 0 };
  if (proto === PROTO_UDP) {
    const back = step(rig, rev.port, frameOf(rev, 60 - ETH_HEADER), `flow ${i} reply`);
    if (back.port !== lan)
      throw new Error(`replay set-up: flow ${i}: the reply left on ${rig.ports[back.port]!.name}`);
    return flow;
  }
  const sisn = (0x8000_0000 + i * 0x0100_0000) >>> 0;
  const synAck = { seq: sisn, ack: isn + 1, flags: TCP_SYN | TCP_ACK, window: WINDOW, wscale: WSCALE };
  const back = step(rig, rev.port, frameOf(rev, 60 - ETH_HEADER, synAck), `flow ${i} SYN-ACK`);
  if (back.port !== lan)
    throw new Error(`replay set-up: flow ${i}: the SYN-ACK left on ${rig.ports[back.port]!.name}`);
  flow.serverSeq = (sisn + 1) >>> 0;
  const ack = { seq: flow.clientSeq, ack: flow.serverSeq, flags: TCP_ACK, window: WINDOW };
  step(rig, lan, frameOf(fwd, 60 - ETH_HEADER, ack), `flow ${i} ACK`);
  return flow;
}

interface Pkt {
  port: number;
  frame: Uint8Array;
}

/** The cycle's packets in order (see the header). */
function cycle(flows: OpenFlow[], spec: TrafficSpec): Pkt[] {
  const out: Pkt[] = [];
  let udpN = 0;
  // per flow: sequence numbers at the end of each round (for the lagged ACKs)
  const serverHist = flows.map((f) => [f.serverSeq]);
  const clientHist = flows.map((f) => [f.clientSeq]);
  const lagged = (hist: number[], r: number) => hist[Math.max(0, r + 1 - LAG)]!;
  for (let r = 0; r < spec.rounds; r++) {
    flows.forEach((f, i) => {
      if (f.proto === 'udp') {
        out.push({ port: f.fwd.port, frame: frameOf(f.fwd, spec.udpIpLength(udpN++)) });
        out.push({ port: f.rev.port, frame: frameOf(f.rev, spec.udpIpLength(udpN++)) });
        return;
      }
      const ackForServer = lagged(clientHist[i]!, r);
      for (let k = 0; k < 2; k++) {
        const fields = { seq: f.serverSeq, ack: ackForServer, flags: TCP_ACK | TCP_PSH, window: WINDOW };
        out.push({ port: f.rev.port, frame: frameOf(f.rev, TCP_DATA_IP_LENGTH, fields) });
        f.serverSeq = (f.serverSeq + TCP_DATA_IP_LENGTH - 40) >>> 0;
      }
      const request = r % 16 === 15;
      const fields = {
        seq: f.clientSeq,
        ack: lagged(serverHist[i]!, r),
        flags: TCP_ACK | (request ? TCP_PSH : 0),
        window: WINDOW,
      };
      out.push({ port: f.fwd.port, frame: frameOf(f.fwd, 40 + (request ? TCP_REQUEST_BYTES : 0), fields) });
      if (request) f.clientSeq = (f.clientSeq + TCP_REQUEST_BYTES) >>> 0;
      serverHist[i]!.push(f.serverSeq);
      clientHist[i]!.push(f.clientSeq);
    });
  }
  return out;
}

/** Cuts the packets into per-port batches of up to BATCH, ordered by their first packet. */
function chunk(pkts: Pkt[]): Chunk[] {
  const open = new Map<number, { first: number; list: Uint8Array[] }>();
  const done: { first: number; port: number; list: Uint8Array[] }[] = [];
  pkts.forEach((p, n) => {
    let c = open.get(p.port);
    if (!c) {
      c = { first: n, list: [] };
      open.set(p.port, c);
    }
    c.list.push(p.frame);
    if (c.list.length === BATCH) {
      done.push({ first: c.first, port: p.port, list: c.list });
      open.delete(p.port);
    }
  });
  for (const [port, c] of open) done.push({ first: c.first, port, list: c.list });
  done.sort((a, b) => a.first - b.first);
  return done.map(({ port, list }) => {
    const offset = new Uint32Array(list.length);
    const length = new Uint32Array(list.length);
    let used = 0;
    list.forEach((f, i) => {
      offset[i] = used;
      length[i] = f.length;
      used += (f.length + 63) & ~63;
    });
    const data = new Uint8Array(used);
    list.forEach((f, i) => {
      data.set(f, offset[i]!);
    });
    return { port, count: list.length, data, offset, length };
  });
}

/** Builds the router over bench ports, opens the flows and prepares the cycle. */
export function buildRig(spec: TrafficSpec): Rig {
  const ports = spec.cfg.ports.map((p, i) => {
    const l2 = p.kind !== 'tun';
    const mac = spec.macs[p.name] ?? 0x02fe_0000_0000 + i;
    return new BenchPort(p.name, l2, l2 ? mac : 0, p.kind);
  });
  const { engine } = buildRouter(spec.cfg, ports, { dhcpClient: false });
  const rig: Rig = { engine, ports, chunks: [], frames: 0, frameBytes: 0, now: 1_000 };
  const arp = new PacketBatch(spec.neighbours.length, spec.neighbours.length * SLOT);
  spec.neighbours.forEach((n, i) => {
    const port = portIndex(ports, n.port);
    const f = arpReply(n.mac, ip4(n.ip), ports[port]!.mac, ip4(n.routerIp));
    arp.data.set(f, i * SLOT);
    arp.offset[i] = i * SLOT;
    arp.length[i] = f.length;
    arp.port[i] = port;
  });
  arp.count = spec.neighbours.length;
  engine.receive(arp, rig.now);
  for (const p of ports) p.take();
  const flows = spec.flows.map((f, i) => open(rig, f, i));
  const pkts = cycle(flows, spec);
  rig.chunks = chunk(pkts);
  rig.frames = pkts.length;
  rig.frameBytes = pkts.reduce((a, p) => a + p.frame.length + (rig.ports[p.port]!.l2 ? 0 : ETH_HEADER), 0);
  for (const p of ports) {
    p.take();
    p.recording = false;
  }
  return rig;
}
