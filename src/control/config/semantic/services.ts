/** conntrack defaults, the DHCP relay, WireGuard overlays, failover and L2TP: references and clashes. */
import { formatPath } from '../errors.js';
import { formatAddress, formatPrefix, sameAddress, samePrefix } from '../net.js';
import type { RawConntrack, RawDhcpRelay, RawFailover, RawL2tp, RawOverlay } from '../schema/services.js';
import type {
  Address,
  ChainConfig,
  ConntrackConfig,
  ConntrackTimeouts,
  DhcpRelayConfig,
  FailoverConfig,
  L2tpBroker,
  L2tpConfig,
  L2tpSession,
  L2tpTunnel,
  PortRange,
  WanConfig,
  WireguardConfig,
  WireguardPeer,
} from '../types.js';
import { type Checker, isL2, lookup, type Path, type PortIndex, portRef } from './context.js';
import { claimPriority, type RuleSlot, type TableIndex, tableRefId } from './routing.js';

const S = 1000;

/**
 * Default timeouts, in ms: Linux's nf_conntrack values where they meet the NAT RFCs, raised to
 * the RFC floors where they do not (Linux's own sit below several of them):
 * - TCP established 5 days (≥ 2 h 4 min, RFC 5382 REQ-5);
 * - every transitory TCP state 4 min (RFC 5382 REQ-5; RFC 7857 §2.2 keeps 4 min after a RST too);
 * - UDP 2 min before a reply (RFC 4787 REQ-5: a mapping MUST NOT expire in less than 2 min) and
 *   5 min once both directions were seen (REQ-5's recommended 5 min);
 * - ICMP query 60 s (RFC 5508 REQ-2).
 */
export const DEFAULT_TIMEOUTS: ConntrackTimeouts = {
  tcpSynSent: 240 * S,
  tcpSynRecv: 240 * S,
  tcpEstablished: 432_000 * S,
  tcpFinWait: 240 * S,
  tcpCloseWait: 240 * S,
  tcpLastAck: 240 * S,
  tcpTimeWait: 240 * S,
  tcpClose: 240 * S,
  udp: 120 * S,
  udpStream: 300 * S,
  icmp: 60 * S,
  generic: 600 * S,
};

/** Flows the table holds (issue: at least 262,144; about 243 bytes each, ~64 MB). */
export const DEFAULT_CONNTRACK_CAPACITY = 262_144;

export function resolveConntrack(raw: RawConntrack | undefined): ConntrackConfig {
  const t = raw?.timeouts;
  const d = DEFAULT_TIMEOUTS;
  return {
    capacity: raw?.capacity ?? DEFAULT_CONNTRACK_CAPACITY,
    liberal: raw?.liberal ?? false,
    unsolicitedSyn: raw?.['unsolicited-syn'] ?? 'icmp',
    timeouts: {
      tcpSynSent: t?.['tcp-syn-sent'] ?? d.tcpSynSent,
      tcpSynRecv: t?.['tcp-syn-recv'] ?? d.tcpSynRecv,
      tcpEstablished: t?.['tcp-established'] ?? d.tcpEstablished,
      tcpFinWait: t?.['tcp-fin-wait'] ?? d.tcpFinWait,
      tcpCloseWait: t?.['tcp-close-wait'] ?? d.tcpCloseWait,
      tcpLastAck: t?.['tcp-last-ack'] ?? d.tcpLastAck,
      tcpTimeWait: t?.['tcp-time-wait'] ?? d.tcpTimeWait,
      tcpClose: t?.['tcp-close'] ?? d.tcpClose,
      udp: t?.udp ?? d.udp,
      udpStream: t?.['udp-stream'] ?? d.udpStream,
      icmp: t?.icmp ?? d.icmp,
      generic: t?.generic ?? d.generic,
    },
  };
}

/** isc-dhcp-relay's default maximum hop count (-c). */
export const DEFAULT_RELAY_HOPS = 10;

