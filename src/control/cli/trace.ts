/**
 * `ferry trace FILE [--port NAME] [--dropped] [--id N]`: reads a trace file written by
 * `ferry replay --trace` and tells each packet's story: where it came in, what its headers say,
 * what every stage decided, and how it ended.
 *
 * `ferry trace --live [FILTER] [--count N] [--timeout S] [--json] [--control PATH]`: the same
 * stories from the running ferry, for the next N packets FILTER takes (a tcpdump-like subset:
 * `host A`, `src A`, `dst A`, `net P`, `port N`, `tcp`, `udp`, `icmp`, `arp`, `iif NAME`, joined
 * with `and`), as each finishes; `--json` prints trace-file lines instead. Ctrl-C stops it.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import {
  ControlExchangeError,
  controlFailure,
  controlStream,
  resolveControlPath,
} from '../control-socket/client.js';
import type { TraceEnd } from '../control-socket/protocol.js';
import { parseTraceFilter, TraceFilterError } from '../control-socket/trace-filter.js';
import type { TraceRecord } from '../trace/record.js';
import { formatStory } from '../trace/story.js';
import type { CliIO, CommandResult } from './io.js';
import { CONTROL_OPTION_HELP } from './status.js';

interface TraceOpts {
  port?: string;
  dropped?: boolean;
  id?: string;
}

export interface LiveTraceOpts {
  count?: string;
  timeout?: string;
  json?: boolean;
  control?: string;
}

class TraceUsageError extends Error {}

const DEFAULT_COUNT = 10;
/** The trace buffer's packet slots (TraceBuffer's default maxPackets). */
const MAX_COUNT = 1024;

function liveArgs(o: LiveTraceOpts): { count: number; timeout: number | null } {
  const count = o.count === undefined ? DEFAULT_COUNT : Number(o.count);
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT)
    throw new TraceUsageError(`--count ${o.count}: a whole number of packets, 1-${MAX_COUNT}`);
  if (o.timeout === undefined) return { count, timeout: null };
  const timeout = Number(o.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 86_400)
    throw new TraceUsageError(`--timeout ${o.timeout}: seconds, more than 0 and at most 86400`);
  return { count, timeout };
}

function endText(end: TraceEnd, timeout: number | null): string {
  const n = `${end.traced} packet${end.traced === 1 ? '' : 's'} traced`;
  switch (end.reason) {
    case 'count':
      return n;
    case 'timeout':
      return `${n}; stopped at the ${timeout} s timeout`;
    case 'reloaded':
      return `${n}; stopped: the config was reloaded (start the trace again)`;
    case 'cancelled':
      return `${n}; cancelled`;
  }
}

/**
 * Streams the stories of the next packets `filter` takes on the running ferry. `signal` stops it
 * early (Ctrl-C): the daemon disarms its trace when the connection closes.
 */
export async function runLiveTrace(
  filter: string,
  o: LiveTraceOpts,
  io: CliIO,
  signal?: AbortSignal,
): Promise<number> {
  let args: { count: number; timeout: number | null };
  try {
    args = liveArgs(o);
    parseTraceFilter(filter, null);
  } catch (e) {
    if (!(e instanceof TraceUsageError || e instanceof TraceFilterError)) throw e;
    io.err(`ferry trace: ${e.message}\n`);
    return 2;
  }
  const path = resolveControlPath(o.control);
  let shown = 0;
  const print = (r: TraceRecord): void => {
    shown++;
    io.out(o.json ? `${JSON.stringify(r)}\n` : `${formatStory(r)}\n\n`);
  };
  try {
    // The daemon ends the trace at the timeout; the client waits a little longer for its answer.
    const timeoutMs = args.timeout === null ? 0 : args.timeout * 1000 + 10_000;
    const end = await controlStream(path, 'trace', { filter, ...args }, print, { timeoutMs, signal });
    io.err(`ferry trace: ${endText(end, args.timeout)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ControlExchangeError && e.cancelled) {
      io.err(`ferry trace: stopped after ${shown} packet${shown === 1 ? '' : 's'}\n`);
      return 0;
    }
    const msg = controlFailure(e);
    if (msg === null) throw e;
    io.err(`ferry trace: ${msg}\n`);
    return 1;
  }
}

/** Ctrl-C while a live trace runs ends it cleanly instead of killing the process. */
async function withSigint(run: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const ac = new AbortController();
  const onSigint = (): void => ac.abort();
  process.once('SIGINT', onSigint);
  try {
    return await run(ac.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
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
    .description(
      'tell the story of each traced packet (from `ferry replay --trace FILE`, or live with --live)',
    )
    .argument('[file-or-filter...]', 'a trace file (JSON lines); with --live, the packet filter')
    .option('--port <name>', 'only packets that arrived on this port')
    .option('--dropped', 'only packets that were dropped')
    .option('--id <n>', 'only the packet with this trace id')
    .option('--live', 'trace packets on the running ferry as they pass')
    .option('--count <n>', `with --live: packets to trace (default ${DEFAULT_COUNT})`)
    .option('--timeout <seconds>', 'with --live: stop after this long')
    .option('--json', 'with --live: print trace-file lines (JSON) instead of stories')
    .option('--control <path>', CONTROL_OPTION_HELP)
    .action(async (words: string[], opts: TraceOpts & LiveTraceOpts & { live?: boolean }) => {
      if (opts.live) {
        if (opts.port !== undefined || opts.dropped || opts.id !== undefined) {
          io.err(
            'ferry trace: --port, --dropped and --id read a trace file; with --live say it in the filter (iif NAME, host A, …)\n',
          );
          result.code = 2;
          return;
        }
        result.code = await withSigint((signal) => runLiveTrace(words.join(' '), opts, io, signal));
        return;
      }
      const liveOnly = (['count', 'timeout', 'json', 'control'] as const).filter(
        (k) => opts[k] !== undefined,
      );
      if (liveOnly.length) {
        io.err(`ferry trace: ${liveOnly.map((k) => `--${k}`).join(', ')} need --live\n`);
        result.code = 2;
        return;
      }
      if (words.length !== 1) {
        io.err('ferry trace: give one trace file (from `ferry replay --trace FILE`), or --live [FILTER]\n');
        result.code = 2;
        return;
      }
      const file = words[0]!;
      try {
        result.code = await printTrace(file, opts, io);
      } catch (e) {
        if (!(e instanceof Error && 'code' in e && e.code === 'ENOENT')) throw e;
        io.err(`ferry trace: ${file}: no such file\n`);
        result.code = 2;
      }
    });
}
