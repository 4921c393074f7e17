/**
 * Wires DHCP clients (client.ts) into a RouterEngine, one per port with `dhcp: { table }`:
 *
 * - receive: ip4-local hands UDP port 68 to the `dhcp-client` stage (a reply broadcast to
 *   255.255.255.255 is local by ip4-lookup's broadcast check, a unicast one once the address is
 *   ours), which checks the UDP header and gives a copy of the payload to the port's client;
 * - send: broadcasts are written as whole Ethernet frames into the router's originated batch and
 *   go straight to port-output (the client has no address: source 0.0.0.0, RFC 2131 §4.1);
 *   a RENEWING unicast starts at ip4-output with its port and next hop already chosen (the lease's
 *   subnet or its gateway), so it reaches the server even when the lease's routes sit in a table
 *   no rule selects for the router's own traffic;
 * - the lease: the address is added as a router address (`engine.addAddress`) with its `local`
 *   route; the subnet's connected route, the default route via option 3 and the option 121 routes
 *   (RFC 3442: 121 present → option 3 ignored) go into the port's table; all withdrawn when the
 *   lease is lost;
 * - time: clients run on the engine clock (`engine.onTick`); a client starts at the first tick.
 *
 * Control plane: a handful of packets per lease, so the stage copies and allocates.
 */
import { PKT_CSUM_VALID } from '../../dataplane/batch.js';
import type { RouterEngine } from '../../dataplane/engine/router-engine.js';
import { NO_PORT } from '../../dataplane/pipeline/packet-meta.js';
import type { Pipeline } from '../../dataplane/pipeline/pipeline.js';
import { Stage } from '../../dataplane/pipeline/stage.js';
import type { Rib } from '../../dataplane/route/rib.js';
import { RouteType } from '../../dataplane/route/store.js';
import type { RoutingTable } from '../../dataplane/route/table.js';
import { ORIGINATED_SLOT_BYTES } from '../../dataplane/stages/originator.js';
import { formatIpv4, formatMac, setU16, setU48, u16, u32 } from '../../dataplane/wire/bytes.js';
import { pseudoSumV4, verify } from '../../dataplane/wire/checksum.js';
import { Dhcpv4View } from '../../dataplane/wire/dhcpv4.js';
import { WireError } from '../../dataplane/wire/errors.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV4 } from '../../dataplane/wire/ethernet.js';
import { IP_PROTO_UDP, IPV4_HEADER_LEN } from '../../dataplane/wire/ipv4.js';
import { emitIpv4Udp, UDP_HEADER_LEN } from '../../dataplane/wire/udp.js';
import type { FerryConfig } from '../config/types.js';
import {
  BROADCAST,
  DhcpClient,
  type DhcpClientHost,
  type DhcpClientOptions,
  type Lease,
  leaseRoutes,
} from './client.js';
import { defaultStateDir, LeaseFile, leasePath } from './lease-file.js';
import { macBytes } from './messages.js';

export const BOOTPS = 67;
export const BOOTPC = 68;
const BROADCAST_MAC = 0xffff_ffff_ffff;
const TTL = 64;

export interface DhcpClientsOptions extends DhcpClientOptions {
  /** Directory of the lease files (`dhcp-<port>.json`); default `defaultStateDir()`. */
  stateDir?: string;
  /** Lease file per port, overriding `stateDir`; null: do not persist. */
  leaseFile?: ((port: string) => string | null) | null;
  /**
   * A reload (`ferry run`): the clients of the router being replaced. A port that still has
   * `dhcp:` keeps its client (state, timers, lease file), and the lease's address and routes are
   * installed into the new router (its routes into the port's table as now configured).
   */
  previous?: DhcpClients | null;
}

function prefixMask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** One port's link to the engine: packets out, the lease's address and routes in and out. */
class EngineHost implements DhcpClientHost {
  /** Route indices the installed lease added, with their table. */
  private installed: { table: RoutingTable; idx: number }[] = [];
  private ipId = 0;
  /** Messages that found no free originated slot. */
  overflows = 0;

  constructor(
    private engine: RouterEngine,
    private rib: Rib,
    public port: number,
    private tableId: number,
    private readonly file: LeaseFile | null,
  ) {}

  /** Moves to a rebuilt router (a reload), installing the lease in use there. */
  moveTo(engine: RouterEngine, rib: Rib, port: number, tableId: number, lease: Lease | null): void {
    this.engine = engine;
    this.rib = rib;
    this.port = port;
    this.tableId = tableId;
    this.installed = [];
    if (lease) this.install(lease);
  }

