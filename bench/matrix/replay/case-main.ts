/**
 * One replay case in a process of its own (a clean heap and JIT per config, as one ferry process
 * runs one config):
 *
 *   node --import tsx bench/matrix/replay/case-main.ts --case ID --runs N --packets P --warmup W
 *
 * Prints the case's result as one JSON line on stdout.
 */
import '../../../src/dataplane/v8-tuning.js';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { replayCase } from './cases.js';
import { measureCase } from './measure.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const { values } = parseArgs({
  options: {
    case: { type: 'string' },
    runs: { type: 'string', default: '7' },
    packets: { type: 'string', default: '2000000' },
    warmup: { type: 'string', default: '1000000' },
  },
});
const positive = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not ${v}`);
  return n;
};
if (!values.case) throw new Error('usage: case-main.ts --case ID [--runs N] [--packets P] [--warmup W]');
const result = await measureCase(replayCase(values.case), ROOT, {
  runs: positive('runs', values.runs),
  packetsPerRun: positive('packets', values.packets),
  warmupPackets: positive('warmup', values.warmup),
});
console.log(JSON.stringify(result));
