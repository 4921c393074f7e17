/**
 * ferry's Prometheus metrics. Each is filled by its `collect()` at scrape time from what the
 * engine already counts (ScrapeData): the packet path does no work for metrics. Counters are
 * re-set to the engine's totals on every scrape (reset, then inc by the total); after a reload the
 * new engine's counters start again from zero, which Prometheus reads as a counter reset.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { PORT_DROP_REASONS } from '../status/ports.js';
import type { Scrape } from './scrape.js';

type Labels = Record<string, string | number>;

interface Spec {
  readonly name: string;
  readonly help: string;
  readonly labels: readonly string[];
  readonly type: 'counter' | 'gauge';
  /** The series of this metric now: label values and value. */
  readonly values: (scrape: Scrape) => Promise<readonly (readonly [Labels, number])[]>;
}

const portValue =
  (pick: (c: { rxPackets: number; rxBytes: number; txPackets: number; txBytes: number }) => number) =>
  async (s: Scrape) =>
    (await s.data()).ports.map((p) => [{ port: p.name }, pick(p.counters)] as const);

const SPECS: readonly Spec[] = [
  {
    name: 'ferry_port_rx_packets_total',
    help: 'Packets received on the port.',
    labels: ['port'],
    type: 'counter',
    values: portValue((c) => c.rxPackets),
  },
  {
    name: 'ferry_port_rx_bytes_total',
    help: 'Bytes received on the port (frames as received).',
    labels: ['port'],
    type: 'counter',
    values: portValue((c) => c.rxBytes),
  },
  {
    name: 'ferry_port_tx_packets_total',
    help: 'Packets sent on the port.',
    labels: ['port'],
    type: 'counter',
    values: portValue((c) => c.txPackets),
  },
  {
    name: 'ferry_port_tx_bytes_total',
    help: 'Bytes sent on the port.',
    labels: ['port'],
    type: 'counter',
    values: portValue((c) => c.txBytes),
  },
  {
    name: 'ferry_port_drops_total',
    help: `Frames the port lost: ${Object.values(PORT_DROP_REASONS).join(', ')}.`,
    labels: ['port', 'reason'],
    type: 'counter',
    values: async (s) =>
      (await s.data()).ports.flatMap((p) =>
        Object.entries(p.counters.drops).map(([reason, v]) => [{ port: p.name, reason }, v] as const),
      ),
  },
  {
    name: 'ferry_drops_total',
    help: 'Packets the pipeline dropped, by reason.',
    labels: ['reason'],
    type: 'counter',
    values: async (s) =>
      Object.entries((await s.data()).drops).map(([reason, v]) => [{ reason }, v] as const),
  },
  {
    name: 'ferry_conntrack_flows',
    help: 'Tracked flows by protocol and state (TCP: netfilter state; others: UNREPLIED or REPLIED).',
    labels: ['proto', 'state'],
    type: 'gauge',
    values: async (s) =>
      ((await s.data()).conntrack?.byState ?? []).map(
        (b) => [{ proto: b.proto, state: b.state }, b.flows] as const,
      ),
  },
  {
    name: 'ferry_conntrack_capacity',
    help: 'Flows the connection-tracking table holds at most.',
    labels: [],
    type: 'gauge',
    values: async (s) => {
      const ct = (await s.data()).conntrack;
      return ct ? [[{}, ct.capacity] as const] : [];
    },
  },
  {
    name: 'ferry_conntrack_early_drops_total',
    help: 'Unassured flows evicted to make room for new ones (netfilter early_drop).',
    labels: [],
    type: 'counter',
    values: async (s) => {
      const ct = (await s.data()).conntrack;
      return ct ? [[{}, ct.earlyDrops] as const] : [];
    },
  },
  {
    name: 'ferry_nat_bindings',
    help: 'NAT port mappings held.',
    labels: [],
    type: 'gauge',
    values: async (s) => {
      const ct = (await s.data()).conntrack;
      return ct ? [[{}, ct.natBindings] as const] : [];
    },
  },
  {
    name: 'ferry_dhcp_relay_messages_total',
    help: 'DHCP messages relayed, by type; direction to_server (requests) or to_client (replies).',
    labels: ['type', 'direction'],
    type: 'counter',
    values: async (s) =>
      ((await s.data()).relay?.messages ?? []).map(
        (m) =>
          [
            { type: m.type, direction: m.direction === 'to-server' ? 'to_server' : 'to_client' },
            m.count,
          ] as const,
      ),
  },
  {
    name: 'ferry_dhcp_lease_expiry_seconds',
    help: 'Seconds until the DHCP lease of the port expires (+Inf: infinite lease).',
    labels: ['port'],
    type: 'gauge',
    values: async (s) =>
      (await s.data()).dhcpClients.flatMap((c) =>
        c.lease ? [[{ port: c.port }, c.lease.expiresIn ?? Number.POSITIVE_INFINITY] as const] : [],
      ),
  },
  {
    name: 'ferry_overlay_peer_last_handshake_seconds',
    help: 'Time of the latest WireGuard handshake with the peer, seconds since the epoch (0: never).',
    labels: ['interface', 'peer'],
    type: 'gauge',
    values: async (s) =>
      (await s.data()).overlays.map(
        (p) => [{ interface: p.interface, peer: p.publicKey }, p.latestHandshake] as const,
      ),
  },
  {
    name: 'ferry_overlay_peer_rx_bytes',
    help: 'Bytes received from the WireGuard peer.',
    labels: ['interface', 'peer'],
    type: 'counter',
    values: async (s) =>
      (await s.data()).overlays.map(
        (p) => [{ interface: p.interface, peer: p.publicKey }, p.rxBytes] as const,
      ),
  },
  {
    name: 'ferry_overlay_peer_tx_bytes',
    help: 'Bytes sent to the WireGuard peer.',
    labels: ['interface', 'peer'],
    type: 'counter',
    values: async (s) =>
      (await s.data()).overlays.map(
        (p) => [{ interface: p.interface, peer: p.publicKey }, p.txBytes] as const,
      ),
  },
  {
    name: 'ferry_rule_matches_total',
    help: 'Packets counted by the `counter` statement of a chain rule (rule: 1-based position in its chain).',
    labels: ['chain', 'rule'],
    type: 'counter',
    values: async (s) =>
      ((await s.data()).chains?.rules ?? []).map(
        (r) => [{ chain: r.chain, rule: String(r.rule) }, r.packets] as const,
      ),
  },
];

/** Registers every ferry metric in `registry`, each reading the scrape's data when collected. */
export function registerFerryMetrics(registry: Registry, scrape: Scrape): void {
  for (const spec of SPECS) {
    const base = { name: spec.name, help: spec.help, labelNames: [...spec.labels], registers: [registry] };
    if (spec.type === 'counter') {
      new Counter({
        ...base,
        async collect() {
          const values = await spec.values(scrape);
          this.reset();
          for (const [labels, v] of values) this.inc(labels as Labels, v);
        },
      });
    } else {
      new Gauge({
        ...base,
        async collect() {
          const values = await spec.values(scrape);
          this.reset();
          for (const [labels, v] of values) this.set(labels as Labels, v);
        },
      });
    }
  }
}
