/**
 * The live section: every engine (engines.ts) in `rounds` rounds, the engine order rotated each
 * round so slow drifts of the shared machine spread over all of them; per engine and round a fresh
 * topology, the engine started, then ping alone, the 64-byte UDP flood from two senders and the
 * TCP transfer with ping under it. A test that fails in an engine's first round is not repeated
 * (its reason is recorded). Figures: median, min and max over the rounds; then the ratios.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBaselineTools } from '../../io/baseline.js';
import { waitQuiet } from '../../io/cpu.js';
import { removeDir, trackDir } from '../cleanup.js';
import { ratioOf, summarize } from '../stats.js';
import type { LiveEngineResult, LiveRatio, LiveSection } from '../types.js';
import { writeLiveBrouterConfig } from './configs.js';
import { ENGINES, type EngineEnv, type EngineId, type RunningEngine } from './engines.js';
import {
  iperfServer,
  type PingResult,
  ping,
  type TcpResult,
  tcpTransfer,
  type UdpResult,
  udpFlood,
} from './probes.js';
import { createBrouterTopology, destroyBrouterTopology, SERVER_IP } from './topology.js';

export interface LiveOptions {
  root: string;
  engines: EngineId[];
  rounds: number;
  secs: number;
  pingCount: number;
  udpPayload: number;
  udpSenders: number;
  tcpStreams: number;
  /** Longest wait for other load to drop before each test, seconds. */
  quietWaitSec: number;
  progress: (line: string) => void;
}

