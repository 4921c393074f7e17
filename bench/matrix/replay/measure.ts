/**
 * Times one replay case: the prepared cycle of batches fed through the engine over and over, each
 * batch first restored from its pristine copy (ferry rewrites frames in place: TTL, MACs, NAT), as
 * a port's refill would be; the restore is timed too and reported apart. The engine clock comes
 * from the batches' timestamps (whole seconds and nanoseconds, small integers), advanced 50 µs
 * per batch, so timers run as live; nothing in the loop allocates, so any GC or heap growth during
 * a timed run is the router's.
 */

import { PacketBatch } from '../../../src/dataplane/batch.js';
import { gcsSoFar, settle } from '../../harness.js';
import { summarize } from '../stats.js';
import type { ReplayCaseResult } from '../types.js';
import type { ReplayCase } from './cases.js';
import { BATCH, buildRig, type Rig } from './flows.js';

const STEP_NS = 50_000;

export interface ReplayOptions {
  runs: number;
  packetsPerRun: number;
  warmupPackets: number;
}

/** Feeds `batches` batches of the cycle; returns the packets fed. */
type Driver = (batches: number) => number;

function drivers(rig: Rig): { drive: Driver; refill: Driver } {
  const work = new PacketBatch(BATCH, BATCH * 2048);
  const chunks = rig.chunks;
  const n = chunks.length;
  const engine = rig.engine;
  const clock = new Int32Array([Math.ceil(rig.now) + 1, 0]);
  let next = 0;
  const load = (): number => {
    const c = chunks[next]!;
    next = next + 1 === n ? 0 : next + 1;
    work.data.set(c.data);
    work.offset.set(c.offset);
    work.length.set(c.length);
    work.port.fill(c.port, 0, c.count);
    let ns = clock[1]! + STEP_NS;
    if (ns >= 1_000_000_000) {
      ns -= 1_000_000_000;
      clock[0] = clock[0]! + 1;
    }
    clock[1] = ns;
    work.tsSec.fill(clock[0]!, 0, c.count);
    work.tsNsec.fill(ns, 0, c.count);
    work.count = c.count;
    return c.count;
  };
  return {
    drive(batches) {
      let packets = 0;
      for (let b = 0; b < batches; b++) {
        packets += load();
        engine.receive(work);
      }
      return packets;
    },
    refill(batches) {
      let packets = 0;
      for (let b = 0; b < batches; b++) packets += load();
      return packets;
    },
  };
}

const diff = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
      .filter(([, v]) => v !== 0),
  );

export async function measureCase(c: ReplayCase, root: string, o: ReplayOptions): Promise<ReplayCaseResult> {
  const spec = c.spec(root);
  const rig = buildRig(spec);
  const { drive, refill } = drivers(rig);
  const meanBatch = rig.frames / rig.chunks.length;
  const batchesPerRun = Math.max(1, Math.round(o.packetsPerRun / meanBatch));

  drive(Math.max(1, Math.round(o.warmupPackets / meanBatch)));
  await settle();
  const drops0 = rig.engine.drops();
  const sent0 = rig.ports.map((p) => p.stats.txPackets);

  const ns: number[] = [];
  const gcs: number[] = [];
  const heap: number[] = [];
  let packetsTimed = 0;
  for (let r = 0; r < o.runs; r++) {
    const g0 = gcsSoFar();
    const h0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const packets = drive(batchesPerRun);
    const elapsed = performance.now() - t0;
    const h1 = process.memoryUsage().heapUsed;
    await settle();
    ns.push((elapsed * 1e6) / packets);
    gcs.push(gcsSoFar() - g0);
    heap.push(Math.max(0, h1 - h0) / packets);
    packetsTimed += packets;
  }
  const drops = diff(rig.engine.drops(), drops0);
  const sent = Object.fromEntries(rig.ports.map((p, i) => [p.name, p.stats.txPackets - sent0[i]!]));

  const t0 = performance.now();
  const refilled = refill(batchesPerRun);
  const refillNsPerPacket = ((performance.now() - t0) * 1e6) / refilled;

  const pipe = rig.engine.pipe;
  pipe.resetRuntime();
  pipe.profile = true;
  drive(batchesPerRun);
  pipe.profile = false;
  const stages = pipe
    .runtime()
    .filter((s) => s.packets > 0)
    .map((s) => ({ stage: s.stage, packets: s.packets, vector: s.vector, nsPerPacket: s.nsPerPacket }));

  const meanFrameBytes = rig.frameBytes / rig.frames;
  const nsStat = summarize(ns);
  return {
    id: c.id,
    label: c.label,
    config: c.config,
    traffic: c.traffic,
    flows: spec.flows.length,
    cycleFrames: rig.frames,
    meanFrameBytes,
    packetsPerRun: Math.round(packetsTimed / o.runs),
    mpps: summarize(ns.map((x) => 1e3 / x)),
    nsPerPacket: nsStat,
    gbps: summarize(ns.map((x) => (meanFrameBytes * 8) / x)),
    gcs: summarize(gcs),
    heapBytesPerPacket: summarize(heap),
    refillNsPerPacket,
    stages,
    drops,
    sent,
  };
}