export function resolveDhcpRelay(
  raw: RawDhcpRelay | undefined,
  pi: PortIndex,
  ck: Checker,
): DhcpRelayConfig | null {
  if (!raw) return null;
  const base: Path = ['dhcp-relay'];
  const listen: number[] = [];
  raw.listen.forEach((n, i) => {
    const at: Path = [...base, 'listen', i];
    const p = portRef(ck, pi, n, at);
    if (p < 0) return;
    const port = pi.ports[p]!;
    if (listen.includes(p)) ck.error(at, `port "${n}" is listed twice`);
    else if (!isL2(port))
      ck.error(at, `DHCP clients broadcast on Ethernet; port "${n}" is a ${port.kind} port`);
    else if (!port.addresses.some((a) => a.family === 4)) {
      ck.error(at, `port "${n}" has no IPv4 address to use as the relay address (giaddr)`);
    } else listen.push(p);
  });
  const servers: number[] = [];
  raw.servers.forEach((s, i) => {
    const a = s.addr as number;
    const at: Path = [...base, 'servers', i];
    const first = a >>> 24;
    if (a === 0 || a === 0xffffffff || first >= 224 || first === 127) {
      ck.error(at, `${formatAddress(s)} is not a unicast address a DHCP server can have`);
    } else if (servers.includes(a)) ck.error(at, `server ${formatAddress(s)} is listed twice`);
    else servers.push(a);
  });
  const o = raw.option82;
  let option82: DhcpRelayConfig['option82'] = null;
  if (o === true) option82 = { circuitId: null, remoteId: null, policy: 'replace' };
  else if (o && typeof o === 'object') {
    option82 = {
      circuitId: o['circuit-id'] ?? null,
      remoteId: o['remote-id'] ?? null,
      policy: o.policy ?? 'replace',
    };
  }
  return { listen, servers, hopLimit: raw['hop-limit'] ?? DEFAULT_RELAY_HOPS, option82 };
}

export function resolveOverlay(
  raw: RawOverlay | undefined,
  pi: PortIndex,
  ck: Checker,
): { wireguard: WireguardConfig[] } {
  const out: WireguardConfig[] = [];
  const usedPorts = new Map<number, Path>();
  const listenPorts = new Map<number, Path>();
  (raw?.wireguard ?? []).forEach((w, i) => {
    const base: Path = ['overlay', 'wireguard', i];
    const p = portRef(ck, pi, w.port, [...base, 'port']);
    if (p >= 0) {
      const port = pi.ports[p]!;
      if (port.kind !== 'tun')
        ck.error(
          [...base, 'port'],
          `WireGuard carries IP packets: port "${w.port}" must be kind tun, not ${port.kind}`,
        );
      else if (port.attach) {
        ck.error(
          [...base, 'port'],
          `port "${w.port}" is attached (owned by another daemon); ferry cannot run WireGuard on it`,
        );
      }
      const prev = usedPorts.get(p);
      if (prev) ck.error([...base, 'port'], `port "${w.port}" already carries ${formatPath(prev)}`);
      usedPorts.set(p, base);
    }
    const lp = w['listen-port'] ?? 0;
    if (lp !== 0) {
      const prev = listenPorts.get(lp);
      if (prev)
        ck.error([...base, 'listen-port'], `listen-port ${lp} is already used by ${formatPath(prev)}`);
      listenPorts.set(lp, base);
    }
    const peers: WireguardPeer[] = [];
    const keys = new Map<string, number>();
    const allowed: { p: (typeof peers)[number]['allowedIps'][number]; at: Path }[] = [];
    w.peers.forEach((peer, j) => {
      const pb: Path = [...base, 'peers', j];
      const key = Buffer.from(peer['public-key']).toString('base64');
      const prev = keys.get(key);
      if (prev !== undefined) ck.error([...pb, 'public-key'], `this key is already used by peers[${prev}]`);
      keys.set(key, j);
      peer['allowed-ips'].forEach((a, k) => {
        const at: Path = [...pb, 'allowed-ips', k];
        const dup = allowed.find((x) => samePrefix(x.p, a));
        if (dup) ck.error(at, `${formatPrefix(a)} is already allowed for ${formatPath(dup.at)}`);
        else allowed.push({ p: a, at });
      });
      peers.push({
        publicKey: peer['public-key'],
        presharedKeyFile: peer['preshared-key-file'] ?? null,
        endpoint: peer.endpoint ?? null,
        allowedIps: peer['allowed-ips'],
        keepalive: peer['persistent-keepalive'] ?? 0,
      });
    });
    out.push({
      port: p,
      privateKeyFile: w['private-key-file'],
      listenPort: lp,
      fwmark: w.fwmark ?? 0,
      peers,
    });
  });
  return { wireguard: out };
}

