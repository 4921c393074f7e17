/**
 * wireguard-go, for kernels without the WireGuard module: run in the foreground
 * (WG_PROCESS_FOREGROUND=1) as a supervised child, its output forwarded to the log. It is ready
 * when its control socket (/var/run/wireguard/<if>.sock, which `wg` talks to) and the TUN exist
 * and the socket answers; it creates the TUN first, the socket last. Stopping it (SIGTERM) closes the TUN, which removes
 * the link.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type DaemonExit, type Host, requireTool } from './host.js';

export const WG_SOCKET_DIR = '/var/run/wireguard';
const POLL_MS = 50;
const TAIL_LINES = 8;

export interface OverlayLog {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
}

export interface WireguardGoLimits {
  /** How long it may take to create the TUN and the control socket. */
  readonly readyMs: number;
  /** How long it may take to exit after SIGTERM before it gets SIGKILL. */
  readonly termMs: number;
  /** How long to wait after SIGKILL before giving up on it. */
  readonly killMs: number;
}

export const WIREGUARD_GO_LIMITS: WireguardGoLimits = { readyMs: 5000, termMs: 3000, killMs: 2000 };

export interface WireguardGoProcess {
  readonly pid: number | undefined;
  running(): boolean;
  /** SIGTERM, then SIGKILL after a time limit; resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
}

/** Resolves to whether `p` settled within `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  const ac = new AbortController();
  const timer = sleep(ms, false, { signal: ac.signal }).catch(() => false);
  const r = await Promise.race([p.then(() => true), timer]);
  ac.abort();
  return r;
}

function describeExit(e: DaemonExit): string {
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.exitCode}`;
}

export async function startWireguardGo(
  host: Host,
  ifname: string,
  log: OverlayLog,
  limits: WireguardGoLimits = WIREGUARD_GO_LIMITS,
): Promise<WireguardGoProcess> {
  requireTool(host, 'wireguard-go', 'this kernel has no WireGuard module, so ferry runs the userspace one');
  const tail: string[] = [];
  let stopping = false;
  const daemon = host.start('wireguard-go', [ifname], { WG_PROCESS_FOREGROUND: '1' }, (stream, line) => {
    const text = line.trim();
    if (!text) return;
    tail.push(text);
    if (tail.length > TAIL_LINES) tail.shift();
    const fields = { interface: ifname, source: 'wireguard-go', stream };
    // wireguard-go prefixes its log lines with the level ("ERROR: (wg0) …", "DEBUG: (wg0) …")
    if (stream === 'stderr' || text.startsWith('ERROR')) log.warn(fields, text);
    else log.info(fields, text);
  });
  void daemon.exited.then((e) => {
    if (!stopping) {
      log.warn(
        { interface: ifname, pid: daemon.pid, exitCode: e.exitCode, signal: e.signal },
        `wireguard-go for ${ifname} exited (${describeExit(e)}): the overlay is down`,
      );
    }
  });

  const proc: WireguardGoProcess = {
    pid: daemon.pid,
    running: () => !daemon.hasExited(),
    stop: async () => {
      stopping = true;
      if (daemon.hasExited()) return;
      daemon.kill('SIGTERM');
      if (await within(daemon.exited, limits.termMs)) return;
      log.warn(
        { interface: ifname, pid: daemon.pid },
        `wireguard-go ignored SIGTERM for ${limits.termMs} ms; SIGKILL`,
      );
      daemon.kill('SIGKILL');
      if (!(await within(daemon.exited, limits.killMs))) {
        throw new Error(`wireguard-go for ${ifname} (pid ${daemon.pid}) is still running after SIGKILL`);
      }
    },
  };

  const socket = `${WG_SOCKET_DIR}/${ifname}.sock`;
  const deadline = Date.now() + limits.readyMs;
  for (;;) {
    if (daemon.hasExited()) {
      const e = await daemon.exited;
      const said = tail.length ? `: ${tail.join(' | ')}` : '';
      throw new Error(`wireguard-go for ${ifname} exited (${describeExit(e)}) before it was ready${said}`);
    }
    if (host.fileExists(socket)) {
      const link = await host.run('ip', ['link', 'show', 'dev', ifname]);
      // the socket may be a stale one of a killed wireguard-go: ready once it answers
      if (link.exitCode === 0 && (await host.run('wg', ['show', ifname, 'listen-port'])).exitCode === 0) {
        return proc;
      }
    }
    if (Date.now() >= deadline) {
      await proc.stop();
      throw new Error(
        `wireguard-go for ${ifname} was not ready within ${limits.readyMs} ms (no ${socket} or no link ${ifname})`,
      );
    }
    await sleep(POLL_MS);
  }
}
