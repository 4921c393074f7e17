/**
 * A small timing harness for ns-scale hot-path benchmarks: each case runs `inner` iterations per
 * sample, several samples, and reports the median with min and max (this machine is shared and
 * noisy, so spreads matter). Garbage collections during the timed samples are counted through
 * `perf_hooks`: zero GCs over millions of iterations means the code allocated nothing per packet.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';

export interface CaseResult {
  name: string;
  nsPerOp: number;
  minNs: number;
  maxNs: number;
  opsPerSec: number;
  gcs: number;
}

let gcCount = 0;
const obs = new PerformanceObserver((list) => {
  gcCount += list.getEntries().length;
});
obs.observe({ entryTypes: ['gc'] });

/** Garbage collections seen since the process started (to count those during a timed part). */
export function gcsSoFar(): number {
  return gcCount;
}

/** Lets pending GC performance entries be delivered. */
export const settle = () => new Promise<void>((r) => setTimeout(r, 20));

export async function bench(
  name: string,
  fn: (iterations: number) => number,
  { inner = 1_000_000, samples = 7, warmup = 2 } = {},
): Promise<CaseResult> {
  let sink = 0;
  for (let i = 0; i < warmup; i++) sink += fn(inner);
  await settle();
  const before = gcCount;
  const times: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = performance.now();
    sink += fn(inner);
    times.push(((performance.now() - t0) * 1e6) / inner);
  }
  await settle();
  if (sink === Number.MIN_VALUE) console.log('');
  times.sort((a, b) => a - b);
  const med = times[Math.floor(times.length / 2)]!;
  return {
    name,
    nsPerOp: med,
    minNs: times[0]!,
    maxNs: times[times.length - 1]!,
    opsPerSec: 1e9 / med,
    gcs: gcCount - before,
  };
}

export function table(rows: CaseResult[]): string {
  const head = '| case | ns/op (median) | min–max | Mops/s | GCs during timing |\n|---|---:|---:|---:|---:|';
  const body = rows.map(
    (r) =>
      `| ${r.name} | ${r.nsPerOp.toFixed(1)} | ${r.minNs.toFixed(1)}–${r.maxNs.toFixed(1)} | ${(r.opsPerSec / 1e6).toFixed(2)} | ${r.gcs} |`,
  );
  return [head, ...body].join('\n');
}
