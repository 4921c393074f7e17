/**
 * `ferry status [--json] [--control PATH]`: what the running ferry is doing — ports with their
 * counters and rates, neighbours, routes and rules, rule counters, DHCP leases and relay counters,
 * conntrack, drops by reason, overlay peers — read over the control socket.
 */
import type { Command } from 'commander';
import {
  controlFailure,
  controlRequest,
  DEFAULT_CONTROL_PATH,
  resolveControlPath,
} from '../control-socket/client.js';
import { formatStatus } from '../status/format.js';
import type { CliIO, CommandResult } from './io.js';

interface StatusOpts {
  json?: boolean;
  control?: string;
}

export const CONTROL_OPTION_HELP = `the running ferry's control socket (default: $FERRY_CONTROL, else ${DEFAULT_CONTROL_PATH})`;

export async function runStatus(o: StatusOpts, io: CliIO): Promise<number> {
  const path = resolveControlPath(o.control);
  try {
    const s = await controlRequest(path, 'status', {});
    io.out(o.json ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s));
    return 0;
  } catch (e) {
    const msg = controlFailure(e);
    if (msg === null) throw e;
    io.err(`ferry status: ${msg}\n`);
    return 1;
  }
}

export function registerStatus(program: Command, io: CliIO, result: CommandResult): void {
  program
    .command('status')
    .description(
      'show the running ferry: ports, neighbours, routes, counters, leases, flows, drops, overlays',
    )
    .option('--json', 'print the snapshot as JSON')
    .option('--control <path>', CONTROL_OPTION_HELP)
    .action(async (opts: StatusOpts) => {
      result.code = await runStatus(opts, io);
    });
}
