/**
 * The replay section: each case (cases.ts) in a child process of its own (case-main.ts), one after
 * the other, after waiting (bounded) for other load on the machine to drop.
 */
import { join } from 'node:path';
import { execa } from 'execa';
import { waitQuiet } from '../../io/cpu.js';
import { trackProcess } from '../cleanup.js';
import type { ReplayCaseResult } from '../types.js';
import type { ReplayOptions } from './measure.js';

export interface ReplaySectionOptions extends ReplayOptions {
  root: string;
  cases: string[];
  quietWaitSec: number;
  progress: (line: string) => void;
}

export async function runReplay(
  o: ReplaySectionOptions,
): Promise<{ cases: ReplayCaseResult[]; errors: string[] }> {
  const cases: ReplayCaseResult[] = [];
  const errors: string[] = [];
  for (const id of o.cases) {
    await waitQuiet(15, o.quietWaitSec);
    const p = trackProcess(
      execa(
        process.execPath,
        [
          '--import',
          'tsx',
          join(o.root, 'bench/matrix/replay/case-main.ts'),
          '--case',
          id,
          '--runs',
          String(o.runs),
          '--packets',
          String(o.packetsPerRun),
          '--warmup',
          String(o.warmupPackets),
        ],
        { cwd: o.root, reject: false, timeout: 600_000 },
      ),
    );
    const r = await p;
    const last = String(r.stdout).trim().split('\n').pop() ?? '';
    try {
      if (r.exitCode !== 0) throw new Error(String(r.stderr).trim().split('\n').slice(-5).join(' | '));
      const c = JSON.parse(last) as ReplayCaseResult;
      cases.push(c);
      const gcs = c.gcs.runs.reduce((a, b) => a + b, 0);
      o.progress(
        `replay ${id}: ${c.mpps.median.toFixed(2)} Mpps (${c.mpps.min.toFixed(2)}–${c.mpps.max.toFixed(2)}), ` +
          `${c.nsPerPacket.median.toFixed(0)} ns/packet, ${gcs} GCs in ${c.gcs.n} timed runs`,
      );
    } catch (err) {
      const msg = `${id}: ${(err as Error).message}`;
      errors.push(msg);
      o.progress(`replay ${id}: FAILED ${msg.slice(0, 300)}`);
    }
  }
  return { cases, errors };
}
