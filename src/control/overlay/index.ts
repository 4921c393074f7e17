/**
 * ferry's WireGuard overlays (`overlay.wireguard[]`): each runs on a tun port's device, through
 * the kernel module when there is one (`ip link add … type wireguard`), else wireguard-go, and
 * is configured with `wg set`. Bring them up before the ports open (the daemon attaches to the
 * interfaces they create); stop them after the ports close.
 */
import type { FerryConfig } from '../config/types.js';
import type { OverlayPeerStatus } from '../run/runtime.js';
import type { OverlayInterfaceFacts } from './dump.js';
import { type Host, systemHost } from './host.js';
import { bringUp, type OverlayDriver, type OverlayInterface } from './interface.js';
import { planOverlay } from './plan.js';
import type { OverlayLog } from './wireguard-go.js';

export type { OverlayInterfaceFacts } from './dump.js';
export { parseWgDump } from './dump.js';
export { MissingToolError } from './host.js';
export type { OverlayDriver } from './interface.js';
export { KeyFileError } from './keys.js';
export type { OverlayLog } from './wireguard-go.js';

/** One interface, for `ferry status`. */
export interface OverlayInterfaceStatus extends OverlayInterfaceFacts {
  /** The tun port it runs on. */
  readonly port: string;
  readonly driver: OverlayDriver;
  /** False when wireguard-go has died (then listenPort is 0 and publicKey the one it started with). */
  readonly running: boolean;
  readonly peers: number;
}

export interface Overlays {
  /** Every peer of every running interface, as `wg show <if> dump` reports it. */
  peers(): Promise<OverlayPeerStatus[]>;
  interfaces(): Promise<OverlayInterfaceStatus[]>;
  /** Stops every interface (wireguard-go, then the link). Idempotent. */
  stop(): Promise<void>;
}

export interface StartOverlaysOptions {
  log: OverlayLog;
  /** Run every command inside this network namespace (`ip netns exec NS …`). */
  netns?: string;
}

export function startOverlays(cfg: FerryConfig, opts: StartOverlaysOptions): Promise<Overlays> {
  return startOverlaysOn(systemHost(opts.netns), cfg, opts.log);
}

/** startOverlays() on a given Host (tests give a fake one). */
export async function startOverlaysOn(host: Host, cfg: FerryConfig, log: OverlayLog): Promise<Overlays> {
  const up: OverlayInterface[] = [];
  try {
    for (let i = 0; i < cfg.overlay.wireguard.length; i++)
      up.push(await bringUp(host, planOverlay(cfg, i), log));
  } catch (e) {
    await stopAll(up, log);
    throw e;
  }
  let stopped: Promise<void> | null = null;
  return {
    peers: async () => (await Promise.all(up.map((o) => readIf(o, (d) => d.peers, [])))).flat(),
    interfaces: () =>
      Promise.all(
        up.map(async (o): Promise<OverlayInterfaceStatus> => {
          const common = { port: o.plan.portName, driver: o.driver };
          const dump = await readIf(o, (d) => d, null);
          if (dump) return { ...dump.facts, ...common, running: true, peers: dump.peers.length };
          const facts = { interface: o.plan.ifname, publicKey: o.publicKey, listenPort: 0, fwmark: 0 };
          return { ...facts, ...common, running: false, peers: 0 };
        }),
      ),
    stop: () => {
      stopped ??= stopAll(up, log);
      return stopped;
    },
  };
}

/** The interface's dump, mapped; `none` when it is not running (also when it died mid-read). */
async function readIf<T>(
  o: OverlayInterface,
  pick: (d: Awaited<ReturnType<OverlayInterface['dump']>>) => T,
  none: T,
): Promise<T> {
  if (!o.running()) return none;
  try {
    return pick(await o.dump());
  } catch (e) {
    if (!o.running()) return none;
    throw e;
  }
}

/** Stops in reverse order of start; every one is tried, the first failure is thrown at the end. */
async function stopAll(up: readonly OverlayInterface[], log: OverlayLog): Promise<void> {
  let first: unknown = null;
  for (const o of [...up].reverse()) {
    try {
      await o.stop();
      log.info({ interface: o.plan.ifname }, `WireGuard ${o.plan.ifname} stopped`);
    } catch (e) {
      log.warn(
        { interface: o.plan.ifname, error: (e as Error).message },
        `stopping WireGuard ${o.plan.ifname}`,
      );
      first ??= e;
    }
  }
  if (first) throw first;
}
