/**
 * A `ferry run` subprocess inside a namespace, for the live tests: its JSON log lines (pino) and
 * stderr collected as they come, bounded waits for a log line, signals, RSS, and a bounded stop.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { execa, type ResultPromise } from 'execa';

export const REPO = resolve(import.meta.dirname, '../..');

export interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FerryRun {
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly proc: ResultPromise;

  /** Starts `ip netns exec NS node bin/ferry.js run ARGS…` (killed after `timeoutMs`). */
  constructor(ns: string, args: string[], timeoutMs = 90_000) {
    this.proc = execa('ip', ['netns', 'exec', ns, 'node', 'bin/ferry.js', 'run', ...args], {
      cwd: REPO,
      reject: false,
      timeout: timeoutMs,
    });
    createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      try {
        this.logs.push(JSON.parse(l) as LogLine);
      } catch {
        this.logs.push({ level: 'raw', msg: l });
      }
    });
    createInterface({ input: this.proc.stderr! }).on('line', (l) => this.stderr.push(l));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Waits (bounded) for a log line matching `pred`, after the first `from` lines. */
  async waitFor(pred: (l: LogLine) => boolean, ms: number, from = 0): Promise<LogLine> {
    for (const end = Date.now() + ms; Date.now() < end; ) {
      const hit = this.logs.slice(from).find(pred);
      if (hit) return hit;
      if (this.proc.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(
      `no such log line within ${ms} ms; stderr: ${this.stderr.join('\n')}\nlog:\n${this.logs.map((l) => JSON.stringify(l)).join('\n')}`,
    );
  }

  signal(s: NodeJS.Signals): void {
    process.kill(this.pid, s);
  }

  rssKiB(): Promise<number> {
    return readFile(`/proc/${this.pid}/status`, 'utf8').then((t) => Number(/VmRSS:\s+(\d+)/.exec(t)![1]));
  }

  /** Stops it (SIGTERM, SIGKILL after 10 s); resolves to its exit code (null when killed). */
  async stop(): Promise<number | null> {
    if (this.proc.exitCode !== null) return this.proc.exitCode;
    this.proc.kill('SIGTERM');
    const r = await Promise.race([this.proc, sleep(10_000).then(() => null)]);
    if (r === null) {
      this.proc.kill('SIGKILL');
      await Promise.race([this.proc, sleep(3000)]);
      return null;
    }
    return r.exitCode ?? null;
  }
}
