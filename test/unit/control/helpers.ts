/** Shared pieces of the control-plane tests: temp dirs, a recording log, a raw socket client, polling. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIO } from '../../../src/control/cli/io.js';
import { runCli } from '../../../src/control/cli/program.js';

export class TempDirs {
  private readonly dirs: string[] = [];
  make(): string {
    const d = mkdtempSync(join(tmpdir(), 'ferry-ctl-'));
    this.dirs.push(d);
    return d;
  }
  cleanup(): void {
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

export interface LogLine {
  level: 'info' | 'warn';
  obj: object;
  msg?: string;
}

export function recordingLog(): {
  lines: LogLine[];
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
} {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (obj, msg) => void lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => void lines.push({ level: 'warn', obj, msg }),
  };
}

/** A CLI io that keeps what is printed. */
export function capture(): { io: CliIO; out(): string; err(): string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      out: (t) => {
        out.push(t);
      },
      err: (t) => {
        err.push(t);
      },
    },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

/** Runs the CLI in-process and returns what it printed. */
export async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = capture();
  const code = await runCli(argv, c.io);
  return { code, out: c.out(), err: c.err() };
}

/** Waits (bounded) until `cond` holds. */
export async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Writes `data` to the socket at `path` and collects answer lines until `lines` arrived or the
 * server closed the connection (bounded in time). `halfClose`: stop sending after `data`, as
 * `nc -U` does at the end of its input.
 */
export function rawExchange(
  path: string,
  data: string | Buffer,
  lines: number,
  opts: { halfClose?: boolean } = {},
): Promise<{ answers: unknown[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ path });
    let buf = '';
    const answers: unknown[] = [];
    let closed = false;
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ answers, closed });
    }, 5000);
    s.on('connect', () => {
      s.write(data);
      if (opts.halfClose) s.end();
    });
    s.on('data', (c) => {
      buf += c.toString();
      let i = buf.indexOf('\n');
      while (i >= 0) {
        answers.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
        i = buf.indexOf('\n');
      }
      if (answers.length >= lines) {
        clearTimeout(timer);
        s.destroy();
        resolve({ answers, closed });
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ answers, closed });
    });
  });
}
