/**
 * `ferry trace FILE [--port NAME] [--dropped] [--id N]`: reads a trace file written by
 * `ferry replay --trace` and tells each packet's story: where it came in, what its headers say,
 * what every stage decided, and how it ended.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { TraceRecord } from '../trace/record.js';
import { formatStory } from '../trace/story.js';
import type { CliIO, CommandResult } from './io.js';

interface TraceOpts {
  port?: string;
  dropped?: boolean;
  id?: string;
}

export async function printTrace(file: string, o: TraceOpts, io: CliIO): Promise<number> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (!line.trim()) continue;
    let r: TraceRecord;
    try {
      r = JSON.parse(line) as TraceRecord;
    } catch {
      io.err(`${file}:${lineNo}: not a trace record (expected one JSON object per line)\n`);
      return 1;
    }
    if (o.port && r.port !== o.port) continue;
    if (o.id && String(r.id) !== o.id) continue;
    if (o.dropped && !r.steps.some((s) => s.text.startsWith('drop: '))) continue;
    io.out(`${formatStory(r)}\n\n`);
    n++;
  }
  if (n === 0) io.err(`${file}: no packets matched\n`);
  return 0;
}

export function registerTrace(program: Command, io: CliIO, result: CommandResult): void {
  program
    .command('trace')
    .description('tell the story of each traced packet (from `ferry replay --trace FILE`)')
    .argument('<file>', 'a trace file (JSON lines)')
    .option('--port <name>', 'only packets that arrived on this port')
    .option('--dropped', 'only packets that were dropped')
    .option('--id <n>', 'only the packet with this trace id')
    .action(async (file: string, opts: TraceOpts) => {
      try {
        result.code = await printTrace(file, opts, io);
      } catch (e) {
        if (!(e instanceof Error && 'code' in e && e.code === 'ENOENT')) throw e;
        io.err(`ferry trace: ${file}: no such file\n`);
        result.code = 2;
      }
    });
}
