/**
 * A Host that records every command and answers from a small model of one namespace: which
 * links exist, whether the kernel has the WireGuard module, which wireguard-go processes run.
 */
import type { CommandResult, Daemon, DaemonExit, Host } from '../../../src/control/overlay/host.js';

export interface Call {
  readonly cmd: string;
  readonly args: readonly string[];
  readonly input?: string;
  readonly env?: Readonly<Record<string, string>>;
}

export interface FakeDaemon extends Daemon {
  readonly signals: string[];
  exit(e: DaemonExit): void;
  line(stream: 'stdout' | 'stderr', text: string): void;
}

const ok = (stdout = ''): CommandResult => ({ exitCode: 0, stdout, stderr: '' });
const fail = (stderr: string, exitCode = 1): CommandResult => ({ exitCode, stdout: '', stderr });

export class FakeHost implements Host {
  readonly netns = 'fyfake';
  readonly calls: Call[] = [];
  readonly daemons: FakeDaemon[] = [];
  readonly links = new Set<string>();
  readonly sockets = new Set<string>();
  kernelModule = false;
  tools = new Set(['ip', 'wg', 'wireguard-go']);
  /** wireguard-go creates the link and socket when started (false: it dies at once). */
  daemonWorks = true;
  /** wireguard-go creates the link but never its socket. */
  daemonHangs = false;
  /** wireguard-go ignores SIGTERM (SIGKILL still ends it); 'all': it ignores SIGKILL too. */
  daemonStubborn: false | 'term' | 'all' = false;
  /** Commands that fail, by "cmd arg0": the stderr to print. */
  readonly failing = new Map<string, string>();
  /** `wg show` fails this many more times (a stale socket nobody listens on). */
  wgShowRefusals = 0;
  genkey = '';
  pubkey = '';
  dump = '';

  async run(cmd: string, args: readonly string[], input?: string): Promise<CommandResult> {
    this.calls.push(input === undefined ? { cmd, args } : { cmd, args, input });
    const f = this.failing.get(`${cmd} ${args[0]}`);
    if (f !== undefined) return fail(f);
    if (cmd === 'wg' && args[0] === 'genkey') return ok(this.genkey);
    if (cmd === 'wg' && args[0] === 'pubkey') return ok(this.pubkey);
    if (cmd === 'wg' && args[0] === 'show') {
      if (this.wgShowRefusals-- > 0) return fail(`Unable to access interface: Connection refused`);
      return ok(this.dump);
    }
    if (cmd === 'wg') return ok();
    const [what, verb, , dev] = args;
    if (cmd !== 'ip' || what !== 'link' || dev === undefined)
      throw new Error(`unexpected ${cmd} ${args.join(' ')}`);
    if (verb === 'show')
      return this.links.has(dev) ? ok(`1: ${dev}: <POINTOPOINT>`) : fail(`Device "${dev}" does not exist.`);
    if (verb === 'add') {
      if (!this.kernelModule) return fail('Error: Unknown device type.', 2);
      this.links.add(dev);
      return ok();
    }
    if (verb === 'del') return this.links.delete(dev) ? ok() : fail('Cannot find device');
    if (verb === 'set') return this.links.has(dev) ? ok() : fail(`Cannot find device "${dev}"`);
    throw new Error(`unexpected ip ${args.join(' ')}`);
  }

  start(
    cmd: string,
    args: readonly string[],
    env: Readonly<Record<string, string>>,
    onLine: (stream: 'stdout' | 'stderr', line: string) => void,
  ): Daemon {
    this.calls.push({ cmd, args, env });
    const dev = args[0]!;
    let done = false;
    let resolve: (e: DaemonExit) => void = () => {};
    const exited = new Promise<DaemonExit>((r) => {
      resolve = r;
    });
    const signals: string[] = [];
    const d: FakeDaemon = {
      pid: 4242 + this.daemons.length,
      exited,
      signals,
      hasExited: () => done,
      kill: (sig) => {
        signals.push(sig);
        if (this.daemonStubborn === 'all' || (this.daemonStubborn === 'term' && sig === 'SIGTERM')) return;
        d.exit({ exitCode: null, signal: sig });
      },
      exit: (e) => {
        if (done) return;
        done = true;
        // the TUN goes with the process
        this.links.delete(dev);
        resolve(e);
      },
      line: onLine,
    };
    this.daemons.push(d);
    if (this.daemonWorks) {
      this.links.add(dev);
      if (!this.daemonHangs) this.sockets.add(`/var/run/wireguard/${dev}.sock`);
    } else {
      queueMicrotask(() => {
        onLine(
          'stdout',
          `ERROR: (${dev}) 2024/01/01 00:00:00 Failed to create TUN device: operation not permitted`,
        );
        d.exit({ exitCode: 1, signal: null });
      });
    }
    return d;
  }

  hasTool(tool: string): boolean {
    return this.tools.has(tool);
  }

  fileExists(path: string): boolean {
    return this.sockets.has(path);
  }

  /** The calls as "cmd args…" lines (inputs left out). */
  lines(): string[] {
    return this.calls.map((c) => [c.cmd, ...c.args].join(' '));
  }
}

export interface LogEntry {
  readonly level: 'info' | 'warn';
  readonly fields: object;
  readonly msg: string;
}

export function memoryLog(): {
  entries: LogEntry[];
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
} {
  const entries: LogEntry[] = [];
  return {
    entries,
    info: (fields, msg = '') => entries.push({ level: 'info', fields, msg }),
    warn: (fields, msg = '') => entries.push({ level: 'warn', fields, msg }),
  };
}
