/**
 * `ferry conntrack --from FILE [--json] [--src A] [--dst A] [--sport N] [--dport N] [--proto P] [--state S]`
 *
 * Lists connection-tracking flows the way `conntrack -L` does: per flow the protocol, seconds
 * left, TCP state, original and reply tuples, [UNREPLIED]/[ASSURED], marks and the NAT rewrite;
 * `--json` prints the records instead. The flows come from a snapshot file: `ferry replay` writes
 * `OUTDIR/conntrack.json` (the flows left at the end of the replay) when the config tracks
 * connections. The filters apply to the original tuple, as conntrack's -s/-d/--sport/--dport do.
 * The formatter takes the same records a live engine gives (`snapshotConntrack`).
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
import type { CliIO, CommandResult } from './io.js';

interface ConntrackOpts {
  from: string;
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

export async function runConntrack(o: ConntrackOpts, io: CliIO): Promise<number> {
  const filter = parseFilter(o);
  const snap = parseSnapshot(await readFile(o.from, 'utf8'), o.from);
  printFlows(snap.flows, filter, o.json ?? false, io);
  return 0;
}

export function registerConntrack(program: Command, io: CliIO, result: CommandResult): void {
  program
    .command('conntrack')
    .description('list connection-tracking flows like `conntrack -L` (from a replay’s OUTDIR/conntrack.json)')
    .requiredOption('--from <file>', 'a snapshot written by `ferry replay` (OUTDIR/conntrack.json)')
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
