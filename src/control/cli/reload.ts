/**
 * `ferry reload [--control PATH]`: the running ferry re-reads its config file and swaps it in,
 * or keeps running the old one and says what is wrong with the new one (exit 1).
 */
import type { Command } from 'commander';
import { controlFailure, controlRequest, resolveControlPath } from '../control-socket/client.js';
import type { CliIO, CommandResult } from './io.js';
import { CONTROL_OPTION_HELP } from './status.js';

interface ReloadOpts {
  control?: string;
}

/** A reload re-reads the config and rebuilds the router: give it longer than a query. */
const RELOAD_TIMEOUT_MS = 60_000;

export async function runReload(o: ReloadOpts, io: CliIO): Promise<number> {
  const path = resolveControlPath(o.control);
  try {
    const r = await controlRequest(path, 'reload', {}, { timeoutMs: RELOAD_TIMEOUT_MS });
    if (r.ok) {
      io.out(`ferry reload: reloaded${r.summary ? `: ${r.summary}` : ''}\n`);
      return 0;
    }
    io.err(
      `ferry reload: the new config was not applied (ferry keeps running the old one):\n${r.error ?? 'no reason given'}\n`,
    );
    return 1;
  } catch (e) {
    const msg = controlFailure(e);
    if (msg === null) throw e;
    io.err(`ferry reload: ${msg}\n`);
    return 1;
  }
}

export function registerReload(program: Command, io: CliIO, result: CommandResult): void {
  program
    .command('reload')
    .description('make the running ferry re-read its config file (kept unchanged if the new one is invalid)')
    .option('--control <path>', CONTROL_OPTION_HELP)
    .action(async (opts: ReloadOpts) => {
      result.code = await runReload(opts, io);
    });
}
