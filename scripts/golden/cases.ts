/**
 * The golden replay cases: each `fixtures/replay/<case>/case.json` names a config, input captures
 * and pinned MACs; `expected/` holds what ferry produced when the case was last reviewed (every
 * port's output capture, summary.json and the trace told as a story).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runReplay } from '../../src/control/cli/replay.js';
import { printTrace } from '../../src/control/cli/trace.js';

export const REPLAY_DIR = 'fixtures/replay';

export interface GoldenCase {
  name: string;
  dir: string;
  config: string;
  inputs: string[];
  macs: string[];
}

export function goldenCases(): GoldenCase[] {
  return readdirSync(REPLAY_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => {
      const dir = join(REPLAY_DIR, d.name);
      const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as Omit<GoldenCase, 'name' | 'dir'>;
      return {
        name: d.name,
        dir,
        config: c.config,
        inputs: c.inputs.map((i) => {
          const eq = i.indexOf('=');
          return `${i.slice(0, eq)}=${join(dir, i.slice(eq + 1))}`;
        }),
        macs: c.macs,
      };
    });
}

/** Replays a case into `out`: <port>.pcap, summary.json, trace.txt. Returns what the CLI printed. */
export async function runCase(
  c: GoldenCase,
  out: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io = { out: (t: string) => stdout.push(t), err: (t: string) => stderr.push(t) };
  const traceJson = join(out, 'trace.jsonl');
  const code = await runReplay(
    c.inputs,
    { config: c.config, out, mac: c.macs, trace: traceJson, progress: false },
    io,
  );
  const story: string[] = [];
  await printTrace(traceJson, {}, { out: (t) => story.push(t), err: (t) => stderr.push(t) });
  await rm(traceJson);
  await writeFile(join(out, 'trace.txt'), story.join(''));
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}

export async function readOut(dir: string, file: string): Promise<Buffer> {
  return readFile(join(dir, file));
}
