/**
 * What `ferry status` shows, as data (`ferry status --json` prints it as is). Times are seconds:
 * `*At` fields on the engine clock (the packets' receive timestamps, which live is the wall
 * clock), `*In` / `age` fields relative to `engineNow`.
 */
import type { PolicyCounterRow, RuleCounterRow } from '../../dataplane/classifier/counters.js';

export interface PortRate {
  /** The interval the rates are averaged over. */
  readonly seconds: number;
  readonly rxPacketsPerSec: number;
  readonly rxBitsPerSec: number;
  readonly txPacketsPerSec: number;
  readonly txBitsPerSec: number;
  readonly dropsPerSec: number;
}

export interface PortLink {
  readonly up: boolean;
  readonly running: boolean;
  readonly operstate: string;
  readonly ifindex: number;
}

export interface PortStatus {
  readonly index: number;
  readonly name: string;
  readonly kind: string;
  /** Ethernet framing (false: bare IP, a TUN). */
  readonly l2: boolean;
  readonly mac: string | null;
  readonly mtu: number;
  /** What the kernel says of the interface now; null for ports without one (memory, pcap) or when it cannot be read. */
  readonly link: PortLink | null;
  readonly rx: { readonly packets: number; readonly bytes: number };
  readonly tx: { readonly packets: number; readonly bytes: number };
  /** Frames the port itself lost, by reason (ring full, send errors); the pipeline's drops are in `drops`. */
  readonly drops: Readonly<Record<string, number>>;
  /** Since the previous status request (or the control socket's start); null on the first sample. */
  readonly rate: PortRate | null;
}

export interface NeighbourStatus {
  readonly address: string;
  readonly port: string;
  readonly mac: string | null;
  readonly state: string;
  /** Seconds since the entry was last confirmed or changed state. */
  readonly age: number;
  /** Packets waiting for the address to resolve. */
  readonly queued: number;
}

export interface RouteStatus {
  readonly dst: string;
  readonly type: string;
  readonly port: string | null;
  readonly via: string | null;
  readonly metric: number;
  /** As `ip route` prints it. */
  readonly text: string;
}

export interface RouteTableStatus {
  readonly id: number;
  readonly name: string;
  readonly routes: readonly RouteStatus[];
}

export interface IpRuleStatus {
  readonly priority: number;
  /** As `ip rule` prints it. */
  readonly text: string;
}

export interface ChainsStatus {
  readonly rules: readonly RuleCounterRow[];
  readonly policies: readonly PolicyCounterRow[];
  readonly jumpTooDeep: number;
}

export interface DhcpLeaseStatus {
  readonly address: string;
  readonly prefixLen: number;
  readonly server: string;
  readonly routers: readonly string[];
  /** Seconds; null for an infinite lease. */
  readonly leaseTime: number | null;
  readonly obtainedAt: number;
  readonly t1At: number;
  readonly t2At: number;
  /** Null for an infinite lease. */
  readonly expiresAt: number | null;
  readonly t1In: number;
  readonly t2In: number;
  readonly expiresIn: number | null;
}

export interface DhcpClientStatus {
  readonly port: string;
  readonly state: string;
  readonly lease: DhcpLeaseStatus | null;
  readonly sent: Readonly<Record<string, number>>;
  readonly received: Readonly<Record<string, number>>;
}

export interface DhcpRelayStatus {
  /** Non-zero counters by name (DhcpRelayCounters.snapshot()). */
  readonly counters: Readonly<Record<string, number>>;
  /** Messages relayed by DHCP type: requests towards the servers, replies towards the clients. */
  readonly messages: readonly {
    readonly type: string;
    readonly direction: 'to-server' | 'to-client';
    readonly count: number;
  }[];
}

export interface ConntrackStateCount {
  readonly proto: string;
  /** TCP: netfilter's state name; other protocols: UNREPLIED or REPLIED. */
  readonly state: string;
  readonly flows: number;
}

export interface ConntrackSummary {
  readonly flows: number;
  readonly capacity: number;
  readonly byState: readonly ConntrackStateCount[];
  /** Unassured flows evicted to make room (netfilter early_drop). */
  readonly earlyDrops: number;
  /** New flows refused because the table was full of assured flows. */
  readonly insertFailed: number;
  readonly created: number;
  readonly expired: number;
  /** NAT port mappings held. */
  readonly natBindings: number;
  readonly natExhausted: number;
}

export interface OverlayPeerView {
  readonly interface: string;
  readonly publicKey: string;
  readonly endpoint: string | null;
  readonly allowedIps: readonly string[];
  readonly latestHandshake: number;
  /** Seconds since the latest handshake (wall clock); null when there was none. */
  readonly handshakeAge: number | null;
  readonly rxBytes: number;
  readonly txBytes: number;
  readonly persistentKeepalive: number | null;
}

export interface StatusSnapshot {
  readonly ferry: {
    readonly version: string;
    readonly pid: number;
    readonly configPath: string;
    readonly startedAt: number;
    readonly uptime: number;
    /** Wall clock when the snapshot was taken (seconds since the epoch). */
    readonly now: number;
    readonly engineNow: number;
  };
  readonly ports: readonly PortStatus[];
  /** Socket errors the live ports reported, newest last. */
  readonly portErrors: readonly string[];
  readonly neighbours: readonly NeighbourStatus[];
  readonly routes: readonly RouteTableStatus[];
  /** The policy rules in evaluation order (the lookup keeps no per-rule hit counters). */
  readonly rules: readonly IpRuleStatus[];
  /** Null when the config has no chains. */
  readonly chains: ChainsStatus | null;
  readonly dhcpClients: readonly DhcpClientStatus[];
  readonly dhcpRelay: DhcpRelayStatus | null;
  /** Null when connection tracking is off (no rule needs it). */
  readonly conntrack: ConntrackSummary | null;
  /** The pipeline's drops by reason (non-zero only). */
  readonly drops: Readonly<Record<string, number>>;
  readonly overlays: readonly OverlayPeerView[];
  /** Why the overlays' peers could not be read (null when they could). */
  readonly overlaysError: string | null;
}
