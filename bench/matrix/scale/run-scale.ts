/** The scale section: conntrack at each size in a child process with --expose-gc (scale-main.ts). */
import { join } from 'node:path';
import { execa } from 'execa';
import { waitQuiet } from '../../io/cpu.js';
import { trackProcess } from '../cleanup.js';
import type { ScaleRow } from '../types.js';

export interface ScaleOptions {
  root: string;
  sizes: number[];
  runs: number;
  quietWaitSec: number;
  progress: (line: string) => void;
}

export async function runScale(o: ScaleOptions): Promise<ScaleRow[]> {
  await waitQuiet(15, o.quietWaitSec);
  const p = trackProcess(
    execa(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        join(o.root, 'bench/matrix/scale/scale-main.ts'),
        '--sizes',
        o.sizes.join(','),
        '--runs',
        String(o.runs),
      ],
      { cwd: o.root, reject: false, timeout: 900_000 },
    ),
  );
  p.stderr?.on('data', (d: Buffer) => {
    for (const line of String(d).split('\n')) if (line.trim()) o.progress(line.trim());
  });
  const r = await p;
  if (r.exitCode !== 0)
    throw new Error(`scale: ${String(r.stderr).trim().split('\n').slice(-5).join(' | ')}`);
  return JSON.parse(String(r.stdout).trim().split('\n').pop() ?? '[]') as ScaleRow[];
}
