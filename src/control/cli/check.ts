/**
 * `ferry check -c FILE`: load and validate a config without touching the system.
 * Prints `FILE: ok (N ports, N tables, N rules, N chain rules)`, or every error as
 * `file:line:col: path: message` on stderr and exits 1.
 */
import type { Command } from 'commander';
import { ConfigError, formatIssue } from '../config/errors.js';
import { loadConfig } from '../config/loader.js';
import type { FerryConfig } from '../config/types.js';
import type { CliIO, CommandResult } from './io.js';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The fixed-format summary line (always "N ports, N tables, …", so scripts can parse it). */
export function summary(file: string, c: FerryConfig): string {
  const chainRules = c.chains.reduce((n, ch) => n + ch.rules.length, 0);
  return `${file}: ok (${c.ports.length} ports, ${c.declaredTables} tables, ${c.rules.length} rules, ${chainRules} chain rules)`;
}

export function registerCheck(program: Command, io: CliIO, result: CommandResult): void {
  program
    .command('check')
    .description('validate a config file and print a summary (nothing is started or changed)')
    .requiredOption('-c, --config <file>', 'the YAML config file')
    .action(async (opts: { config: string }) => {
      try {
        const config = await loadConfig(opts.config);
        io.out(`${summary(opts.config, config)}\n`);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        for (const issue of e.issues) io.err(`${formatIssue(issue)}\n`);
        const n = e.issues.length;
        io.err(`${opts.config}: ${plural(n, 'error')}\n`);
        result.code = 1;
      }
    });
}
