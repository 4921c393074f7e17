/**
 * What one /metrics scrape reads of the running engine, taken once per scrape (several metrics
 * share the port counters and the conntrack walk) when the first metric asks for it.
 */
import type { OverlayPeerStatus, Runtime } from '../run/runtime.js';
import { type PortCounters, portCounters } from '../status/ports.js';
import { chainsStatus, conntrackSummary, dhcpClientsStatus, dhcpRelayStatus } from '../status/services.js';
import type { ChainsStatus, ConntrackSummary, DhcpClientStatus, DhcpRelayStatus } from '../status/types.js';

export interface ScrapeData {
  readonly ports: readonly { readonly name: string; readonly counters: PortCounters }[];
  readonly drops: Readonly<Record<string, number>>;
  readonly conntrack: ConntrackSummary | null;
  readonly relay: DhcpRelayStatus | null;
  readonly dhcpClients: readonly DhcpClientStatus[];
  readonly chains: ChainsStatus | null;
  readonly overlays: readonly OverlayPeerStatus[];
}

async function read(runtime: Runtime): Promise<ScrapeData> {
  // A failing `wg show` leaves the overlay series out of this scrape, not the whole scrape.
  let overlays: OverlayPeerStatus[] = [];
  try {
    overlays = await runtime.overlayPeers();
  } catch {
    overlays = [];
  }
  // Everything below is read in one go, after the only await: one moment of the engine.
  const { built, ports } = runtime.current();
  const engine = built.engine;
  const now = engine.ctx.now;
  return {
    ports: ports.map((p) => ({ name: p.name, counters: portCounters(p) })),
    drops: engine.drops(),
    conntrack: engine.conntrack ? conntrackSummary(engine.conntrack, Math.round(now * 1000)) : null,
    relay: dhcpRelayStatus(built.relay),
    dhcpClients: dhcpClientsStatus(built.dhcpClients, now),
    chains: chainsStatus(engine),
    overlays,
  };
}

export class Scrape {
  private pending: Promise<ScrapeData> | null = null;

  constructor(private readonly runtime: Runtime) {}

  /** A new scrape starts: the next `data()` reads the engine again. */
  begin(): void {
    this.pending = null;
  }

  data(): Promise<ScrapeData> {
    this.pending ??= read(this.runtime);
    return this.pending;
  }
}
