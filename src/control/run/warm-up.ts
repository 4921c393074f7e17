/**
 * JIT warm-up for `ferry run`. At light load (pings 10 ms apart) the pipeline's functions run too
 * rarely for V8 to tier them up, so each packet runs interpreted or baseline code: ~100 µs through
 * the seed-000 router against ~1.5 µs once optimized (bench/latency-idle.bench.ts). Before the live
 * ports start receiving, the daemon builds a scratch router from the same config over discard
 * ports shaped like the live ones (kind, L2, MAC, MTU), with a small flow table and no DHCP
 * clients, and pushes synthetic traffic derived from the config through it (warm-up-traffic.ts):
 * ARP replies so neighbours resolve, UDP/TCP/ICMP between every pair of endpoints and to ferry's own
 * addresses, and the answers to what it sent back the other way, in batches of 1 to 64 packets,
 * until V8 has optimized the hot functions (their code and feedback are per function, shared with
 * the live router's) or the time bound passes. IPv4 only: an IPv6-only config gets no traffic.
 * The scratch router is then dropped: it shares no
 * state with the live one, nothing it sends leaves the process, and it touches no host state.
 */
import { PacketBatch } from '../../dataplane/batch.js';
import type { PacketMeta } from '../../dataplane/pipeline/packet-meta.js';
import { HEAD_MAX } from '../../dataplane/pipeline/packet-meta.js';
import { DiscardPort } from '../../dataplane/ports/discard-port.js';
import type { Port } from '../../dataplane/ports/port.js';
import { buildRouter } from '../build-router.js';
import type { FerryConfig } from '../config/types.js';
import {
  arpTemplates,
  buildTemplates,
  type PortShape,
  type Template,
  turnAround,
} from './warm-up-traffic.js';

/** Wall-clock bound of a warm-up. */
export const WARM_UP_BUDGET_MS = 1500;
/**
 * Batches a warm-up pushes at most. V8 optimizes a function after some hundreds of calls (or loop
 * iterations) with stable feedback; 4000 batches of 1..64 packets measured enough for the
 * per-batch stage functions on every example config (bench/latency-idle.bench.ts).
 */
export const WARM_UP_MAX_BATCHES = 4000;
/** The scratch router's flow table: enough for the synthetic flows, small in memory. */
const WARM_UP_CT_CAPACITY = 4096;
/** Batch sizes cycled through, so both the 1-packet (ping) and the full-vector paths get optimized. */
const SIZES = [1, 2, 1, 8, 3, 64, 1, 16, 4, 32, 1, 5];
const SLOT = 2048;
/** Answers kept per batch (the rest are dropped, as a port's full ring would). */
const ECHO_SLOTS = 256;
/** Rounds of answers after a batch: answer, the answer's answer (SYN-ACK → ACK), ARP for it. */
const ANSWER_ROUNDS = 3;

export interface WarmUpOptions {
  /** The live ports, for their L2/MAC/MTU (by config order); by default derived from the config. */
  readonly ports?: readonly Pick<Port, 'l2' | 'mac' | 'mtu'>[];
  readonly budgetMs?: number;
  readonly maxBatches?: number;
}

export interface WarmUpResult {
  readonly batches: number;
  readonly packets: number;
  /** Packets the scratch router sent out of its (discard) ports. */
  readonly sent: number;
  readonly ms: number;
  /** 'batches' when it pushed all it meant to, 'time' when the time bound stopped it. */
  readonly stoppedBy: 'batches' | 'time';
}

/** Frames the scratch router transmitted, kept to be answered (warm-up-traffic.ts turnAround). */
class Answers {
  readonly data = new Uint8Array(ECHO_SLOTS * SLOT);
  readonly length = new Uint16Array(ECHO_SLOTS);
  readonly port = new Uint16Array(ECHO_SLOTS);
  count = 0;

  keep(port: number, batch: PacketBatch, meta: PacketMeta, s: number): void {
    const h = meta.headLen[s]!;
    const len = batch.length[s]!;
    if (this.count === ECHO_SLOTS || h + len > SLOT) return;
    const at = this.count * SLOT;
    this.data.set(meta.head.subarray(s * HEAD_MAX, s * HEAD_MAX + h), at);
    this.data.set(batch.data.subarray(batch.offset[s]!, batch.offset[s]! + len), at + h);
    this.length[this.count] = h + len;
    this.port[this.count] = port;
    this.count++;
  }
}

/** A discard port that also keeps a copy of what it is given, for the warm-up to answer. */
class AnsweringPort extends DiscardPort {
  answers: Answers | null = null;

  override transmit(batch: PacketBatch, meta: PacketMeta, slots: Uint16Array, n: number): void {
    super.transmit(batch, meta, slots, n);
    const a = this.answers;
    if (a) for (let k = 0; k < n; k++) a.keep(this.index, batch, meta, slots[k]!);
  }
}

/**
 * Engine seconds between batch `n` and the next: mostly back to back, but also the gaps of light
 * load (10 ms, as pings) and long idle spells, so that timers, neighbour re-confirmation (STALE
 * after 30 s) and flow expiry down to an empty table run on the way too, and their branches have
 * type feedback when the live router meets them.
 */
