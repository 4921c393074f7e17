/**
 * The normalised configuration the pipeline consumes. Everything here has been validated: names
 * are resolved to indices (ports, chains, sets) or ids (tables), addresses are numbers (IPv4,
 * unsigned 32-bit) or 16-byte arrays (IPv6), marks are value/mask numbers, durations are
 * milliseconds, and every optional setting carries its default.
 */

export type Family = 4 | 6;

export interface Prefix4 {
  readonly family: 4;
  /** Unsigned 32-bit address. For interface addresses it keeps its host bits. */
  readonly addr: number;
  readonly len: number;
}

export interface Prefix6 {
  readonly family: 6;
  readonly addr: Uint8Array;
  readonly len: number;
}

export type Prefix = Prefix4 | Prefix6;

export interface Address4 {
  readonly family: 4;
  readonly addr: number;
}

export interface Address6 {
  readonly family: 6;
  readonly addr: Uint8Array;
}

export type Address = Address4 | Address6;

/** `fwmark`/`meta mark` style value with a mask; a bare value has mask 0xffffffff. */
export interface Mark {
  readonly value: number;
  readonly mask: number;
}

/** Inclusive port range; a single port has min === max. */
export interface PortRange {
  readonly min: number;
  readonly max: number;
}

// ---- ports ----

export type PortKind = 'afpacket' | 'tun' | 'tap' | 'host' | 'pcap' | 'memory';

export interface PortConfig {
  readonly index: number;
  readonly name: string;
  readonly kind: PortKind;
  /** OS interface name (afpacket, tun, tap, host); the port name unless `device` was given. */
  readonly device: string;
  readonly mac: Uint8Array | null;
  readonly mtu: number;
  /** Whether `mtu` was written in the config (live ports otherwise take the device's MTU). */
  readonly mtuSet: boolean;
  /** Interface addresses with their prefix length (host bits kept, as `ip addr` shows them). */
  readonly addresses: readonly Prefix[];
  readonly proxyArp: boolean;
  /** Use an existing TUN/TAP owned by another daemon instead of creating one. */
  readonly attach: boolean;
  /**
   * afpacket only: 'off' turns the device's aggregation/checksum offloads off while ferry runs;
   * 'vnet' keeps them and forwards GSO super-frames and partial checksums with their virtio-net
   * header (PACKET_VNET_HDR). Always 'off' on other kinds.
   */
  readonly offloads: 'off' | 'vnet';
  /** DHCP client; `table` is the id of the table its routes go to. */
  readonly dhcp: { readonly table: number } | null;
  /**
   * Host port only: the kernel side's default gateways through this port. Empty means the kernel
   * gets a device route (`ip route add default dev <device>`) for each family it has addresses in.
   */
  readonly gateways: readonly Address[];
  /** pcap ports: capture to read packets from / write packets to. */
  readonly read: string | null;
  readonly write: string | null;
}

// ---- routing ----

export const TABLE_DEFAULT = 253;
export const TABLE_MAIN = 254;
export const TABLE_LOCAL = 255;

export type RouteKind = 'unicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw';

export interface RouteConfig {
  readonly to: Prefix;
  readonly via: Address | null;
  /** Port index, or -1 when the route has no device (non-unicast types). */
  readonly port: number;
  readonly metric: number;
  readonly type: RouteKind;
  readonly onlink: boolean;
}

export interface TableConfig {
  readonly name: string;
  readonly id: number;
  readonly routes: readonly RouteConfig[];
}

export type RuleAction = 'lookup' | 'blackhole' | 'unreachable' | 'prohibit';

export interface RuleConfig {
  readonly priority: number;
  /** 4 or 6 when the rule is bound to one family by its prefixes; 0 for both. */
  readonly family: 0 | Family;
  readonly fwmark: Mark | null;
  readonly from: Prefix | null;
  readonly to: Prefix | null;
  /** Port index, or -1 for any. */
  readonly iif: number;
  readonly action: RuleAction;
  /** Table id for `lookup`, 0 otherwise. */
  readonly table: number;
}

