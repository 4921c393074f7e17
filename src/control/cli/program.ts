/**
 * The `ferry` command line. Each subcommand lives in its own file (`check.ts`, `replay.ts`,
 * `trace.ts`, …) as a `registerX(program, io, result)` function and is registered here.
 */
import { Command, CommanderError } from 'commander';
import { registerCheck } from './check.js';
import { registerConntrack } from './conntrack.js';
import { type CliIO, type CommandResult, processIO } from './io.js';
import { registerReload } from './reload.js';
import { registerReplay } from './replay.js';
import { registerRun } from './run.js';
import { registerStatus } from './status.js';
import { registerTrace } from './trace.js';
import { ferryVersion } from './version.js';

export function createProgram(io: CliIO, result: CommandResult): Command {
  const program = new Command('ferry')
    .description('userspace packet forwarding: proxy-ARP, DHCP relay, NAT, policy routing, overlays')
    .version(ferryVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showHelpAfterError('(run ferry --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  registerCheck(program, io, result);
  registerReplay(program, io, result);
  registerTrace(program, io, result);
  registerConntrack(program, io, result);
  registerStatus(program, io, result);
  registerReload(program, io, result);
  registerRun(program, io, result);
  return program;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit status. */
export async function runCli(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  const result: CommandResult = { code: 0 };
  const program = createProgram(io, result);
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    throw e;
  }
  return result.code;
}
