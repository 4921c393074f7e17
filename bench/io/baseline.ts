/**
 * The C reference of ../shared/baseline (README there): the AF_PACKET forwarder `afp_fwd` and the
 * UDP generator/sink `udpgen`, compiled with gcc -O2 into a directory of the caller's (the
 * baseline directory itself is read-only). Shared by `npm run bench:io` and `npm run bench`.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';

export interface BaselineTools {
  afpFwd: string;
  udpgen: string;
}

/** FERRY_BASELINE_DIR (relative to the repository root), default ../shared/baseline. */
export function baselineDir(root: string): string {
  return resolve(root, process.env.FERRY_BASELINE_DIR ?? '../shared/baseline');
}

export async function buildBaselineTools(root: string, outDir: string): Promise<BaselineTools> {
  const src = baselineDir(root);
  const tools = { afpFwd: join(outDir, 'afp_fwd'), udpgen: join(outDir, 'udpgen') };
  for (const [file, out] of [
    ['afp_fwd.c', tools.afpFwd],
    ['udpgen.c', tools.udpgen],
  ] as const) {
    if (!existsSync(join(src, file))) {
      throw new Error(`the benchmark needs ${join(src, file)} (the C reference); set FERRY_BASELINE_DIR`);
    }
    await execa('gcc', ['-O2', '-Wall', '-o', out, join(src, file)], { timeout: 60_000 });
  }
  return tools;
}
