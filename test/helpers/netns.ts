/**
 * Network-namespace fixtures for tests that need real interfaces: unique-named namespaces and
 * veth pairs, commands run inside them with execa, everything removed in `cleanup()` (call it in
 * a finally / afterAll). Names are "fy" + random, at most 15 bytes, so parallel runs never clash.
 *
 *   const reason = needsRoot('ip', 'ethtool');
 *   describe.skipIf(reason)('...', () => { ... const sb = new NetnsSandbox(); try { ... } finally { await sb.cleanup(); } });
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa, type Options, type ResultPromise } from 'execa';

const printed = new Set<string>();

function onPath(tool: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    try {
      accessSync(join(d, tool), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/**
 * Why a privileged namespace test cannot run here (not root, or a tool missing), or undefined
 * when it can. The reason is printed once, so a skipped test always says why.
 */
export function needsRoot(...tools: string[]): string | undefined {
  let reason: string | undefined;
  if (process.getuid?.() !== 0) reason = 'needs root (network namespaces, AF_PACKET, TUN)';
  else {
    const missing = ['ip', ...tools].filter((t) => !onPath(t));
    if (missing.length) reason = `missing tools: ${missing.join(', ')} (run scripts/install-system-deps.sh)`;
  }
  if (reason && !printed.has(reason)) {
    printed.add(reason);
    console.warn(`[skip] namespace tests: ${reason}`);
  }
  return reason;
}

/** "fy" + 6 random base-36 characters (+ a suffix), at most 15 bytes (IFNAMSIZ - 1). */
export function uniqueName(suffix = ''): string {
  const r = BigInt(`0x${randomBytes(5).toString('hex')}`)
    .toString(36)
    .padStart(6, '0')
    .slice(-6);
  const name = `fy${r}${suffix}`;
  if (name.length > 15) throw new Error(`name ${name} is longer than 15 bytes`);
  return name;
}

/** Runs a command inside a namespace (`ip netns exec`), bounded by a timeout. */
export function nsExec(ns: string, cmd: string, args: string[], opts: Options = {}): ResultPromise {
  return execa('ip', ['netns', 'exec', ns, cmd, ...args], { timeout: 30_000, ...opts });
}

export interface VethOptions {
  /** Set both ends up (default true). */
  up?: boolean;
  mtu?: number;
  /** `ethtool -K <end> tx off tso off gso off gro off` on both ends (what a sender must do for
   * an AF_PACKET reader without PACKET_VNET_HDR to get complete frames). */
  offloadsOff?: boolean;
}

/** A set of namespaces and the background processes started in them; cleanup() removes all. */
export class NetnsSandbox {
  readonly namespaces: string[] = [];
  readonly #procs: ResultPromise[] = [];

  /** A new namespace with lo up and IPv6 off (no router solicitations / DAD noise in captures). */
  async ns(): Promise<string> {
    const name = uniqueName();
    await execa('ip', ['netns', 'add', name], { timeout: 10_000 });
    this.namespaces.push(name);
    await execa('ip', ['-n', name, 'link', 'set', 'lo', 'up'], { timeout: 10_000 });
    await nsExec(name, 'sysctl', [
      '-qw',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
    ]);
    return name;
  }

  /** A veth pair: `a` in namespace `nsA`, `b` in `nsB`. */
  async veth(nsA: string, a: string, nsB: string, b: string, o: VethOptions = {}): Promise<void> {
    await execa('ip', ['-n', nsA, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', nsB], {
      timeout: 10_000,
    });
    for (const [ns, dev] of [
      [nsA, a],
      [nsB, b],
    ] as const) {
      if (o.mtu) await execa('ip', ['-n', ns, 'link', 'set', dev, 'mtu', String(o.mtu)], { timeout: 10_000 });
      if (o.offloadsOff)
        await nsExec(ns, 'ethtool', ['-K', dev, 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off']);
      if (o.up ?? true) await execa('ip', ['-n', ns, 'link', 'set', dev, 'up'], { timeout: 10_000 });
    }
  }

  /** MAC address of `dev` in `ns`. */
  async mac(ns: string, dev: string): Promise<string> {
    const r = await nsExec(ns, 'cat', [`/sys/class/net/${dev}/address`]);
    return String(r.stdout).trim();
  }

  /** Runs a command in `ns` (awaited by the caller). */
  exec(ns: string, cmd: string, args: string[], opts: Options = {}): ResultPromise {
    return nsExec(ns, cmd, args, opts);
  }

  /** Starts a long-running command in `ns`; it is killed by cleanup() if still running. */
  spawn(ns: string, cmd: string, args: string[], opts: Options = {}): ResultPromise {
    const p = nsExec(ns, cmd, args, { timeout: 120_000, reject: false, ...opts });
    this.#procs.push(p);
    return p;
  }

  /** Kills what spawn() started, deletes every namespace (and the veths/TUNs inside them). */
  async cleanup(): Promise<void> {
    for (const p of this.#procs) {
      if (p.exitCode === null && !p.killed) p.kill('SIGTERM');
    }
    await Promise.allSettled(
      this.#procs.map((p) =>
        Promise.race([p, new Promise((r) => setTimeout(r, 3000))]).then(() => {
          if (p.exitCode === null) p.kill('SIGKILL');
        }),
      ),
    );
    this.#procs.length = 0;
    for (const ns of this.namespaces.splice(0)) {
      await execa('ip', ['netns', 'del', ns], { timeout: 10_000, reject: false });
    }
  }
}