  send(msg: Uint8Array, src: number, dst: number, lease: Lease | null): void {
    const ctx = this.engine.ctx;
    const o = ctx.originated;
    const ipLen = IPV4_HEADER_LEN + UDP_HEADER_LEN + msg.length;
    if (dst === BROADCAST) {
      if (ETH_HEADER_LEN + ipLen > ORIGINATED_SLOT_BYTES) throw new RangeError('dhcp message too big');
      const slot = o.alloc(this.engine.arpOut.portOutput, 0, NO_PORT, this.port);
      if (slot < 0) {
        this.overflows++;
        return;
      }
      const d = o.batch.data;
      const at = o.batch.offset[slot]!;
      setU48(d, at, BROADCAST_MAC);
      setU48(d, at + 6, ctx.portMac[this.port]!);
      setU16(d, at + 12, ETHERTYPE_IPV4);
      this.writeIpUdp(d, at + ETH_HEADER_LEN, src, dst, msg);
      o.batch.length[slot] = ETH_HEADER_LEN + ipLen;
      return;
    }
    // Unicast (RENEWING, RELEASE): on-link server direct, else through the lease's gateway.
    let nextHop = 0;
    if (
      lease &&
      (dst & prefixMask(lease.prefixLen)) >>> 0 !== (lease.address & prefixMask(lease.prefixLen)) >>> 0
    ) {
      const def = leaseRoutes(lease).find((r) => r.len === 0 && r.gateway !== 0);
      nextHop = def?.gateway ?? lease.routers[0] ?? 0;
    }
    const slot = o.alloc(this.engine.local.output, ETHERTYPE_IPV4, NO_PORT, this.port, nextHop);
    if (slot < 0) {
      this.overflows++;
      return;
    }
    this.writeIpUdp(o.batch.data, o.batch.offset[slot]!, src, dst, msg);
    o.batch.length[slot] = ipLen;
  }

  private writeIpUdp(d: Uint8Array, at: number, src: number, dst: number, msg: Uint8Array): void {
    this.ipId = (this.ipId + 1) & 0xffff;
    d.set(msg, at + IPV4_HEADER_LEN + UDP_HEADER_LEN);
    emitIpv4Udp(d, at, src, dst, BOOTPC, BOOTPS, msg.length, TTL, this.ipId);
  }

  install(l: Lease): void {
    const port = this.port;
    this.engine.addAddress(l.address, l.prefixLen, port);
    const table = this.rib.ensureTable(this.tableId);
    const add = (t: RoutingTable, dst: number, len: number, type: RouteType, gw: number | null): void => {
      // Appended: a configured route for the same prefix keeps precedence over the lease's.
      const idx = t.add({ family: 4, dst, len, type, port, gateway: gw, metric: 0 }, true);
      this.installed.push({ table: t, idx });
    };
    add(this.rib.local, l.address, 32, RouteType.Local, null);
    if (l.prefixLen < 32) {
      add(table, (l.address & prefixMask(l.prefixLen)) >>> 0, l.prefixLen, RouteType.Unicast, null);
    }
    for (const r of leaseRoutes(l)) {
      add(table, r.prefix, r.len, RouteType.Unicast, r.gateway === 0 ? null : r.gateway);
    }
  }

  withdraw(l: Lease): void {
    for (const { table, idx } of this.installed.splice(0).reverse()) table.remove(idx);
    this.engine.removeAddress(l.address, this.port);
  }

  save(lease: Lease | null): void {
    this.file?.save(lease);
  }

  load(): Lease | null {
    return this.file?.load() ?? null;
  }

  /** Routes the installed lease added: [table id, prefix, len] (for status and tests). */
  routes(): { table: number; idx: number }[] {
    return this.installed.map((r) => ({ table: r.table.id, idx: r.idx }));
  }
}