function clockStep(n: number): number {
  // Past every conntrack timeout (TCP established: 5 days): the flow table empties and fills again.
  if (n % 1024 === 1023) return 6 * 86400;
  if (n % 512 === 511) return 7;
  if (n % 8 === 7) return 0.01;
  return 20e-6;
}

function shapesOf(cfg: FerryConfig, live: WarmUpOptions['ports']): (PortShape & { mtu: number })[] {
  return cfg.ports.map((p, i) => {
    const l = live?.[i];
    if (l) return { l2: l.l2, mac: l.mac, mtu: l.mtu };
    const l2 = p.kind !== 'tun';
    const mac = p.mac ? p.mac.reduce((m, b) => m * 256 + b, 0) : 0x02fe_0000_0000 + i + 1;
    return { l2, mac: l2 ? mac : 0, mtu: p.mtu };
  });
}

/** Runs the warm-up for `cfg` (see the header); returns what it did. */
export function warmUp(cfg: FerryConfig, opts: WarmUpOptions = {}): WarmUpResult {
  const started = performance.now();
  const budget = opts.budgetMs ?? WARM_UP_BUDGET_MS;
  const maxBatches = opts.maxBatches ?? WARM_UP_MAX_BATCHES;
  const shapes = shapesOf(cfg, opts.ports);
  const scratchCfg: FerryConfig = {
    ...cfg,
    conntrack: { ...cfg.conntrack, capacity: Math.min(cfg.conntrack.capacity, WARM_UP_CT_CAPACITY) },
  };
  const ports = cfg.ports.map(
    (p, i) => new AnsweringPort(p.name, shapes[i]!.l2, shapes[i]!.mac, shapes[i]!.mtu, p.kind),
  );
  const { engine } = buildRouter(scratchCfg, ports, { dhcpClient: false });
  const batch = new PacketBatch(64);
  const answers = [new Answers(), new Answers()];
  let clock = Date.now() / 1000;
  let batches = 0;
  let packets = 0;

  /** Feeds frames [from, to) of `src` (one port's) as one batch, keeping what comes out in `out`. */
  const feed = (frames: (i: number) => Uint8Array, port: number, n: number, out: Answers) => {
    for (let i = 0; i < n; i++) {
      const f = frames(i);
      batch.data.set(f, i * SLOT);
      batch.offset[i] = i * SLOT;
      batch.length[i] = f.length;
      batch.wireLength[i] = f.length;
      batch.port[i] = port;
      batch.flags[i] = 0;
      // Live batches carry kernel timestamps, as here (the engine takes its clock from them).
      batch.tsSec[i] = Math.floor(clock);
      batch.tsNsec[i] = Math.floor((clock % 1) * 1e9);
    }
    batch.count = n;
    for (const p of ports) p.answers = out;
    engine.receive(batch);
    for (const p of ports) p.answers = null;
    clock += clockStep(batches);
    batches++;
    packets += n;
  };

  /** Answers what came out, round after round, one batch per run of frames to the same port. */
  const answerAll = (first: Answers) => {
    let cur = first;
    for (let round = 0; round < ANSWER_ROUNDS && cur.count > 0; round++) {
      const next = answers[(answers.indexOf(cur) + 1) % 2]!;
      next.count = 0;
      let i = 0;
      while (i < cur.count) {
        const port = cur.port[i]!;
        const run: Uint8Array[] = [];
        for (; i < cur.count && cur.port[i] === port && run.length < 64; i++) {
          const f = cur.data.subarray(i * SLOT, i * SLOT + cur.length[i]!);
          const n = turnAround(f, f.length, shapes[port]!.l2, round === 0);
          if (n > 0) run.push(f.subarray(0, n));
        }
        if (run.length > 0) feed((k) => run[k]!, port, run.length, next);
      }
      cur.count = 0;
      cur = next;
    }
    cur.count = 0;
  };

  const pushGroup = (group: readonly Template[]) => {
    let i = 0;
    while (i < group.length) {
      const port = group[i]!.port;
      let n = 0;
      while (i + n < group.length && group[i + n]!.port === port && n < 64) n++;
      const from = i;
      answers[0]!.count = 0;
      feed((k) => group[from + k]!.frame, port, n, answers[0]!);
      answerAll(answers[0]!);
      i += n;
    }
  };

  pushGroup(arpTemplates(cfg, shapes));
  const traffic = buildTemplates(cfg, shapes);
  let stoppedBy: WarmUpResult['stoppedBy'] = 'batches';
  let cursor = 0;
  for (let step = 0; traffic.length > 0 && batches < maxBatches; step++) {
    if (performance.now() - started > budget) {
      stoppedBy = 'time';
      break;
    }
    const size = Math.min(SIZES[step % SIZES.length]!, traffic.length);
    const group: Template[] = [];
    for (let k = 0; k < size; k++) group.push(traffic[(cursor + k) % traffic.length]!);
    cursor = (cursor + size) % traffic.length;
    pushGroup(group);
  }
  const sent = ports.reduce((s, p) => s + p.stats.txPackets, 0);
  for (const p of ports) p.close();
  return { batches, packets, sent, ms: performance.now() - started, stoppedBy };
}