interface Round {
  pingIdle?: PingResult;
  udp?: UdpResult;
  tcp?: TcpResult;
  bg: number;
  command: string;
  log: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const kpps = (x: number) => `${(x / 1000).toFixed(0)} kpps`;

async function runRound(
  id: EngineId,
  env: EngineEnv,
  o: LiveOptions,
  skip: Map<string, string>,
  tools: { udpgen: string },
): Promise<Round> {
  const spec = ENGINES[id];
  const t = await createBrouterTopology(spec.topology);
  let engine: RunningEngine | undefined;
  const server = iperfServer(t.srv, env.lifeSec);
  const round: Round = { bg: Number.NaN, command: '', log: '' };
  try {
    engine = await spec.start(t, env);
    round.command = engine.command.replaceAll(process.execPath, 'node').replaceAll(`${o.root}/`, '');
    const fwdPid = engine.pid;
    // warm-up (ARP, conntrack, JIT): one second of paced UDP, not measured
    await udpFlood({
      udpgen: tools.udpgen,
      cli: t.cli,
      srv: t.srv,
      dst: SERVER_IP,
      secs: 1,
      senders: 1,
      payload: o.udpPayload,
      pps: 20_000,
      fwdPid,
    });
    round.bg = await waitQuiet(15, o.quietWaitSec);
    round.pingIdle = await ping(t.cli, SERVER_IP, o.pingCount, 0.01);
    if (spec.udp && !skip.has('udp')) {
      await waitQuiet(15, o.quietWaitSec);
      round.udp = await udpFlood({
        udpgen: tools.udpgen,
        cli: t.cli,
        srv: t.srv,
        dst: SERVER_IP,
        secs: o.secs,
        senders: o.udpSenders,
        payload: o.udpPayload,
        fwdPid,
      });
    }
    if (!skip.has('tcp')) {
      await waitQuiet(15, o.quietWaitSec);
      round.tcp = await tcpTransfer({
        cli: t.cli,
        dst: SERVER_IP,
        secs: o.secs,
        streams: o.tcpStreams,
        fwdPid,
      });
    }
    round.log = await engine.stop();
    engine = undefined;
    return round;
  } finally {
    if (engine) await engine.stop().catch(() => '');
    server.kill('SIGKILL');
    await server;
    await destroyBrouterTopology(t);
  }
}

function engineResult(id: EngineId, rounds: Round[], errors: string[]): LiveEngineResult {
  const spec = ENGINES[id];
  const ok = rounds.filter((r) => r.command);
  const pings = ok.flatMap((r) => (r.pingIdle ? [r.pingIdle] : []));
  const udp = ok.flatMap((r) => (r.udp ? [r.udp] : []));
  const tcp = ok.flatMap((r) => (r.tcp && !r.tcp.error ? [r.tcp] : []));
  const loss = (p: PingResult) => (p.sent ? (100 * (p.sent - p.received)) / p.sent : Number.NaN);
  const r: LiveEngineResult = {
    id,
    label: spec.label,
    command: ok[0]?.command ?? '',
    offloads: spec.topology.offloads,
    rounds: ok.length,
    pingIdle: {
      p50Ms: summarize(pings.map((p) => p.p50Ms)),
      p99Ms: summarize(pings.map((p) => p.p99Ms)),
      lossPct: summarize(pings.map(loss)),
    },
    ttl: pings[0]?.ttl ?? 0,
    bgLoadPct: summarize(ok.map((x) => x.bg)),
    errors,
    log: ok[ok.length - 1]?.log ?? '',
  };
  if (udp.length) {
    r.udp = {
      rxPps: summarize(udp.map((u) => u.rxPps)),
      offeredPps: summarize(udp.map((u) => u.offeredPps)),
      lossPct: summarize(udp.map((u) => u.lossPct)),
      fwdCpuPct: summarize(udp.map((u) => u.fwdCpuPct)),
      machineCpuPct: summarize(udp.map((u) => u.machineCpuPct)),
      machineUsPerPacket: summarize(
        udp.map((u) => (u.rxPps ? (u.machineCpuPct / 100 / u.rxPps) * 1e6 : Number.NaN)),
      ),
    };
  }
  if (tcp.length) {
    r.tcp = {
      gbps: summarize(tcp.map((x) => x.gbps)),
      retransmits: summarize(tcp.map((x) => x.retransmits)),
      fwdCpuPct: summarize(tcp.map((x) => x.fwdCpuPct)),
      machineCpuPct: summarize(tcp.map((x) => x.machineCpuPct)),
    };
    const loaded = tcp.map((x) => x.loadedPing);
    r.pingLoaded = {
      p50Ms: summarize(loaded.map((p) => p.p50Ms)),
      p99Ms: summarize(loaded.map((p) => p.p99Ms)),
      lossPct: summarize(loaded.map(loss)),
    };
  }
  return r;
}

/** The ratios the report prints: ferry against the kernel and against the C forwarder. */
export function liveRatios(engines: LiveEngineResult[]): LiveRatio[] {
  const by = (id: string) => engines.find((e) => e.id === id);
  const out: LiveRatio[] = [];
  const add = (
    metric: string,
    num: string,
    den: string,
    pick: (e: LiveEngineResult) => ReturnType<typeof summarize> | undefined,
  ) => {
    const a = by(num);
    const b = by(den);
    if (!a || !b) return;
    out.push({ metric, pair: `${num} / ${den}`, value: ratioOf(pick(a), pick(b)) });
  };
  for (const den of ['kernel', 'c']) {
    add('UDP 64 B rx pps', 'ferry', den, (e) => e.udp?.rxPps);
    add('UDP machine CPU µs/packet', 'ferry', den, (e) => e.udp?.machineUsPerPacket);
    add('TCP Gbit/s, offloads off', 'ferry', den, (e) => e.tcp?.gbps);
    add('ping p50 alone', 'ferry', den, (e) => e.pingIdle.p50Ms);
    add('ping p99 under TCP load', 'ferry', den, (e) => e.pingLoaded?.p99Ms);
  }
  add('TCP Gbit/s, offloads on', 'ferry-vnet', 'kernel-offon', (e) => e.tcp?.gbps);
  add('TCP Gbit/s, offloads on', 'ferry-io-vnet', 'kernel-offon', (e) => e.tcp?.gbps);
  add('TCP Gbit/s, ferry offloads off vs kernel on', 'ferry', 'kernel-offon', (e) => e.tcp?.gbps);
  return out;
}

export async function runLive(o: LiveOptions): Promise<LiveSection> {
  const section: LiveSection = {
    errors: [],
    secsPerTest: o.secs,
    rounds: o.rounds,
    udpPayloadBytes: o.udpPayload,
    udpSenders: o.udpSenders,
    tcpStreams: o.tcpStreams,
    pingIdleCount: o.pingCount,
    engines: [],
    ratios: [],
  };
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-live-'));
  trackDir(dir);
  try {
    const tools = await buildBaselineTools(o.root, dir);
    const env: EngineEnv = {
      root: o.root,
      tools,
      configFile: writeLiveBrouterConfig(o.root, dir),
      workDir: dir,
      lifeSec: 10 * o.secs + 120,
    };
    const rounds = new Map<EngineId, Round[]>(o.engines.map((id) => [id, []]));
    const errors = new Map<EngineId, string[]>(o.engines.map((id) => [id, []]));
    const skips = new Map<EngineId, Map<string, string>>(o.engines.map((id) => [id, new Map()]));
    for (let r = 0; r < o.rounds; r++) {
      const order = o.engines.map((_, i) => o.engines[(i + r) % o.engines.length]!);
      for (const id of order) {
        const skip = skips.get(id)!;
        const tag = `live round ${r + 1}/${o.rounds} ${id}`;
        if (skip.has('engine')) {
          o.progress(`${tag}: skipped (${skip.get('engine')})`);
          continue;
        }
        let round: Round;
        try {
          round = await runRound(id, env, o, skip, tools);
        } catch (err) {
          const msg = `round ${r + 1}: ${(err as Error).message}`;
          errors.get(id)!.push(msg);
          if (r === 0) skip.set('engine', 'failed to start in round 1');
          o.progress(`${tag}: FAILED ${msg.slice(0, 300)}`);
          continue;
        }
        rounds.get(id)!.push(round);
        if (round.tcp?.error) {
          errors.get(id)!.push(`round ${r + 1}: TCP: ${round.tcp.error}`);
          if (r === 0) skip.set('tcp', round.tcp.error);
        }
        const parts = [
          round.pingIdle ? `ping p50 ${round.pingIdle.p50Ms.toFixed(3)} ms` : '',
          round.udp ? `UDP ${kpps(round.udp.rxPps)} (loss ${round.udp.lossPct.toFixed(1)}%)` : '',
          round.tcp
            ? round.tcp.error
              ? `TCP failed: ${round.tcp.error}`
              : `TCP ${round.tcp.gbps.toFixed(2)} Gbit/s`
            : '',
          round.tcp && !round.tcp.error
            ? `ping p99 under load ${round.tcp.loadedPing.p99Ms.toFixed(3)} ms`
            : '',
        ].filter(Boolean);
        o.progress(`${tag}: ${parts.join(', ')}`);
        await sleep(200);
      }
    }
    for (const id of o.engines) {
      const e = engineResult(id, rounds.get(id)!, errors.get(id)!);
      for (const [test, why] of skips.get(id)!)
        if (test !== 'engine') e.errors.push(`${test} not repeated after round 1: ${why}`);
      section.engines.push(e);
    }
    section.ratios = liveRatios(section.engines);
    return section;
  } finally {
    removeDir(dir);
  }
}