/** ip4-local's UDP 68 service: checks the datagram and hands the payload to its port's client. */
const EV_REPLY = 1;
const DHCP_NAMES = ['BOOTP', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM'];

export class DhcpClientStage extends Stage {
  readonly name = 'dhcp-client';
  /** Decodes replies for the trace only (the client parses its own copy). */
  private readonly view = new Dhcpv4View();
  private readonly badLength: number;
  private readonly badChecksum: number;
  private readonly notFromServer: number;
  private readonly noClient: number;

  constructor(
    pipe: Pipeline,
    private readonly clients: (DhcpClient | null)[],
    private readonly clock: () => number,
  ) {
    super();
    this.badLength = pipe.drops.register('dhcp-client-udp-bad-length');
    this.badChecksum = pipe.drops.register('dhcp-client-udp-bad-checksum');
    this.notFromServer = pipe.drops.register('dhcp-client-not-from-port-67');
    this.noClient = pipe.drops.register('dhcp-client-no-client-on-port');
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const b = pipe.batch;
    const d = b.data;
    const m = pipe.meta;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const l3 = m.l3Off[s]!;
      const l4 = m.l4Off[s]!;
      const udpLen = u16(d, l4 + 4);
      if (udpLen < UDP_HEADER_LEN || l4 + udpLen > l3 + m.l3Len[s]!) {
        pipe.drop(s, this.badLength);
        continue;
      }
      const sum = u16(d, l4 + 6);
      if (
        sum !== 0 &&
        (b.flags[s]! & PKT_CSUM_VALID) === 0 &&
        !verify(d, l4, udpLen, pseudoSumV4(u32(d, l3 + 12), u32(d, l3 + 16), IP_PROTO_UDP, udpLen))
      ) {
        pipe.drop(s, this.badChecksum);
        continue;
      }
      if (u16(d, l4) !== BOOTPS) {
        pipe.drop(s, this.notFromServer);
        continue;
      }
      const port = m.inPort[s]!;
      const client = port === NO_PORT ? null : (this.clients[port] ?? null);
      if (client === null) {
        pipe.drop(s, this.noClient);
        continue;
      }
      if (
        m.traceId[s] !== 0 &&
        this.view.wrap(d, l4 + UDP_HEADER_LEN, udpLen - UDP_HEADER_LEN) === WireError.Ok
      ) {
        pipe.trace(s, this, EV_REPLY, this.view.messageType, this.view.xid, u32(d, l3 + 12), port);
      }
      client.receive(d.slice(l4 + UDP_HEADER_LEN, l4 + udpLen), this.clock());
      // The client has its copy (and counts what it ignores): the packet ends here.
      pipe.consume(s);
    }
  }

  override formatTrace = (_e: number, type: number, xid: number, server: number, port: number): string =>
    `${DHCP_NAMES[type] ?? `type ${type}`} xid 0x${xid.toString(16).padStart(8, '0')} from ${formatIpv4(server)}: handed to the DHCP client of ${this.portName(port)}`;

  /** Port names for traces, set when the clients are attached. */
  portName: (port: number) => string = (p) => `port ${p}`;
}

export interface DhcpClients {
  readonly clients: DhcpClient[];
  readonly stage: DhcpClientStage;
  /** The client of a port by name. */
  client(port: string): DhcpClient | undefined;
  /** Route indices installed for a port's lease, with their table ids. */
  installedRoutes(port: string): { table: number; idx: number }[];
  /** Originated-batch overflows (messages not sent). */
  overflows(): number;
  /** Releases every lease (DHCPRELEASE) and stops the clients; run a tick after it to send. */
  release(now: number): void;
}

/** Each client's link to its engine, for handing the client over on a reload. */
const hostOf = new WeakMap<DhcpClient, EngineHost>();

/** Clients for the config's ports with `dhcp:`; null when there are none. */
export function attachDhcpClients(
  engine: RouterEngine,
  rib: Rib,
  cfg: FerryConfig,
  opts: DhcpClientsOptions = {},
): DhcpClients | null {
  const ports = cfg.ports.filter((p) => p.dhcp !== null);
  if (ports.length === 0) return null;
  const byPort: (DhcpClient | null)[] = engine.ports.map(() => null);
  const hosts = new Map<string, EngineHost>();
  const clients: DhcpClient[] = [];
  /** Clients carried over from the replaced router: already started. */
  const carried = new Set<DhcpClient>();
  for (const p of ports) {
    if (engine.ctx.portL2[p.index] !== 1)
      throw new Error(`dhcp client: port ${p.name} does not carry Ethernet`);
    const mac = engine.ctx.portMac[p.index]!;
    const prev = opts.previous?.client(p.name);
    const prevHost = prev && hostOf.get(prev);
    if (prev && prevHost && prev.mac === mac) {
      prevHost.moveTo(engine, rib, p.index, p.dhcp!.table, prev.lease);
      hosts.set(p.name, prevHost);
      byPort[p.index] = prev;
      clients.push(prev);
      carried.add(prev);
      continue;
    }
    const path =
      opts.leaseFile === null
        ? null
        : opts.leaseFile
          ? opts.leaseFile(p.name)
          : leasePath(opts.stateDir ?? defaultStateDir(), p.name);
    const file = path === null ? null : new LeaseFile(path, p.name, formatMac(macBytes(mac)));
    const host = new EngineHost(engine, rib, p.index, p.dhcp!.table, file);
    const client = new DhcpClient(p.name, mac, host, opts);
    hostOf.set(client, host);
    hosts.set(p.name, host);
    byPort[p.index] = client;
    clients.push(client);
  }
  const stage = engine.pipe.add(new DhcpClientStage(engine.pipe, byPort, () => engine.ctx.now));
  stage.portName = (p) => engine.ports[p]?.name ?? `port ${p}`;
  engine.local.listenUdp(BOOTPC, stage);
  let started = false;
  let stopped = false;
  engine.onTick((now) => {
    if (stopped) return;
    if (!started) {
      started = true;
      for (const c of clients) if (!carried.has(c)) c.start(now);
    }
    for (const c of clients) c.tick(now);
  });
  return {
    clients,
    stage,
    client: (name) => clients.find((c) => c.port === name),
    installedRoutes: (name) => hosts.get(name)?.routes() ?? [],
    overflows: () => [...hosts.values()].reduce((n, h) => n + h.overflows, 0),
    release(now) {
      for (const c of clients) c.release(now);
      stopped = true;
    },
  };
}
