/**
 * `ferry run -c FILE [--control PATH|off] [--metrics HOST:PORT|off] [--log-level LEVEL] [--state-dir DIR]
 *  [--no-warm-up]`
 *
 * The live engine as a service. Logs JSON lines to stdout; once every port is open and the engine
 * runs it logs {"msg":"running","ports":[…]}. SIGHUP reloads the config ("reloaded" with a
 * summary, or "reload rejected, running config kept" with the error); SIGTERM / SIGINT stop it,
 * undoing every host-side change ("stopped"), exit status 0.
 *
 * A config, device or privilege problem at start: one line per problem on stderr
 * (`ferry run: …`, config errors as file:line:col: key: message), nothing left changed, exit 2.
 */
import type { Command } from 'commander';
import { ConfigError, formatIssue } from '../config/errors.js';
import { defaultStateDir } from '../dhcp-client/index.js';
import { createLogger, isLogLevel, LOG_LEVELS, type Logger } from '../log.js';
import { FerryDaemon } from '../run/daemon.js';
import { installSignals } from '../run/signals.js';
import type { CliIO, CommandResult } from './io.js';

export const DEFAULT_CONTROL = '/run/ferry/ferry.sock';
export const DEFAULT_METRICS = '127.0.0.1:9477';
/** Startup failures: bad config, missing interface, missing privilege, bad arguments. */
export const EXIT_STARTUP = 2;

interface RunOpts {
  config: string;
  control: string;
  metrics: string;
  logLevel: string;
  stateDir: string;
  /** False with --no-warm-up. */
  warmUp: boolean;
}

class UsageError extends Error {}

/** "HOST:PORT" ("[v6]:PORT" for IPv6), or null for "off". */
export function parseListen(text: string): { host: string; port: number } | null {
  if (text === 'off') return null;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65535)
    throw new UsageError(`--metrics ${text}: expected HOST:PORT (127.0.0.1:9477, [::1]:9477) or off`);
  return { host: m[1] ?? m[2]!, port };
}

/** Runs the daemon until a stop signal; returns the exit status. */
export async function runDaemon(o: RunOpts, io: CliIO): Promise<number> {
  if (!isLogLevel(o.logLevel)) {
    io.err(`ferry run: --log-level ${o.logLevel}: expected one of ${LOG_LEVELS.join(', ')}\n`);
    return EXIT_STARTUP;
  }
  let metrics: { host: string; port: number } | null;
  try {
    metrics = parseListen(o.metrics);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`ferry run: ${e.message}\n`);
    return EXIT_STARTUP;
  }
  const log = createLogger(o.logLevel);
  let daemon: FerryDaemon | null = null;
  let stopAsked: NodeJS.Signals | null = null;
  let release: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    release = resolve;
  });
  const removeSignals = installSignals({
    stop: (signal) => {
      stopAsked = signal;
      if (daemon) void daemon.stop(signal).then(release);
      else log.info({ signal }, 'stop asked during startup: stopping once started');
    },
    reload: () => {
      if (daemon)
        daemon.reload().catch((e: Error) => log.error({ err: e.stack ?? e.message }, 'reload failed'));
      else log.warn('SIGHUP during startup ignored (nothing to reload yet)');
    },
  });
  const onCrash = (err: Error) => crash(err, daemon, log);
  process.on('uncaughtException', onCrash);
  try {
    try {
      daemon = await FerryDaemon.start({
        configPath: o.config,
        log,
        stateDir: o.stateDir,
        control: o.control === 'off' ? null : o.control,
        metrics,
        warmUp: o.warmUp,
      });
    } catch (e) {
      reportStartupError(e, io, log);
      return EXIT_STARTUP;
    }
    if (stopAsked) await daemon.stop(stopAsked);
    else await stopped;
    return 0;
  } finally {
    removeSignals();
    process.off('uncaughtException', onCrash);
  }
}

/** One line per problem on stderr (and in the log). */
function reportStartupError(e: unknown, io: CliIO, log: Logger): void {
  const lines =
    e instanceof ConfigError ? e.issues.map(formatIssue) : [e instanceof Error ? e.message : String(e)];
  for (const l of lines) io.err(`ferry run: ${l}\n`);
  log.error({ errors: lines }, 'startup failed');
}

/** A bug in a packet handler: put the host back as it was, then exit 1. */
function crash(err: Error, daemon: FerryDaemon | null, log: Logger): void {
  log.fatal({ err: err.stack ?? err.message }, 'crashed');
  const done = () => process.exit(1);
  if (daemon) daemon.stop('crash').then(done, done);
  else done();
}

export function registerRun(program: Command, io: CliIO, result: CommandResult): void {
  program
    .command('run')
    .description('run the engine on live ports (SIGHUP reloads the config, SIGTERM/SIGINT stop)')
    .requiredOption('-c, --config <file>', 'the YAML config file')
    .option(
      '--control <path|off>',
      'control socket (env FERRY_CONTROL), or off',
      process.env.FERRY_CONTROL ?? DEFAULT_CONTROL,
    )
    .option('--metrics <host:port|off>', 'Prometheus endpoint, or off', DEFAULT_METRICS)
    .option('--log-level <level>', `${LOG_LEVELS.join(', ')}`, 'info')
    .option('--state-dir <dir>', 'DHCP leases (env FERRY_STATE_DIR)', defaultStateDir())
    .option(
      '--no-warm-up',
      'skip the JIT warm-up at start (synthetic traffic through a scratch router, at most 1.5 s)',
    )
    .action(async (opts: RunOpts) => {
      result.code = await runDaemon(opts, io);
    });
}