export function resolveFailover(
  raw: RawFailover | undefined,
  pi: PortIndex,
  ti: TableIndex,
  chains: { chains: readonly ChainConfig[]; byName: ReadonlyMap<string, number> },
  taken: RuleSlot[],
  ck: Checker,
): FailoverConfig | null {
  if (!raw) return null;
  const wans: WanConfig[] = [];
  const names = new Map<string, number>();
  const marks = new Map<number, number>();
  raw.wans.forEach((w, i) => {
    const base: Path = ['failover', 'wans', i];
    if (names.has(w.name))
      ck.error(
        [...base, 'name'],
        `WAN "${w.name}" is already defined at failover.wans[${names.get(w.name)}]`,
      );
    names.set(w.name, i);
    const port = portRef(ck, pi, w.port, [...base, 'port']);
    const table = tableRefId(ck, ti, w.table, [...base, 'table']);
    const ctMark = w['ct-mark'] ?? null;
    if (ctMark !== null) {
      const prev = marks.get(ctMark);
      if (prev !== undefined)
        ck.error([...base, 'ct-mark'], `ct-mark ${ctMark} is already used by failover.wans[${prev}]`);
      marks.set(ctMark, i);
    }
    const c = w.check;
    const interval = c.interval ?? 5000;
    const timeout = c.timeout ?? 1000;
    if (timeout > interval) {
      ck.error(
        [...base, 'check', c.timeout !== undefined ? 'timeout' : 'interval'],
        `timeout (${timeout} ms) is longer than interval (${interval} ms)`,
      );
    }
    wans.push({
      name: w.name,
      port,
      table,
      ctMark,
      check: {
        target: c.target,
        interval,
        timeout,
        failAfter: c['fail-after'] ?? 3,
        recoverAfter: c['recover-after'] ?? 3,
      },
    });
  });
  let steerRule: FailoverConfig['steerRule'] = null;
  let steerChain = -1;
  const steer = raw.steer;
  if (steer?.rule) {
    const at: Path = ['failover', 'steer', 'rule'];
    claimPriority(ck, taken, { priority: steer.rule.priority, family: 0, path: at }, [...at, 'priority']);
    steerRule = { priority: steer.rule.priority, fwmark: steer.rule.fwmark };
  }
  if (steer?.chain !== undefined) {
    const at: Path = ['failover', 'steer', 'chain'];
    const idx = lookup(ck, chains.byName, steer.chain, 'chain', at);
    if (idx === undefined) {
      // reported by lookup
    } else if (chains.chains[idx]!.hook !== null) {
      ck.error(
        at,
        `chain "${steer.chain}" is a base chain; failover rewrites a user chain that a base chain jumps to`,
      );
    } else {
      steerChain = idx;
      raw.wans.forEach((w, i) => {
        if (w['ct-mark'] === undefined)
          ck.error(
            ['failover', 'wans', i],
            "steer.chain sets the active WAN's ct-mark: this WAN needs ct-mark",
          );
      });
    }
  }
  return { wans, steerRule, steerChain };
}

/** Addresses of non-host ports: what ferry itself answers for. */
function ownAddresses(pi: PortIndex): Address[] {
  const out: Address[] = [];
  for (const p of pi.ports) if (p.kind !== 'host') for (const a of p.addresses) out.push(a);
  return out;
}

function checkLocal(ck: Checker, pi: PortIndex, a: Address, at: Path): void {
  if (!ownAddresses(pi).some((o) => sameAddress(o, a))) {
    ck.error(at, `${formatAddress(a)} is not an address of any port`);
  }
}

function checkBridge(ck: Checker, pi: PortIndex, name: string, at: Path): number {
  const p = portRef(ck, pi, name, at);
  if (p < 0) return p;
  const port = pi.ports[p]!;
  if (!isL2(port))
    ck.error(at, `L2TPv3 sessions carry Ethernet frames: port "${name}" is a ${port.kind} port`);
  return p;
}

function overlaps(a: PortRange, b: number): boolean {
  return b >= a.min && b <= a.max;
}

