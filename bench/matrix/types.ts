/**
 * The benchmark matrix's result, as written to bench/results/<date>.json and read back by the
 * report and the chart. Numbers that could not be measured are NaN in memory and null in the
 * JSON; readers treat both as "missing".
 */
import type { Stat } from './stats.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memGiB: number;
  kernel: string;
  node: string;
  hostname: string;
}

export interface ReplayStage {
  stage: string;
  packets: number;
  vector: number;
  nsPerPacket: number;
}

export interface ReplayCaseResult {
  id: string;
  label: string;
  config: string;
  /** What the traffic is made of, in words. */
  traffic: string;
  flows: number;
  /** Frames in the replayed cycle and their mean length. */
  cycleFrames: number;
  meanFrameBytes: number;
  packetsPerRun: number;
  mpps: Stat;
  nsPerPacket: Stat;
  /** Gbit/s of Ethernet frames (without preamble and FCS) through the pipeline. */
  gbps: Stat;
  /** Garbage collections during each timed run. */
  gcs: Stat;
  /** Heap growth during each timed run, bytes per packet (meaningful when no GC ran). */
  heapBytesPerPacket: Stat;
  /** ns/packet of restoring the frames before each batch (included in the figures above). */
  refillNsPerPacket: number;
  /** One profiled run (profiling adds two clock reads per stage call). */
  stages: ReplayStage[];
  /** Packets dropped during the timed runs, by reason (all runs). */
  drops: Record<string, number>;
  /** Packets sent per port during the timed runs (all runs). */
  sent: Record<string, number>;
}

export interface LivePing {
  p50Ms: Stat;
  p99Ms: Stat;
  lossPct: Stat;
}

export interface LiveEngineResult {
  id: string;
  label: string;
  command: string;
  offloads: 'on' | 'off';
  rounds: number;
  udp?: {
    rxPps: Stat;
    offeredPps: Stat;
    lossPct: Stat;
    fwdCpuPct: Stat;
    machineCpuPct: Stat;
    /** Machine CPU microseconds per delivered packet. */
    machineUsPerPacket: Stat;
  };
  tcp?: {
    gbps: Stat;
    retransmits: Stat;
    fwdCpuPct: Stat;
    machineCpuPct: Stat;
  };
  /** Ping alone (light load). */
  pingIdle: LivePing;
  /** Ping during the TCP transfer. */
  pingLoaded?: LivePing;
  /** TTL of the echo replies the client got (63 = one routed hop each way). */
  ttl: number;
  /** Other load on the machine just before the engine's tests (% of one core). */
  bgLoadPct: Stat;
  errors: string[];
  /** The forwarder's own report (counters) from the last round. */
  log: string;
}

export interface LiveRatio {
  metric: string;
  /** e.g. "ferry / kernel". */
  pair: string;
  value: number;
}

export interface LiveSection {
  skipped?: string;
  errors: string[];
  secsPerTest: number;
  rounds: number;
  udpPayloadBytes: number;
  udpSenders: number;
  tcpStreams: number;
  pingIdleCount: number;
  engines: LiveEngineResult[];
  ratios: LiveRatio[];
}

export interface ScaleRow {
  flows: number;
  /** ArrayBuffer bytes a table of this size takes, per flow (measured by the process). */
  bytesPerFlow: number;
  /** Bytes per flow from the table's own array sizes. */
  arrayBytesPerFlow: number;
  lookupPerSec: Stat;
  missPerSec: Stat;
  insertPerSec: Stat;
  mixedPerSec: Stat;
  churnPerSec: Stat;
  /** Versus the next smaller size: lookup rate ratio and bytes/flow ratio. */
  lookupVsPrevious: number;
  bytesVsPrevious: number;
}

export interface Target {
  what: string;
  goal: string;
  value: string;
  met: boolean | null;
}

export interface MatrixResult {
  version: 1;
  date: string;
  startedAt: string;
  finishedAt: string;
  durationSec: number;
  mode: 'full' | 'quick';
  sections: string[];
  machine: MachineInfo;
  git: { commit: string; dirty: boolean };
  reproduce: string;
  replay: { skipped?: string; errors: string[]; runs: number; cases: ReplayCaseResult[] };
  live: LiveSection;
  scale: { skipped?: string; errors: string[]; runs: number; rows: ScaleRow[] };
  targets: Target[];
}
