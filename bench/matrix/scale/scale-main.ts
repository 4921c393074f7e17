/**
 * Conntrack at scale in a process of its own, started with --expose-gc:
 *
 *   node --expose-gc --import tsx bench/matrix/scale/scale-main.ts --sizes 10000,100000,1000000 --runs 3
 *
 * Memory per flow is measured first for every size, before any other table exists; the JIT is
 * warmed on a 20k table; then each size runs `runs` times. Prints one JSON line (ScaleRow[]).
 */
import { parseArgs } from 'node:util';
import { gc, measureBytesPerFlow, measured, type Row, scaleRun } from '../../lib/conntrack-scale.js';
import { summarize } from '../stats.js';
import type { ScaleRow } from '../types.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000,1000000' },
    runs: { type: 'string', default: '3' },
  },
});
const sizes = String(values.sizes)
  .split(',')
  .map((s) => Number(s));
const runs = Number(values.runs);
if (sizes.some((n) => !Number.isInteger(n) || n < 1000) || !Number.isInteger(runs) || runs < 1) {
  throw new Error(
    `--sizes must list integers ≥ 1000 and --runs be ≥ 1 (got ${values.sizes}, ${values.runs})`,
  );
}
if (!(globalThis as { gc?: unknown }).gc) throw new Error('scale-main.ts needs node --expose-gc');

gc();
const memory = sizes.map(measureBytesPerFlow);
measured.length = 0;
gc();
scaleRun(20_000, 0);

const rows: ScaleRow[] = [];
sizes.forEach((n, i) => {
  const r: Row[] = [];
  for (let k = 0; k < runs; k++) {
    gc();
    r.push(scaleRun(n, memory[i]!));
    console.error(`scale: ${n} flows, run ${k + 1}/${runs}`);
  }
  const lookup = summarize(r.map((x) => x.lookupPerSec));
  const prev = rows[i - 1];
  rows.push({
    flows: n,
    bytesPerFlow: memory[i]!,
    arrayBytesPerFlow: r[0]!.computedPerFlow,
    lookupPerSec: lookup,
    missPerSec: summarize(r.map((x) => x.missPerSec)),
    insertPerSec: summarize(r.map((x) => x.insertPerSec)),
    mixedPerSec: summarize(r.map((x) => x.mixedPerSec)),
    churnPerSec: summarize(r.map((x) => x.churnPerSec)),
    lookupVsPrevious: prev ? lookup.median / prev.lookupPerSec.median : Number.NaN,
    bytesVsPrevious: prev ? memory[i]! / prev.bytesPerFlow : Number.NaN,
  });
});
console.log(JSON.stringify(rows));
