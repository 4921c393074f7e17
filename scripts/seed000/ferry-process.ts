/**
 * The real `ferry run` as a subprocess in the brouter namespace (what an operator runs on the
 * Pi), and the control-socket commands (`ferry status`, `ferry trace --live`) run against it.
 *
 *   ip netns exec BROUTER node bin/ferry.js run -c examples/brouter.yaml --control SOCK --metrics off --state-dir DIR
 *
 * ferry logs JSON lines (pino) on stdout and says `"msg":"running"` once it forwards; SIGTERM
 * stops it and it undoes its host changes (the TAP, its routes, the sysctls) before exiting.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { execa, type Options, type ResultPromise } from 'execa';
import type { Topology } from './topology.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const FERRY_BIN = join(REPO, 'bin/ferry.js');
export const BROUTER_CONFIG = join(REPO, 'examples/brouter.yaml');

/** One line of ferry's log (pino's JSON, levels by name: "info", "warn", …). */
export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export interface FerryProcess {
  /** The control socket (a path: reachable from any network namespace). */
  readonly control: string;
  readonly pid: number;
  /** Every log line so far, parsed; lines that are not JSON are kept as `{ level: 'text', msg }`. */
  readonly log: LogLine[];
  /** Runs `ferry ARGS --control SOCK` (a control-socket command), bounded. */
  cli(args: string[], opts?: Options): ResultPromise;
  /** SIGTERM, then waits (bounded) for a clean exit; SIGKILL and an error if it does not come. */
  stop(): Promise<{ exitCode: number | undefined; signal: string | undefined }>;
}

export interface StartFerryOptions {
  /** Called with each log line as it arrives. */
  onLog?: (line: LogLine) => void;
  /** How long to wait for "running" (ms). */
  readyMs?: number;
}

/** How long ferry may take to undo its changes and exit after SIGTERM. */
const STOP_MS = 10_000;

function parseLine(text: string): LogLine {
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && typeof (v as LogLine).msg === 'string') return v as LogLine;
  } catch {
    // not JSON: kept as text below
  }
  return { level: 'text', msg: text };
}

/** Runs `ferry ARGS` from the root namespace (control-socket commands need no namespace). */
export function ferryCli(args: string[], opts: Options = {}): ResultPromise {
  return execa(process.execPath, [FERRY_BIN, ...args], {
    cwd: REPO,
    timeout: 30_000,
    reject: false,
    ...opts,
  });
}

export async function startFerry(topo: Topology, o: StartFerryOptions = {}): Promise<FerryProcess> {
  const stateDir = join(topo.dir, 'ferry-state');
  await mkdir(stateDir, { recursive: true });
  const control = join(topo.dir, 'ferry.sock');
  const proc = topo.spawn(
    topo.ns.brouter,
    process.execPath,
    [
      FERRY_BIN,
      'run',
      '-c',
      BROUTER_CONFIG,
      '--control',
      control,
      '--metrics',
      'off',
      '--state-dir',
      stateDir,
    ],
    { cwd: REPO },
  );
  const pid = proc.pid;
  if (pid === undefined) throw new Error('ferry run did not start');
  const log: LogLine[] = [];
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let ready: (() => void) | null = null;
  const running = new Promise<void>((res) => {
    ready = res;
  });
  createInterface({ input: proc.stdout! }).on('line', (text) => {
    const line = parseLine(text);
    log.push(line);
    o.onLog?.(line);
    if (line.msg === 'running') ready?.();
  });

  const readyMs = o.readyMs ?? 20_000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    running.then(() => 'running' as const),
    proc.then(() => 'exited' as const),
    new Promise<'timeout'>((res) => {
      timer = setTimeout(() => res('timeout'), readyMs);
    }),
  ]);
  clearTimeout(timer);
  if (outcome !== 'running') {
    if (outcome === 'timeout') {
      proc.kill('SIGKILL');
      await Promise.race([proc, new Promise((r) => setTimeout(r, 2000))]);
    }
    const said = [...log.map((l) => l.msg), stderr.trim()].filter(Boolean).slice(-8).join('\n  ');
    const why = outcome === 'timeout' ? `did not say "running" within ${readyMs} ms` : 'exited';
    throw new Error(`ferry run ${why}:\n  ${said || '(no output)'}`);
  }

  let stopped: Promise<{ exitCode: number | undefined; signal: string | undefined }> | null = null;
  const stop = () => {
    stopped ??= (async () => {
      proc.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const r = await Promise.race([
        proc,
        new Promise<null>((res) => {
          timer = setTimeout(() => res(null), STOP_MS);
        }),
      ]);
      clearTimeout(timer);
      if (r === null) {
        proc.kill('SIGKILL');
        throw new Error(`ferry run did not exit within ${STOP_MS} ms of SIGTERM (killed)`);
      }
      return { exitCode: r.exitCode, signal: r.signal };
    })();
    return stopped;
  };
  const cli = (args: string[], opts: Options = {}) => ferryCli([...args, '--control', control], opts);
  return { control, pid, log, cli, stop };
}
