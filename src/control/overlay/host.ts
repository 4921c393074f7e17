/**
 * How the overlay module touches the system: commands run to completion (`ip`, `wg`), one
 * long-running daemon (`wireguard-go`), tool and file checks. Every command runs inside the
 * network namespace when one is given (`ip netns exec NS …`). Never through a shell.
 *
 * Error texts are built from stderr only: `wg show … dump` and `wg genkey` print keys on stdout,
 * and execa's own messages would quote it.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';

export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface DaemonExit {
  readonly exitCode: number | null;
  readonly signal: string | null;
}

/** A supervised child process. */
export interface Daemon {
  readonly pid: number | undefined;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<DaemonExit>;
  hasExited(): boolean;
  kill(signal: 'SIGTERM' | 'SIGKILL'): void;
}

export interface Host {
  /** The namespace commands run in, for messages; undefined = the caller's. */
  readonly netns: string | undefined;
  /** Runs a command to completion; resolves on any exit status. */
  run(cmd: string, args: readonly string[], input?: string): Promise<CommandResult>;
  /** Starts a long-running command; `onLine` receives each line it prints (stream named). */
  start(
    cmd: string,
    args: readonly string[],
    env: Readonly<Record<string, string>>,
    onLine: (stream: 'stdout' | 'stderr', line: string) => void,
  ): Daemon;
  /** Whether an executable of this name is on PATH (or in /usr/sbin, /sbin). */
  hasTool(tool: string): boolean;
  fileExists(path: string): boolean;
}

/** Each tool and the Debian package that provides it. */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  ip: 'iproute2',
  wg: 'wireguard-tools',
  'wireguard-go': 'wireguard-go',
};

export class MissingToolError extends Error {
  constructor(
    readonly tool: string,
    why: string,
  ) {
    const pkg = TOOL_PACKAGES[tool] ?? tool;
    super(`${tool} is not installed (${why}): install the Debian package ${pkg} (apt-get install ${pkg})`);
    this.name = 'MissingToolError';
  }
}

/** Throws MissingToolError unless `tool` is installed. */
export function requireTool(host: Host, tool: string, why: string): void {
  if (!host.hasTool(tool)) throw new MissingToolError(tool, why);
}

/** A one-line error for a failed command: the command (arguments are never secrets) and its stderr. */
export function commandError(what: string, cmd: string, args: readonly string[], r: CommandResult): Error {
  const err = r.stderr.trim().split('\n').filter(Boolean).join('; ');
  return new Error(`${what}: \`${[cmd, ...args].join(' ')}\` exited ${r.exitCode}${err ? `: ${err}` : ''}`);
}

/** Runs a command and throws commandError() unless it exits 0. */
export async function mustRun(
  host: Host,
  what: string,
  cmd: string,
  args: readonly string[],
  input?: string,
): Promise<CommandResult> {
  const r = await host.run(cmd, args, input);
  if (r.exitCode !== 0) throw commandError(what, cmd, args, r);
  return r;
}

const COMMAND_TIMEOUT_MS = 15_000;

function onPath(tool: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    if (!d) continue;
    try {
      accessSync(join(d, tool), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

function inNetns(netns: string | undefined, cmd: string, args: readonly string[]): [string, string[]] {
  return netns ? ['ip', ['netns', 'exec', netns, cmd, ...args]] : [cmd, [...args]];
}

/** The real system, through execa, optionally inside network namespace `netns`. */
export function systemHost(netns?: string): Host {
  return {
    netns,
    async run(cmd, args, input) {
      const [file, argv] = inNetns(netns, cmd, args);
      const r = await execa(file, argv, {
        reject: false,
        timeout: COMMAND_TIMEOUT_MS,
        stripFinalNewline: true,
        ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
      });
      if (r.failed && r.exitCode === undefined) {
        const why = r.timedOut ? `timed out after ${COMMAND_TIMEOUT_MS} ms` : (r.cause as Error)?.message;
        return { exitCode: -1, stdout: '', stderr: `${file}: ${why ?? 'could not run'}` };
      }
      return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
    },
    start(cmd, args, env, onLine) {
      const [file, argv] = inNetns(netns, cmd, args);
      const child = execa(file, argv, { env, stdin: 'ignore', buffer: false, reject: false });
      for (const stream of ['stdout', 'stderr'] as const) {
        const s = child[stream];
        if (s) createInterface({ input: s }).on('line', (line) => onLine(stream, line));
      }
      let done = false;
      const exited = child.then(
        (r): DaemonExit => {
          done = true;
          return { exitCode: r.exitCode ?? null, signal: r.signal ?? null };
        },
        (e: { exitCode?: number; signal?: string }): DaemonExit => {
          done = true;
          return { exitCode: e.exitCode ?? null, signal: e.signal ?? null };
        },
      );
      return {
        pid: child.pid,
        exited,
        hasExited: () => done,
        kill: (signal) => {
          if (!done) child.kill(signal);
        },
      };
    },
    hasTool: onPath,
    fileExists: existsSync,
  };
}
