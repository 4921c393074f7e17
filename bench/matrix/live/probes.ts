/**
 * The live measurements, client namespace → server namespace across the engine under test:
 * ping RTT percentiles, 64-byte UDP from two senders (udpgen), TCP with parallel iperf3 streams
 * and ping under that load, each with the forwarder's and the machine's CPU over the test.
 * Every command is bounded by a timeout and tracked for cleanup.
 */
import { execa, type ResultPromise } from 'execa';
import { since, snap } from '../../io/cpu.js';
import { trackProcess } from '../cleanup.js';

/** Scheduling priority of every benchmark process, the same for all engines (root may go below 0). */
export const NICE = process.env.FERRY_BENCH_NICE ?? '-10';

/** `ip netns exec NS nice -n NICE CMD ARGS` (ip and nice exec: the PID is the command's). */
export function inNs(ns: string, cmd: string, args: string[], timeoutSec: number): ResultPromise {
  return trackProcess(
    execa('ip', ['netns', 'exec', ns, 'nice', '-n', NICE, cmd, ...args], {
      reject: false,
      timeout: timeoutSec * 1000,
    }),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The q-quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export interface PingResult {
  sent: number;
  received: number;
  p50Ms: number;
  p99Ms: number;
  ttl: number;
}

/** Parses `ping` output: one RTT per reply line. */
export function parsePing(out: string): PingResult {
  const rtts = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
  const sent = Number(/(\d+) packets transmitted/.exec(out)?.[1] ?? 0);
  return {
    sent,
    received: rtts.length,
    p50Ms: quantile(rtts, 0.5),
    p99Ms: quantile(rtts, 0.99),
    ttl: Number(/ttl=(\d+)/.exec(out)?.[1] ?? 0),
  };
}

/** `count` echo requests, `intervalSec` apart. */
export async function ping(cli: string, dst: string, count: number, intervalSec = 0.01): Promise<PingResult> {
  const r = await inNs(
    cli,
    'ping',
    ['-n', '-c', String(count), '-i', String(intervalSec), '-W', '1', dst],
    count * intervalSec + 15,
  );
  return parsePing(String(r.stdout));
}

/** Pings until one reply comes back (ARP, proxy-ARP side discovery, JIT): false after `maxSec`. */
export async function waitReachable(cli: string, dst: string, maxSec = 30): Promise<boolean> {
  const end = Date.now() + maxSec * 1000;
  while (Date.now() < end) {
    const r = await inNs(cli, 'ping', ['-n', '-c', '1', '-W', '1', dst], 5);
    if (r.exitCode === 0) return true;
    await sleep(200);
  }
  return false;
}

export interface UdpResult {
  sent: number;
  received: number;
  rxPps: number;
  offeredPps: number;
  lossPct: number;
  fwdCpuPct: number;
  machineCpuPct: number;
}

/**
 * `senders` udpgen processes (sendmmsg, batches of 64, `payload`-byte datagrams, as fast as they
 * can, or paced to `pps` each) → one udpgen sink; `secs` seconds.
 */
export async function udpFlood(o: {
  udpgen: string;
  cli: string;
  srv: string;
  dst: string;
  secs: number;
  senders: number;
  payload: number;
  pps?: number;
  fwdPid: number | undefined;
}): Promise<UdpResult> {
  const sink = inNs(o.srv, o.udpgen, ['recv', '9000', String(o.secs + 2)], o.secs + 20);
  await sleep(400);
  const s0 = snap(o.fwdPid);
  const args = [
    'send',
    o.dst,
    '9000',
    String(o.secs),
    String(o.payload),
    '64',
    ...(o.pps ? [String(o.pps)] : []),
  ];
  const tx = await Promise.all(
    Array.from({ length: o.senders }, () => inNs(o.cli, o.udpgen, args, o.secs + 20)),
  );
  const cpu = since(s0, o.fwdPid);
  const rx = await sink;
  const sent = tx.reduce((a, r) => a + Number(/sent=(\d+)/.exec(String(r.stdout))?.[1] ?? 0), 0);
  const received = Number(/recv=(\d+)/.exec(String(rx.stdout))?.[1] ?? 0);
  return {
    sent,
    received,
    rxPps: received / o.secs,
    offeredPps: sent / o.secs,
    lossPct: sent ? (100 * Math.max(0, sent - received)) / sent : Number.NaN,
    fwdCpuPct: o.fwdPid ? cpu.proc : Number.NaN,
    machineCpuPct: cpu.machine,
  };
}

export interface TcpResult {
  gbps: number;
  retransmits: number;
  error: string;
  fwdCpuPct: number;
  machineCpuPct: number;
  /** Ping RTTs taken during the transfer. */
  loadedPing: PingResult;
}

/** An iperf3 server in `srv` for the duration of one engine's tests. */
export function iperfServer(srv: string, lifeSec: number): ResultPromise {
  return inNs(srv, 'iperf3', ['-s', '-p', '5201'], lifeSec);
}

/** iperf3 with `streams` parallel streams for `secs`, pinging every 10 ms meanwhile. */
export async function tcpTransfer(o: {
  cli: string;
  dst: string;
  secs: number;
  streams: number;
  fwdPid: number | undefined;
}): Promise<TcpResult> {
  const s0 = snap(o.fwdPid);
  const client = inNs(
    o.cli,
    'iperf3',
    ['-c', o.dst, '-p', '5201', '-t', String(o.secs), '-P', String(o.streams), '-J'],
    o.secs + 25,
  );
  // ping while the streams run at full speed (after their slow start, before their end)
  await sleep(1000);
  const loaded = inNs(
    o.cli,
    'ping',
    ['-n', '-c', String(Math.max(10, (o.secs - 2) * 100)), '-i', '0.01', '-W', '1', o.dst],
    o.secs + 15,
  );
  const r = await client;
  const cpu = since(s0, o.fwdPid);
  const loadedPing = parsePing(String((await loaded).stdout));
  let gbps = 0;
  let retransmits = 0;
  let error = '';
  try {
    const j = JSON.parse(String(r.stdout)) as {
      error?: string;
      end?: { sum_received?: { bits_per_second?: number }; sum_sent?: { retransmits?: number } };
    };
    gbps = (j.end?.sum_received?.bits_per_second ?? 0) / 1e9;
    retransmits = j.end?.sum_sent?.retransmits ?? 0;
    error = j.error ?? '';
  } catch {
    error = `iperf3 printed no JSON: ${String(r.stderr || r.stdout).slice(0, 200)}`;
  }
  if (!error && gbps === 0) error = 'iperf3 moved no data';
  return {
    gbps,
    retransmits,
    error,
    fwdCpuPct: o.fwdPid ? cpu.proc : Number.NaN,
    machineCpuPct: cpu.machine,
    loadedPing,
  };
}
