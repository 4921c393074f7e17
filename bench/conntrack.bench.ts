/**
 * Flow-table benchmark: memory per flow, established-flow lookups, new-flow inserts, a mixed
 * packet stream, and expiry, at 10k / 100k / 1M flows.
 *
 *   npx --no -- tsx bench/conntrack.bench.ts
 *
 * NODE_OPTIONS=--expose-gc gives steadier figures; BENCH_REPEATS=n sets the runs per size
 * (default 3, best of them reported).
 *
 * The measurements live in bench/lib/conntrack-scale.ts (shared with `npm run bench`).
 */
import { best, gc, measureBytesPerFlow, measured, type Row, SIZES, scaleRun } from './lib/conntrack-scale.js';

const fmt = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(0)} k`);

// Memory first, before any other table exists; then warm the JIT on a small table.
gc();
const memory = SIZES.map(measureBytesPerFlow);
measured.length = 0;
scaleRun(20_000, 0);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);

console.log(`node ${process.version}, ${process.arch}; best of ${REPEATS} runs per size`);
const header = [
  'flows',
  'B/flow (meas.)',
  'B/flow (arrays)',
  'insert/s',
  'lookup hit/s',
  'lookup miss/s',
  'mixed pkt/s',
  'churn new/s',
  'expire ns/flow',
  'idle expire ns/call',
  'probe avg/max',
];
const rows = SIZES.map((n, i) => {
  const runs: Row[] = [];
  for (let k = 0; k < REPEATS; k++) {
    gc();
    runs.push(scaleRun(n, memory[i]!));
  }
  const r = best(runs);
  return [
    n.toLocaleString('en-US'),
    r.bytesPerFlow.toFixed(1),
    r.computedPerFlow.toFixed(1),
    fmt(r.insertPerSec),
    fmt(r.lookupPerSec),
    fmt(r.missPerSec),
    fmt(r.mixedPerSec),
    fmt(r.churnPerSec),
    r.expireNsPerFlow.toFixed(0),
    r.idleExpireNs.toFixed(0),
    `${r.avgProbe.toFixed(2)}/${r.maxProbe}`,
  ];
});
const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
const line = (cells: string[]): string => `| ${cells.map((s, c) => s.padStart(widths[c]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
