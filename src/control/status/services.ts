/**
 * What the services attached to the engine counted: the rule chains' counters, the DHCP clients'
 * leases, the DHCP relay, connection tracking, and the overlays' WireGuard peers.
 */
import { BaseChainProgram } from '../../dataplane/classifier/chain-program.js';
import { HOOK_NAMES } from '../../dataplane/classifier/compile.js';
import { rulesetCounters } from '../../dataplane/classifier/counters.js';
import type { Ruleset } from '../../dataplane/classifier/ruleset.js';
import type { Conntrack } from '../../dataplane/conntrack/conntrack.js';
import { CT_SEEN_REPLY } from '../../dataplane/conntrack/flow-layout.js';
import { TCP_STATE_NAMES } from '../../dataplane/conntrack/tcp-states.js';
import { type DhcpRelay, messageTypeName } from '../../dataplane/dhcp-relay/index.js';
import type { RouterEngine } from '../../dataplane/engine/router-engine.js';
import type { HookName } from '../../dataplane/stages/hook.js';
import { formatIpv4 } from '../../dataplane/wire/bytes.js';
import type { DhcpClient } from '../dhcp-client/client.js';
import { INFINITE_LEASE } from '../dhcp-client/client.js';
import type { DhcpClients } from '../dhcp-client/index.js';
import type { OverlayPeerStatus } from '../run/runtime.js';
import type {
  ChainsStatus,
  ConntrackStateCount,
  ConntrackSummary,
  DhcpClientStatus,
  DhcpLeaseStatus,
  DhcpRelayStatus,
  OverlayPeerView,
} from './types.js';

/** The counters of the ruleset attached to the engine's hooks; null when no chain is attached. */
export function chainsStatus(engine: RouterEngine): ChainsStatus | null {
  let ruleset: Ruleset | null = null;
  const hooks = {} as Record<HookName, BaseChainProgram[]>;
  for (const h of HOOK_NAMES) {
    hooks[h] = [];
    for (const p of engine.hooks[h].programs) {
      if (!(p instanceof BaseChainProgram)) continue;
      hooks[h].push(p);
      ruleset ??= p.ruleset;
    }
  }
  return ruleset ? rulesetCounters({ ruleset, hooks }) : null;
}

function leaseStatus(c: DhcpClient, now: number): DhcpLeaseStatus | null {
  const l = c.lease;
  if (!l) return null;
  const infinite = l.leaseTime === INFINITE_LEASE;
  const t1At = l.obtainedAt + l.t1;
  const t2At = l.obtainedAt + l.t2;
  const expiresAt = infinite ? null : l.obtainedAt + l.leaseTime;
  return {
    address: formatIpv4(l.address),
    prefixLen: l.prefixLen,
    server: formatIpv4(l.serverId),
    routers: l.routers.map(formatIpv4),
    leaseTime: infinite ? null : l.leaseTime,
    obtainedAt: l.obtainedAt,
    t1At,
    t2At,
    expiresAt,
    t1In: t1At - now,
    t2In: t2At - now,
    expiresIn: expiresAt === null ? null : expiresAt - now,
  };
}

export function dhcpClientsStatus(clients: DhcpClients | null, now: number): DhcpClientStatus[] {
  if (!clients) return [];
  return clients.clients.map((c) => ({
    port: c.port,
    state: c.state,
    lease: leaseStatus(c, now),
    sent: { ...c.counters.sent },
    received: { ...c.counters.received },
  }));
}

export function dhcpRelayStatus(relay: DhcpRelay | null): DhcpRelayStatus | null {
  if (!relay) return null;
  const c = relay.counters;
  const messages: DhcpRelayStatus['messages'][number][] = [];
  for (let t = 0; t < 256; t++) {
    if (c.requestsByType[t])
      messages.push({ type: messageTypeName(t), direction: 'to-server', count: c.requestsByType[t]! });
    if (c.repliesByType[t])
      messages.push({ type: messageTypeName(t), direction: 'to-client', count: c.repliesByType[t]! });
  }
  return { counters: c.snapshot(), messages };
}

const PROTO_NAMES: Readonly<Record<number, string>> = { 1: 'icmp', 6: 'tcp', 17: 'udp' };

/**
 * Flows alive at `nowMs` by protocol and state, and the table's counters. One walk of the table
 * (O(capacity)), no record per flow: this also serves every /metrics scrape.
 */
export function conntrackSummary(ct: Conntrack, nowMs: number): ConntrackSummary {
  const t = ct.table;
  const counts = new Map<string, ConntrackStateCount>();
  let flows = 0;
  for (let f = t.nextFlow(-1); f !== -1; f = t.nextFlow(f)) {
    if (t.isExpired(f, nowMs)) continue;
    flows++;
    const p = t.proto(f);
    const proto = PROTO_NAMES[p] ?? String(p);
    const state =
      p === 6
        ? (TCP_STATE_NAMES[t.getState(f)] ?? String(t.getState(f)))
        : t.hasStatus(f, CT_SEEN_REPLY)
          ? 'REPLIED'
          : 'UNREPLIED';
    const key = `${proto} ${state}`;
    const c = counts.get(key);
    counts.set(key, { proto, state, flows: (c?.flows ?? 0) + 1 });
  }
  const byState = [...counts.values()].sort((a, b) =>
    a.proto === b.proto ? a.state.localeCompare(b.state) : a.proto.localeCompare(b.proto),
  );
  return {
    flows,
    capacity: t.capacity,
    byState,
    earlyDrops: t.stats.earlyDrops,
    insertFailed: t.stats.insertFailed,
    created: t.stats.inserts,
    expired: t.stats.expired,
    natBindings: ct.pool.count,
    natExhausted: ct.pool.exhausted,
  };
}

/** `wallNow`: seconds since the epoch (handshakes are wall-clock times). */
export function overlayView(peers: readonly OverlayPeerStatus[], wallNow: number): OverlayPeerView[] {
  return peers.map((p) => ({
    interface: p.interface,
    publicKey: p.publicKey,
    endpoint: p.endpoint,
    allowedIps: [...p.allowedIps],
    latestHandshake: p.latestHandshake,
    handshakeAge: p.latestHandshake > 0 ? Math.max(0, wallNow - p.latestHandshake) : null,
    rxBytes: p.rxBytes,
    txBytes: p.txBytes,
    persistentKeepalive: p.persistentKeepalive,
  }));
}