// ---- sets and chains ----

export type SetType = 'ipv4' | 'ipv6' | 'port';

export interface SetConfig {
  readonly index: number;
  readonly name: string;
  readonly type: SetType;
  readonly prefixes: readonly Prefix[];
  readonly ports: readonly PortRange[];
}

export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
export type ChainType = 'filter' | 'nat' | 'route';

export interface IfaceMatch {
  readonly negate: boolean;
  readonly ports: readonly number[];
}

export interface AddrMatch {
  readonly negate: boolean;
  /** Set index, or -1 when the prefixes are listed inline. */
  readonly set: number;
  readonly family: Family;
  readonly prefixes: readonly Prefix[];
}

export interface PortMatch {
  readonly negate: boolean;
  /** Set index, or -1 when the ranges are listed inline. */
  readonly set: number;
  readonly ranges: readonly PortRange[];
}

export const CT_NEW = 1;
export const CT_ESTABLISHED = 2;
export const CT_RELATED = 4;
export const CT_INVALID = 8;

export interface Match {
  readonly iif: IfaceMatch | null;
  readonly oif: IfaceMatch | null;
  readonly src: AddrMatch | null;
  readonly dst: AddrMatch | null;
  /** IP protocol number, or -1 for any. */
  readonly proto: number;
  readonly sport: PortMatch | null;
  readonly dport: PortMatch | null;
  /** DSCP 0..63, or -1 for any. */
  readonly dscp: number;
  readonly mark: Mark | null;
  readonly ctMark: Mark | null;
  /** Bit set of CT_* states; 0 matches any state. */
  readonly ctState: number;
}

export type RejectWith =
  | 'port-unreachable'
  | 'host-unreachable'
  | 'net-unreachable'
  | 'admin-prohibited'
  | 'tcp-reset';

export type Action =
  | { readonly kind: 'accept' | 'drop' | 'return' | 'counter' | 'masquerade' }
  | { readonly kind: 'reject'; readonly with: RejectWith }
  /** meta mark set (mark & ~mask) | value */
  | { readonly kind: 'mark'; readonly value: number; readonly mask: number }
  | { readonly kind: 'ct-mark'; readonly op: 'set'; readonly value: number; readonly mask: number }
  /** save: ct mark = meta mark; restore: meta mark = ct mark */
  | { readonly kind: 'ct-mark'; readonly op: 'save' | 'restore' }
  | { readonly kind: 'dscp'; readonly value: number }
  | { readonly kind: 'jump' | 'goto'; readonly chain: number }
  | { readonly kind: 'snat' | 'dnat'; readonly addr: Address; readonly ports: PortRange | null };

export interface ChainRule {
  readonly match: Match;
  /** Statements in order; a verdict, when present, is last. */
  readonly actions: readonly Action[];
  readonly comment: string | null;
}

export interface ChainConfig {
  readonly index: number;
  readonly name: string;
  /** null for a user chain (reached only by jump/goto). */
  readonly hook: Hook | null;
  readonly type: ChainType;
  readonly priority: number;
  readonly policy: 'accept' | 'drop';
  readonly rules: readonly ChainRule[];
}

// ---- services ----

export interface ConntrackTimeouts {
  readonly tcpSynSent: number;
  readonly tcpSynRecv: number;
  readonly tcpEstablished: number;
  readonly tcpFinWait: number;
  readonly tcpCloseWait: number;
  readonly tcpLastAck: number;
  readonly tcpTimeWait: number;
  readonly tcpClose: number;
  readonly udp: number;
  readonly udpStream: number;
  readonly icmp: number;
  readonly generic: number;
}

export interface ConntrackConfig {
  readonly capacity: number;
  /** Do not track TCP windows (nf_conntrack_tcp_be_liberal). */
  readonly liberal: boolean;
  /** Milliseconds. */
  readonly timeouts: ConntrackTimeouts;
  /**
   * An unsolicited inbound TCP SYN to the router (RFC 5382 REQ-4): `icmp` answers it with port
   * unreachable after 6 s unless an outbound SYN claims the connection; `drop` drops it silently
   * (REQ-4a). Absent: icmp.
   */
  readonly unsolicitedSyn?: 'icmp' | 'drop';
}

