/**
 * `ferry conntrack [--from FILE] [--json] [--src A] [--dst A] [--sport N] [--dport N] [--proto P] [--state S] [--control PATH]`
 *
 * Lists connection-tracking flows the way `conntrack -L` does: per flow the protocol, seconds
 * left, TCP state, original and reply tuples, [UNREPLIED]/[ASSURED], marks and the NAT rewrite;
 * `--json` prints the records instead. Without `--from` the flows come from the running ferry
 * (over its control socket); with it, from a snapshot file: `ferry replay` writes
 * `OUTDIR/conntrack.json` (the flows left at the end of the replay) when the config tracks
 * connections. The filters apply to the original tuple, as conntrack's -s/-d/--sport/--dport do.
 * Both sources give the same records (`snapshotConntrack`).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  type CtFilter,
  CtFilterError,
  type CtRecord,
  formatRecord,
  matches,
  parseFilter,
  parseSnapshot,
} from '../conntrack/records.js';
import { controlFailure, controlRequest, resolveControlPath } from '../control-socket/client.js';
import type { CliIO, CommandResult } from './io.js';
import { CONTROL_OPTION_HELP } from './status.js';

interface ConntrackOpts {
  from?: string;
  control?: string;
  json?: boolean;
  src?: string;
  dst?: string;
  sport?: string;
  dport?: string;
  proto?: string;
  state?: string;
}

/** Prints the records that pass `filter` (text or JSON); the summary line goes to stderr like conntrack's. */
export function printFlows(records: readonly CtRecord[], filter: CtFilter, json: boolean, io: CliIO): number {
  const shown = records.filter((r) => matches(r, filter));
  if (json) io.out(`${JSON.stringify(shown, null, 2)}\n`);
  else for (const r of shown) io.out(`${formatRecord(r)}\n`);
  io.err(`ferry conntrack: ${shown.length} flow entries shown (of ${records.length})\n`);
  return shown.length;
}

/** The running ferry's flows, listed like a snapshot file's; 1 when it cannot be asked. */
async function liveConntrack(o: ConntrackOpts, filter: CtFilter, io: CliIO): Promise<number> {
  try {
    const snap = await controlRequest(resolveControlPath(o.control), 'conntrack', {});
    printFlows(snap.flows, filter, o.json ?? false, io);
    return 0;
  } catch (e) {
    const msg = controlFailure(e);
    if (msg === null) throw e;
    io.err(`ferry conntrack: ${msg}\n`);
    return 1;
  }
}

export async function runConntrack(o: ConntrackOpts, io: CliIO): Promise<number> {
  const filter = parseFilter(o);
  if (o.from === undefined) return liveConntrack(o, filter, io);
  if (o.control !== undefined)
    throw new CtFilterError('--control asks the running ferry, --from reads a file: give one of them');
  const snap = parseSnapshot(await readFile(o.from, 'utf8'), o.from);
  printFlows(snap.flows, filter, o.json ?? false, io);
  return 0;
}

export function registerConntrack(program: Command, io: CliIO, result: CommandResult): void {
  program
    .command('conntrack')
    .description(
      'list connection-tracking flows like `conntrack -L` (of the running ferry, or a replay’s snapshot)',
    )
    .option(
      '--from <file>',
      'a snapshot written by `ferry replay` (OUTDIR/conntrack.json) instead of the running ferry',
    )
    .option('--control <path>', CONTROL_OPTION_HELP)
    .option('--json', 'print the flow records as JSON')
    .option('-s, --src <addr>', 'original source address')
    .option('-d, --dst <addr>', 'original destination address')
    .option('--sport <port>', 'original source port')
    .option('--dport <port>', 'original destination port')
    .option('-p, --proto <proto>', 'tcp, udp, icmp or a protocol number')
    .option('--state <state>', 'TCP state (ESTABLISHED, SYN_SENT, TIME_WAIT, …)')
    .action(async (opts: ConntrackOpts) => {
      try {
        result.code = await runConntrack(opts, io);
      } catch (e) {
        if (e instanceof CtFilterError) {
          io.err(`ferry conntrack: ${e.message}\n`);
          result.code = 2;
          return;
        }
        if (!(e instanceof Error && 'code' in e && e.code === 'ENOENT')) throw e;
        io.err(`ferry conntrack: ${opts.from}: no such file\n`);
        result.code = 2;
      }
    });
}
