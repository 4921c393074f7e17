/**
 * `ferry status`: one snapshot of the running engine, read through the Runtime. The engine runs
 * on this thread, so everything read between two awaits is one consistent moment; the only await
 * (the overlays' `wg show`) comes first and the engine is read after it.
 */

import { ferryVersion } from '../cli/version.js';
import type { OverlayPeerStatus, Runtime } from '../run/runtime.js';
import { type PortCounters, portCounters, portLink, portMac, rateSample } from './ports.js';
import type { PortCounterSample, PortRates } from './rates.js';
import { ipRules, neighbourStatus, routeTables } from './routing.js';
import {
  chainsStatus,
  conntrackSummary,
  dhcpClientsStatus,
  dhcpRelayStatus,
  overlayView,
} from './services.js';
import type { PortStatus, StatusSnapshot } from './types.js';

let version: string | null = null;

function rateSamples(
  names: readonly string[],
  counters: readonly PortCounters[],
): Map<string, PortCounterSample> {
  return new Map(counters.map((c, i) => [names[i]!, rateSample(c)]));
}

/** Takes a rate sample of the running ports without answering anything (the control server's start). */
export function sampleRates(runtime: Runtime, rates: PortRates): void {
  const { ports } = runtime.current();
  rates.sample(
    rateSamples(
      ports.map((p) => p.name),
      ports.map(portCounters),
    ),
  );
}

export interface CollectOptions {
  /** Rates since the previous sample it holds (the control server keeps one); none: no rates. */
  rates?: PortRates;
  /** Wall clock, seconds since the epoch (tests pin it). */
  now?: () => number;
}

export async function collectStatus(runtime: Runtime, opts: CollectOptions = {}): Promise<StatusSnapshot> {
  // A failing `wg show` costs the overlay section, not the whole status.
  let peers: OverlayPeerStatus[] = [];
  let overlaysError: string | null = null;
  try {
    peers = await runtime.overlayPeers();
  } catch (e) {
    overlaysError = e instanceof Error ? e.message : String(e);
  }
  const wallNow = opts.now ? opts.now() : Date.now() / 1000;
  const { built, ports } = runtime.current();
  const engine = built.engine;
  const engineNow = engine.ctx.now;
  const names = ports.map((p) => p.name);
  const counters = ports.map(portCounters);
  const rates = opts.rates?.sample(rateSamples(names, counters));
  const portStatus: PortStatus[] = ports.map((p, i) => {
    const c = counters[i]!;
    return {
      index: i,
      name: p.name,
      kind: p.kind,
      l2: p.l2,
      mac: portMac(p),
      mtu: p.mtu,
      link: portLink(p),
      rx: { packets: c.rxPackets, bytes: c.rxBytes },
      tx: { packets: c.txPackets, bytes: c.txBytes },
      drops: c.drops,
      rate: rates?.get(p.name) ?? null,
    };
  });
  version ??= ferryVersion();
  const rib = built.routes.rib;
  return {
    ferry: {
      version,
      pid: process.pid,
      configPath: runtime.configPath,
      startedAt: runtime.startedAt,
      uptime: Math.max(0, wallNow - runtime.startedAt),
      now: wallNow,
      engineNow,
    },
    ports: portStatus,
    portErrors: [...runtime.portErrors()],
    neighbours: neighbourStatus(engine.ctx.neighbours, names, engineNow),
    routes: routeTables(rib, names),
    rules: ipRules(rib, names),
    chains: chainsStatus(engine),
    dhcpClients: dhcpClientsStatus(built.dhcpClients, engineNow),
    dhcpRelay: dhcpRelayStatus(built.relay),
    conntrack: engine.conntrack ? conntrackSummary(engine.conntrack, Math.round(engineNow * 1000)) : null,
    drops: engine.drops(),
    overlays: overlayView(peers, wallNow),
    overlaysError,
  };
}
