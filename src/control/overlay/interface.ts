/**
 * One WireGuard interface, from plan to running link and back. Key files are checked before
 * anything is created; every step that changes the system pushes its undo, and a failure part
 * way runs them in reverse, so a failed start leaves nothing behind (a generated key stays: it is
 * the interface's identity, not runtime state).
 */
import { lstatSync } from 'node:fs';
import { parseWgDump, type WgDump } from './dump.js';
import { commandError, type Host, mustRun, requireTool } from './host.js';
import { checkKeyFile, generatePrivateKey, type KeyKind } from './keys.js';
import type { OverlayPlan } from './plan.js';
import { type OverlayLog, startWireguardGo, type WireguardGoProcess } from './wireguard-go.js';

export type OverlayDriver = 'kernel' | 'wireguard-go';

export interface OverlayInterface {
  readonly plan: OverlayPlan;
  readonly driver: OverlayDriver;
  /** The public key it came up with. */
  readonly publicKey: string | null;
  /** False once stopped, or when wireguard-go has died. */
  running(): boolean;
  dump(): Promise<WgDump>;
  /** Stops wireguard-go and deletes the link if it remains. Idempotent. */
  stop(): Promise<void>;
}

/** `ip link add … type wireguard` failing like this means the kernel has no WireGuard module. */
const NO_MODULE = /unknown device type|not supported/i;

function missing(file: string): boolean {
  try {
    lstatSync(file);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function checkKey(file: string, kind: KeyKind, ifname: string, log: OverlayLog): void {
  const { looseMode } = checkKeyFile(file, kind);
  if (looseMode) {
    log.warn(
      { interface: ifname, file, mode: looseMode },
      `${kind} file ${file} is accessible by group or others (mode ${looseMode}); chmod 600 it`,
    );
  }
}

async function prepareKeys(host: Host, plan: OverlayPlan, log: OverlayLog): Promise<void> {
  const ifname = plan.ifname;
  if (missing(plan.privateKeyFile)) {
    const publicKey = await generatePrivateKey(host, plan.privateKeyFile);
    log.info(
      { interface: ifname, file: plan.privateKeyFile, publicKey },
      `generated a WireGuard private key for ${ifname} in ${plan.privateKeyFile}; its public key is ${publicKey}`,
    );
  } else checkKey(plan.privateKeyFile, 'private key', ifname, log);
  for (const f of plan.presharedKeyFiles) checkKey(f, 'preshared key', ifname, log);
}

async function linkExists(host: Host, ifname: string): Promise<boolean> {
  return (await host.run('ip', ['link', 'show', 'dev', ifname])).exitCode === 0;
}

async function deleteLink(host: Host, ifname: string): Promise<void> {
  if (!(await linkExists(host, ifname))) return;
  await mustRun(host, `deleting ${ifname}`, 'ip', ['link', 'del', 'dev', ifname]);
}

/** Brings the interface up: keys, link (kernel module or wireguard-go), `wg set`, MTU, up. */
export async function bringUp(host: Host, plan: OverlayPlan, log: OverlayLog): Promise<OverlayInterface> {
  const ifname = plan.ifname;
  requireTool(host, 'ip', 'ferry creates and configures the WireGuard link with it');
  requireTool(host, 'wg', 'ferry configures WireGuard with it');
  await prepareKeys(host, plan, log);
  if (await linkExists(host, ifname)) {
    const where = host.netns ? ` in namespace ${host.netns}` : '';
    throw new Error(
      `interface ${ifname}${where} already exists: ferry creates its WireGuard interfaces itself ` +
        `(remove it with \`ip link del ${ifname}\`, or give the port another device name)`,
    );
  }

  const undo: (() => Promise<void>)[] = [];
  let driver: OverlayDriver = 'kernel';
  let proc: WireguardGoProcess | null = null;
  try {
    const add = ['link', 'add', 'dev', ifname, 'type', 'wireguard'];
    const r = await host.run('ip', add);
    if (r.exitCode === 0) undo.push(() => deleteLink(host, ifname));
    else if (NO_MODULE.test(r.stderr)) {
      driver = 'wireguard-go';
      const p = await startWireguardGo(host, ifname, log);
      proc = p;
      undo.push(async () => {
        await p.stop();
        await deleteLink(host, ifname);
      });
    } else throw commandError(`creating WireGuard interface ${ifname}`, 'ip', add, r);

    await mustRun(host, `configuring WireGuard on ${ifname}`, 'wg', plan.wgSet);
    await mustRun(host, `bringing ${ifname} up`, 'ip', plan.linkUp);
    const back = await mustRun(host, `reading ${ifname} back`, 'wg', ['show', ifname, 'dump']);
    const facts = parseWgDump(ifname, back.stdout).facts;
    log.info(
      {
        interface: ifname,
        port: plan.portName,
        driver,
        publicKey: facts.publicKey,
        listenPort: facts.listenPort,
        mtu: plan.mtu,
        peers: plan.peers,
        ...(proc?.pid !== undefined ? { pid: proc.pid } : {}),
      },
      `WireGuard ${ifname} up (${driver}), listening on UDP ${facts.listenPort}`,
    );
    return liveInterface(host, plan, driver, proc, facts.publicKey, undo);
  } catch (e) {
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch (u) {
        log.warn(
          { interface: ifname, error: (u as Error).message },
          `undoing ${ifname} after a failed start`,
        );
      }
    }
    throw e;
  }
}

function liveInterface(
  host: Host,
  plan: OverlayPlan,
  driver: OverlayDriver,
  proc: WireguardGoProcess | null,
  publicKey: string | null,
  undo: (() => Promise<void>)[],
): OverlayInterface {
  let stopped: Promise<void> | null = null;
  return {
    plan,
    driver,
    publicKey,
    running: () => stopped === null && (proc === null || proc.running()),
    dump: async () => {
      const r = await mustRun(host, `reading WireGuard ${plan.ifname}`, 'wg', ['show', plan.ifname, 'dump']);
      return parseWgDump(plan.ifname, r.stdout);
    },
    stop: () => {
      stopped ??= (async () => {
        for (const step of undo.reverse()) await step();
      })();
      return stopped;
    },
  };
}