export function resolveL2tp(raw: RawL2tp | undefined, pi: PortIndex, ck: Checker): L2tpConfig | null {
  if (!raw) return null;
  const tunnels: L2tpTunnel[] = [];
  const tunnelNames = new Map<string, number>();
  const tunnelIds = new Map<number, Path>();
  const sessionNames = new Map<string, Path>();
  const sessionIds = new Map<number, Path>();
  (raw.tunnels ?? []).forEach((t, i) => {
    const base: Path = ['l2tp', 'tunnels', i];
    if (tunnelNames.has(t.name))
      ck.error(
        [...base, 'name'],
        `tunnel "${t.name}" is already defined at l2tp.tunnels[${tunnelNames.get(t.name)}]`,
      );
    tunnelNames.set(t.name, i);
    if (t.peer.family !== t.local.family) {
      ck.error([...base, 'peer'], `peer is IPv${t.peer.family} but local is IPv${t.local.family}`);
    }
    checkLocal(ck, pi, t.local, [...base, 'local']);
    const encap = t.encap ?? 'ip';
    if (encap === 'udp' && !t.udp) ck.error(base, 'encap udp needs udp: { local-port, peer-port }');
    if (encap === 'ip' && t.udp) ck.error([...base, 'udp'], 'udp ports apply to encap udp only', 'key');
    const prevT = tunnelIds.get(t['tunnel-id']);
    if (prevT)
      ck.error([...base, 'tunnel-id'], `tunnel-id ${t['tunnel-id']} is already used by ${formatPath(prevT)}`);
    tunnelIds.set(t['tunnel-id'], base);
    const sessions: L2tpSession[] = [];
    t.sessions.forEach((s, j) => {
      const sb: Path = [...base, 'sessions', j];
      const prevN = sessionNames.get(s.name);
      if (prevN) ck.error([...sb, 'name'], `session "${s.name}" is already defined at ${formatPath(prevN)}`);
      else if (pi.byName.has(s.name)) ck.error([...sb, 'name'], `"${s.name}" is already a port name`);
      sessionNames.set(s.name, sb);
      const prevS = sessionIds.get(s['session-id']);
      if (prevS)
        ck.error(
          [...sb, 'session-id'],
          `session-id ${s['session-id']} is already used by ${formatPath(prevS)}`,
        );
      sessionIds.set(s['session-id'], sb);
      const bridge = checkBridge(ck, pi, s.bridge, [...sb, 'bridge']);
      sessions.push({
        name: s.name,
        sessionId: s['session-id'],
        peerSessionId: s['peer-session-id'],
        cookie: s.cookie ?? null,
        peerCookie: s['peer-cookie'] ?? null,
        mtu: s.mtu ?? 1500,
        bridge,
      });
    });
    tunnels.push({
      name: t.name,
      local: t.local,
      peer: t.peer,
      encap,
      udp: t.udp ? { localPort: t.udp['local-port'], peerPort: t.udp['peer-port'] } : null,
      tunnelId: t['tunnel-id'],
      peerTunnelId: t['peer-tunnel-id'],
      sessions,
    });
  });

  let broker: L2tpBroker | null = null;
  const b = raw.broker;
  if (b) {
    const base: Path = ['l2tp', 'broker'];
    checkLocal(ck, pi, b.local, [...base, 'local']);
    for (const [id, at] of tunnelIds) {
      if (overlaps(b['tunnel-ids'], id)) {
        ck.error([...base, 'tunnel-ids'], `the range includes tunnel-id ${id}, used by ${formatPath(at)}`);
        break;
      }
    }
    for (const [id, at] of sessionIds) {
      if (overlaps(b['session-ids'], id)) {
        ck.error([...base, 'session-ids'], `the range includes session-id ${id}, used by ${formatPath(at)}`);
        break;
      }
    }
    const interval = b.heartbeat?.interval ?? 30_000;
    const lease = b.lease ?? 3_600_000;
    if (interval >= lease) {
      const at: Path =
        b.heartbeat?.interval !== undefined ? [...base, 'heartbeat', 'interval'] : [...base, 'lease'];
      ck.error(at, `the heartbeat interval (${interval} ms) must be shorter than the lease (${lease} ms)`);
    }
    broker = {
      listen: b.listen,
      local: b.local,
      encap: b.encap ?? 'ip',
      tunnelIds: b['tunnel-ids'],
      sessionIds: b['session-ids'],
      lease,
      heartbeatInterval: interval,
      deadAfter: b.heartbeat?.['dead-after'] ?? 3,
      bridge: checkBridge(ck, pi, b.bridge, [...base, 'bridge']),
      mtu: b.mtu ?? 1500,
      isolate: b.isolate ?? false,
    };
  }
  return { tunnels, broker };
}
