/** Where ferry stands against the project's performance targets, from a matrix result. */
import { ratioOf, type Stat } from '../stats.js';
import type { LiveEngineResult, MatrixResult, Target } from '../types.js';
import { num, times } from './format.js';

const has = (s: Stat | undefined): s is Stat => !!s && s.n > 0 && Number.isFinite(s.median);

export function evaluateTargets(r: Pick<MatrixResult, 'live' | 'replay'>): Target[] {
  const eng = (id: string): LiveEngineResult | undefined => r.live.engines.find((e) => e.id === id);
  const ferry = eng('ferry');
  const vnet = eng('ferry-vnet');
  const kernel = eng('kernel');
  const kernelOn = eng('kernel-offon');
  const out: Target[] = [];
  const liveMissing = r.live.skipped ? `not measured: ${r.live.skipped}` : 'not measured';

  const pps = ratioOf(ferry?.udp?.rxPps, kernel?.udp?.rxPps);
  out.push({
    what: 'live 64-byte UDP through masquerade, packets/s',
    goal: '≥ 0.9 × kernel',
    value: Number.isFinite(pps)
      ? `${times(pps)} (ferry ${num(ferry!.udp!.rxPps.median / 1e3, 0)} kpps, kernel ${num(kernel!.udp!.rxPps.median / 1e3, 0)} kpps)`
      : liveMissing,
    met: Number.isFinite(pps) ? pps >= 0.9 : null,
  });

  const tcpVnet = ratioOf(vnet?.tcp?.gbps, kernelOn?.tcp?.gbps);
  const tcpOff = ratioOf(ferry?.tcp?.gbps, kernelOn?.tcp?.gbps);
  const best = Math.max(Number.isFinite(tcpVnet) ? tcpVnet : -1, Number.isFinite(tcpOff) ? tcpOff : -1);
  const vnetText = Number.isFinite(tcpVnet)
    ? `ferry vnet ${times(tcpVnet)} (${num(vnet!.tcp!.gbps.median, 2)} Gbit/s)`
    : `ferry vnet: ${vnet?.errors[0] ?? 'not measured'}`;
  const offText = Number.isFinite(tcpOff)
    ? `ferry offloads off ${times(tcpOff)} (${num(ferry!.tcp!.gbps.median, 2)} Gbit/s)`
    : '';
  out.push({
    what: 'live TCP, Gbit/s',
    goal: '≥ 0.5 × kernel with offloads on',
    value: has(kernelOn?.tcp?.gbps)
      ? `${[vnetText, offText].filter(Boolean).join('; ')}; kernel ${num(kernelOn!.tcp!.gbps.median, 2)} Gbit/s`
      : liveMissing,
    met: best >= 0 ? best >= 0.5 : null,
  });

  const udp64 = r.replay.cases.find((c) => c.id === 'seed000-udp64');
  const gcs = udp64 ? udp64.gcs.runs.reduce((a, b) => a + b, 0) : 0;
  out.push({
    what: 'replay, seed 000, 64-byte established flows',
    goal: '≥ 3 Mpps with 0 allocations',
    value:
      udp64 && has(udp64.mpps)
        ? `${num(udp64.mpps.median, 2)} Mpps, ${gcs} GCs over ${udp64.gcs.n} timed runs, heap growth ${num(udp64.heapBytesPerPacket.median, 3)} B/packet`
        : r.replay.skipped
          ? `not measured: ${r.replay.skipped}`
          : 'not measured',
    met: udp64 && has(udp64.mpps) ? udp64.mpps.median >= 3 && gcs === 0 : null,
  });

  const rtt = ratioOf(ferry?.pingIdle.p50Ms, kernel?.pingIdle.p50Ms);
  out.push({
    what: 'live ping RTT at light load (p50)',
    goal: '≤ 1.5 × kernel',
    value: Number.isFinite(rtt)
      ? `${times(rtt)} (ferry ${num(ferry!.pingIdle.p50Ms.median, 3)} ms, kernel ${num(kernel!.pingIdle.p50Ms.median, 3)} ms)`
      : liveMissing,
    met: Number.isFinite(rtt) ? rtt <= 1.5 : null,
  });

  const loaded = (e: LiveEngineResult | undefined) =>
    e?.pingLoaded && has(e.pingLoaded.p99Ms) ? `${e.id} ${num(e.pingLoaded.p99Ms.median, 3)} ms` : '';
  const p99 = [ferry, kernel, eng('c')].map(loaded).filter(Boolean);
  out.push({
    what: 'live ping p99 under TCP load',
    goal: 'reported',
    value: p99.length ? p99.join(', ') : liveMissing,
    met: null,
  });
  return out;
}
