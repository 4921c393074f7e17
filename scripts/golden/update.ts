/**
 * Regenerates fixtures/replay/<case>/expected/ from the current code. Review the diff (the
 * trace.txt stories say what changed in words) before committing it.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { goldenCases, runCase } from './cases.js';

for (const c of goldenCases()) {
  const out = join(c.dir, 'expected');
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const r = await runCase(c, out);
  console.log(`${c.name}: exit ${r.code}; ${r.stdout.trim()}${r.stderr ? `\n${r.stderr}` : ''}`);
}