export type Option82Policy = 'append' | 'replace' | 'forward' | 'discard';

export interface DhcpRelayConfig {
  readonly listen: readonly number[];
  /** Unsigned 32-bit IPv4 addresses. */
  readonly servers: readonly number[];
  readonly hopLimit: number;
  /** circuitId null means "the receiving port's name". */
  readonly option82: {
    readonly circuitId: string | null;
    readonly remoteId: string | null;
    readonly policy: Option82Policy;
  } | null;
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface WireguardPeer {
  readonly publicKey: Uint8Array;
  readonly presharedKeyFile: string | null;
  readonly endpoint: Endpoint | null;
  readonly allowedIps: readonly Prefix[];
  /** Seconds; 0 = off. */
  readonly keepalive: number;
}

export interface WireguardConfig {
  readonly port: number;
  readonly privateKeyFile: string;
  /** 0 = pick a random port. */
  readonly listenPort: number;
  readonly fwmark: number;
  readonly peers: readonly WireguardPeer[];
}

export interface HealthCheck {
  readonly target: Address;
  readonly interval: number;
  readonly timeout: number;
  readonly failAfter: number;
  readonly recoverAfter: number;
}

export interface WanConfig {
  readonly name: string;
  readonly port: number;
  readonly table: number;
  readonly ctMark: number | null;
  readonly check: HealthCheck;
}

export interface FailoverConfig {
  /** In order of preference: the first healthy WAN is active. */
  readonly wans: readonly WanConfig[];
  /** `ip rule` that failover points at the active WAN's table. */
  readonly steerRule: { readonly priority: number; readonly fwmark: Mark } | null;
  /** User chain whose only rule failover rewrites to `ct mark set <active WAN's ct-mark>`; -1 if none. */
  readonly steerChain: number;
}

export interface L2tpSession {
  readonly name: string;
  readonly sessionId: number;
  readonly peerSessionId: number;
  readonly cookie: Uint8Array | null;
  readonly peerCookie: Uint8Array | null;
  readonly mtu: number;
  readonly bridge: number;
}

export interface L2tpTunnel {
  readonly name: string;
  readonly local: Address;
  readonly peer: Address;
  readonly encap: 'ip' | 'udp';
  readonly udp: { readonly localPort: number; readonly peerPort: number } | null;
  readonly tunnelId: number;
  readonly peerTunnelId: number;
  readonly sessions: readonly L2tpSession[];
}

export interface L2tpBroker {
  readonly listen: Endpoint;
  readonly local: Address;
  readonly encap: 'ip' | 'udp';
  readonly tunnelIds: PortRange;
  readonly sessionIds: PortRange;
  /** Milliseconds. */
  readonly lease: number;
  readonly heartbeatInterval: number;
  readonly deadAfter: number;
  readonly bridge: number;
  readonly mtu: number;
  /** Sessions on the bridge cannot talk to each other (ebtables client isolation). */
  readonly isolate: boolean;
}

export interface L2tpConfig {
  readonly tunnels: readonly L2tpTunnel[];
  readonly broker: L2tpBroker | null;
}

export interface FerryConfig {
  readonly file: string;
  readonly ports: readonly PortConfig[];
  /** Every table: the declared ones plus local, main and default. */
  readonly tables: readonly TableConfig[];
  /** User rules in priority order (the implicit 0/32766/32767 rules are not listed). */
  readonly rules: readonly RuleConfig[];
  readonly sets: readonly SetConfig[];
  readonly chains: readonly ChainConfig[];
  readonly conntrack: ConntrackConfig;
  readonly dhcpRelay: DhcpRelayConfig | null;
  readonly overlay: { readonly wireguard: readonly WireguardConfig[] };
  readonly failover: FailoverConfig | null;
  readonly l2tp: L2tpConfig | null;
  /** How many tables the file declared (for `ferry check`'s summary). */
  readonly declaredTables: number;
}
