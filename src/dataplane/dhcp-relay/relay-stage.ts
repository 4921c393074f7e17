/**
 * dhcp-relay: the BOOTP/DHCP relay agent (RFC 1542 §4, RFC 2131 §4.1, RFC 3046), served UDP 67
 * by ip4-local. Seed 000 needs it: LAN devices behind a transparent brouter must keep getting
 * their leases from the ISP router, whose broadcasts the brouter does not bridge.
 *
 * BOOTREQUEST (a client's broadcast on a `listen` port, or another relay's unicast): hops checked
 * and incremented, giaddr filled in when zero, option 82 handled by policy, then one new datagram
 * per configured server, from UDP 67 and the address of the port facing that server, originated
 * into ip4-output (output hooks, ARP, fragmentation all apply as to any packet the router sends).
 *
 * BOOTREPLY (a server's answer to giaddr:67): accepted only from a configured server and only for
 * a giaddr that is ours on a `listen` port; our option 82 checked and stripped; rewritten in place
 * into the datagram for the client (from giaddr:67 to :68) and sent straight out of giaddr's port
 * with an Ethernet header of our own: to the client's hardware address when it can take unicast,
 * else broadcast. There is no ARP to do here — the client has no address yet — which is why the
 * reply bypasses eth-output (as dhcrelay's packet socket bypasses the kernel's ARP and netfilter).
 *
 * Brouter role: a DHCPACK (or BOOTP reply) tells us where a host lives before it ever ARPs: its
 * lease goes in the neighbour table (yiaddr → chaddr on the port), and on proxy-ARP ports a host
 * route `yiaddr/32 dev port`, so forwarding and proxy-ARP know its side at once.
 *
 * Nothing is allocated per packet: one scratch buffer and two reused message views.
 */

import { PKT_CSUM_NOT_READY, PKT_CSUM_VALID } from '../batch.js';
import { HEAD_MAX, NO_PORT } from '../pipeline/packet-meta.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { ORIGINATED_SLOT_BYTES } from '../stages/originator.js';
import { type HostRouteLearner, newRouteResult, RT_UNICAST } from '../stages/route-result.js';
import type { RouterContext } from '../stages/router-context.js';
import { formatIpv4, formatMac, setU16, setU32, setU48, u16, u32 } from '../wire/bytes.js';
import { pseudoSumV4, verify } from '../wire/checksum.js';
import {
  BOOTREQUEST,
  DHCP_OPT_RELAY_AGENT_INFO,
  DHCPACK,
  DHCPNAK,
  Dhcpv4View,
  HTYPE_ETHERNET,
} from '../wire/dhcpv4.js';
import {
  insertRelayAgentInfo,
  RELAY_SUBOPT_CIRCUIT_ID,
  RELAY_SUBOPT_REMOTE_ID,
  RelayAgentInfoView,
  stripRelayAgentInfo,
} from '../wire/dhcpv4-options.js';
import { WireError } from '../wire/errors.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV4 } from '../wire/ethernet.js';
import { IP_PROTO_UDP, IPV4_HEADER_LEN } from '../wire/ipv4.js';
import { emitIpv4Udp, UDP_HEADER_LEN } from '../wire/udp.js';
import {
  appendAgentInfo,
  encodeAgentInfo,
  identifierBytes,
  OptionsFieldFinder,
  subOptionEquals,
} from './agent-info.js';
import { DhcpRelayCounters, messageTypeName } from './counters.js';

/** The configuration the stage needs (the shape of `DhcpRelayConfig` in src/control/config). */
export interface RelaySettings {
  /** Port indices where clients are served (requests accepted, replies delivered). */
  readonly listen: readonly number[];
  /** Unsigned 32-bit IPv4 addresses of the DHCP servers. */
  readonly servers: readonly number[];
  readonly hopLimit: number;
  readonly option82: {
    /** null: the receiving port's name. */
    readonly circuitId: string | null;
    readonly remoteId: string | null;
    readonly policy: 'append' | 'replace' | 'forward' | 'discard';
  } | null;
}

/** BOOTP server and client ports (RFC 951 §3, RFC 2131 §4.1). */
export const BOOTPS = 67;
export const BOOTPC = 68;
/**
 * RFC 1542 §4.1.1: a relay MUST silently discard a BOOTREQUEST whose hops exceeds 16, whatever
 * its configured threshold. A larger configured limit is capped here.
 */
export const RFC1542_MAX_HOPS = 16;
/** IP and UDP headers the relay writes (no IP options). */
const IP_UDP_LEN = IPV4_HEADER_LEN + UDP_HEADER_LEN;
/** The largest message the relay sends to a server: what fits an originated slot after headers. */
export const RELAY_MAX_MESSAGE = ORIGINATED_SLOT_BYTES - IP_UDP_LEN;
/** TTL of datagrams the relay originates (Linux's default; RFC 1700 recommends 64). */
const RELAY_TTL = 64;
const BROADCAST_MAC = 0xffff_ffff_ffff;
const LIMITED_BROADCAST = 0xffffffff;

const POLICY_APPEND = 0;
const POLICY_REPLACE = 1;
const POLICY_FORWARD = 2;
const POLICY_DISCARD = 3;
const POLICIES = {
  append: POLICY_APPEND,
  replace: POLICY_REPLACE,
  forward: POLICY_FORWARD,
  discard: POLICY_DISCARD,
};

// What option 82 handling did to a request.
const A_OFF = 0;
const A_ADDED = 1;
const A_REPLACED = 2;
const A_APPENDED = 3;
const A_FORWARDED = 4;
const A_NO_ROOM = 5;
const A_NOT_DHCP = 6;
const A_UNTRUSTED = 7;
const A_DISCARD = 8;
const A_MISPLACED = 9;

// Trace events.
const EV_REQUEST = 1;
const EV_OPT82 = 2;
const EV_RELAYED = 3;
const EV_COPY_LOST = 4;
const EV_REPLY = 5;
const EV_DELIVER = 6;
const EV_LEARNED = 7;

const macBytes = new Uint8Array(6);
function macText(hi: number, lo: number): string {
  setU16(macBytes, 0, hi);
  setU32(macBytes, 2, lo);
  return formatMac(macBytes);
}

export class DhcpRelay extends Stage {
  readonly name = 'dhcp-relay';
  readonly counters = new DhcpRelayCounters();
  /** Where relayed requests start (ip4-output: local-output routing). */
  output!: Stage;
  /** Where replies to clients go, Ethernet header written (port-output). */
  transmit!: Stage;
  /** Where packets that waited for a neighbour continue once a lease teaches us its MAC (eth-output). */
  release!: Stage;

  private readonly view = new Dhcpv4View();
  /** The request being built, over `scratch`. */
  private readonly work = new Dhcpv4View();
  private readonly scratch = new Uint8Array(RELAY_MAX_MESSAGE);
  private readonly finder = new OptionsFieldFinder();
  private readonly info = new RelayAgentInfoView();
  private readonly res = newRouteResult();

  private readonly servers: Uint32Array;
  /** Per server, for the request being relayed: egress port (-1 unreachable) and next hop. */
  private readonly srvPort: Int32Array;
  private readonly srvHop: Uint32Array;
  private readonly hopLimit: number;
  /** 1 for ports in `listen`. */
  private readonly listening: Uint8Array;
  /** -1 when option 82 is off, else POLICY_*. */
  private readonly policy: number;
  /** Per port: our option 82 value (empty for ports that do not listen). */
  private readonly agentInfo: Uint8Array[];
  private readonly circuitIds: Uint8Array[];
  private readonly remoteId: Uint8Array | null;
  private ipId = 0;

  private readonly malformed: number[];
  private readonly udpBadLength: number;
  private readonly udpBadChecksum: number;
  private readonly opMismatch: number;
  private readonly notListening: number;
  private readonly noAddress: number;
  private readonly hopLimitDrop: number;
  private readonly ownGiaddr: number;
  private readonly opt82Untrusted: number;
  private readonly opt82Discarded: number;
  private readonly opt82Misplaced: number;
  private readonly tooBig: number;
  private readonly noRoute: number;
  private readonly originateFull: number;
  private readonly notFromServer: number;
  private readonly unknownGiaddr: number;
  private readonly replyOpt82Malformed: number;
  private readonly replyOpt82Mismatch: number;
  private readonly replyTooBig: number;

  constructor(
    pipe: Pipeline,
    private readonly ctx: RouterContext,
    cfg: RelaySettings,
    /** Brouter mode: where learned host routes go (null: neighbour entries only). */
    private readonly hosts: HostRouteLearner | null = null,
  ) {
    super();
    const nPorts = ctx.ports.length;
    if (cfg.servers.length === 0) throw new Error('dhcp relay: no servers');
    if (!Number.isInteger(cfg.hopLimit) || cfg.hopLimit < 1 || cfg.hopLimit > 255) {
      throw new RangeError(`dhcp relay: hop limit ${cfg.hopLimit} is not in 1..255`);
    }
    this.servers = Uint32Array.from(cfg.servers);
    this.srvPort = new Int32Array(cfg.servers.length);
    this.srvHop = new Uint32Array(cfg.servers.length);
    this.hopLimit = Math.min(cfg.hopLimit, RFC1542_MAX_HOPS);
    this.listening = new Uint8Array(nPorts);
    const o82 = cfg.option82;
    this.policy = o82 === null ? -1 : POLICIES[o82.policy];
    this.remoteId = identifierBytes(o82?.remoteId ?? null);
    const fixedCircuit = identifierBytes(o82?.circuitId ?? null);
    this.agentInfo = [];
    this.circuitIds = [];
    for (let p = 0; p < nPorts; p++) {
      this.agentInfo.push(new Uint8Array(0));
      this.circuitIds.push(new Uint8Array(0));
    }
    for (const p of cfg.listen) {
      const port = ctx.ports[p];
      if (port === undefined) throw new RangeError(`dhcp relay: no port ${p}`);
      // Clients find a relay by broadcasting on their link (RFC 2131 §4.1): an Ethernet port.
      if (ctx.portL2[p] !== 1) throw new Error(`dhcp relay: port ${port.name} does not carry Ethernet`);
      this.listening[p] = 1;
      if (o82 !== null) {
        const circuit = fixedCircuit ?? identifierBytes(port.name)!;
        this.circuitIds[p] = circuit;
        this.agentInfo[p] = encodeAgentInfo(circuit, this.remoteId);
      }
    }

    const r = (why: string): number => pipe.drops.register(`dhcp-relay-${why}`);
    this.malformed = pipe.drops.registerWireErrors('dhcp-relay');
    this.udpBadLength = r('udp-bad-length');
    this.udpBadChecksum = r('udp-bad-checksum');
    this.opMismatch = r('op-mismatch');
    this.notListening = r('not-listening');
    this.noAddress = r('no-address');
    this.hopLimitDrop = r('hop-limit');
    this.ownGiaddr = r('own-giaddr');
    this.opt82Untrusted = r('option82-untrusted');
    this.opt82Discarded = r('option82-discarded');
    this.opt82Misplaced = r('option82-misplaced');
    this.tooBig = r('too-big');
    this.noRoute = r('no-route-to-server');
    this.originateFull = r('originate-full');
    this.notFromServer = r('reply-not-from-server');
    this.unknownGiaddr = r('reply-unknown-giaddr');
    this.replyOpt82Malformed = r('reply-option82-malformed');
    this.replyOpt82Mismatch = r('reply-option82-mismatch');
    this.replyTooBig = r('reply-too-big');
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const b = pipe.batch;
    const d = b.data;
    const m = pipe.meta;
    const v = this.view;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const l3 = m.l3Off[s]!;
      const l4 = m.l4Off[s]!;
      const udpLen = u16(d, l4 + 4);
      if (udpLen < UDP_HEADER_LEN || l4 + udpLen > l3 + m.l3Len[s]!) {
        pipe.drop(s, this.udpBadLength);
        continue;
      }
      const src = u32(d, l3 + 12);
      // A zero checksum means none was sent (RFC 768); the kernel may have checked it or left it
      // to be completed (checksum offload), in which case there is nothing to verify here.
      if (
        u16(d, l4 + 6) !== 0 &&
        (b.flags[s]! & (PKT_CSUM_NOT_READY | PKT_CSUM_VALID)) === 0 &&
        !verify(d, l4, udpLen, pseudoSumV4(src, u32(d, l3 + 16), IP_PROTO_UDP, udpLen))
      ) {
        pipe.drop(s, this.udpBadChecksum);
        continue;
      }
      const err = v.wrap(d, l4 + UDP_HEADER_LEN, udpLen - UDP_HEADER_LEN);
      if (err !== WireError.Ok) {
        pipe.drop(s, this.malformed[err]!);
        continue;
      }
      if (v.op === BOOTREQUEST) this.request(pipe, s, u16(d, l4));
      else this.reply(pipe, s, src, u16(d, l4));
    }
  }

  // ---- client → server ----

  private request(pipe: Pipeline, s: number, srcPort: number): void {
    const m = pipe.meta;
    const ctx = this.ctx;
    const v = this.view;
    const inPort = m.inPort[s]!;
    if (inPort >= this.listening.length || this.listening[inPort] === 0) {
      pipe.drop(s, this.notListening);
      return;
    }
    const oldGiaddr = v.giaddr;
    // Port 67 is a server's or a relay's, and a relay always fills giaddr (RFC 1542 §4.1.1): a
    // BOOTREQUEST from 67 with none is not a client's message.
    if (srcPort === BOOTPS && oldGiaddr === 0) {
      pipe.drop(s, this.opMismatch);
      return;
    }
    // RFC 1542 §4.1.1: discard above the threshold (configurable, never above 16); the count we
    // send on never exceeds the limit (as ISC dhcrelay's -c).
    const hops = v.hops;
    if (hops >= this.hopLimit) {
      pipe.drop(s, this.hopLimitDrop);
      return;
    }
    let giaddr = oldGiaddr;
    const firstHop = oldGiaddr === 0;
    if (firstHop) {
      // RFC 1542 §4.1.1: a zero giaddr gets the address of the interface the request came in on.
      giaddr = ctx.local.primary(inPort);
      if (giaddr === 0) {
        pipe.drop(s, this.noAddress);
        return;
      }
    } else if (ctx.local.find(oldGiaddr) >= 0) {
      // RFC 3046 §2.1.1: a giaddr that spoofs one of ours is discarded (it would loop, too).
      pipe.drop(s, this.ownGiaddr);
      return;
    }
    const len = v.len;
    if (len > RELAY_MAX_MESSAGE) {
      pipe.drop(s, this.tooBig);
      return;
    }
    // Where each server is: the egress port decides our source address and bounds the size.
    let maxLen = RELAY_MAX_MESSAGE;
    for (let i = 0; i < this.servers.length; i++) {
      const res = this.res;
      if (ctx.routes.lookup4(this.servers[i]!, 0, 0, NO_PORT, res) && res.type === RT_UNICAST) {
        this.srvPort[i] = res.port;
        this.srvHop[i] = res.nextHop;
        // RFC 3046 §2.1: never grow the message past the MTU of the interface it leaves by.
        maxLen = Math.min(maxLen, ctx.portMtu[res.port]! - IP_UDP_LEN);
      } else {
        this.srvPort[i] = -1;
      }
    }

    // The request we send is built in scratch: the received packet is only read.
    const d = pipe.batch.data;
    const sc = this.scratch;
    for (let i = 0; i < len; i++) sc[i] = d[v.off + i]!;
    const w = this.work;
    w.wrap(sc, 0, len);
    w.hops = hops + 1; // RFC 1542 §4.1.1: the relay increments hops.
    if (firstHop) w.giaddr = giaddr; // a non-zero giaddr MUST NOT be modified (RFC 1542 §4.1.1)
    const act = this.agentInformation(w, inPort, firstHop, maxLen);
    if (act === A_UNTRUSTED || act === A_DISCARD || act === A_MISPLACED) {
      pipe.drop(
        s,
        act === A_UNTRUSTED
          ? this.opt82Untrusted
          : act === A_DISCARD
            ? this.opt82Discarded
            : this.opt82Misplaced,
      );
      return;
    }
    const type = w.messageType;
    if (m.traceId[s] !== 0) {
      const ch = w.chaddr;
      pipe.trace(
        s,
        this,
        EV_REQUEST,
        type | ((hops + 1) << 8) | (firstHop ? 1 << 16 : 0) | (inPort << 17),
        w.xid,
        ch < 0 ? 0xffffffff : Math.floor(ch / 0x1_0000_0000),
        ch < 0 ? 0 : ch % 0x1_0000_0000,
        giaddr,
      );
      if (act !== A_OFF) pipe.trace(s, this, EV_OPT82, act, inPort);
    }
    this.countOption82(act);

    let sent = 0;
    for (let i = 0; i < this.servers.length; i++) {
      const server = this.servers[i]!;
      const port = this.srvPort[i]!;
      if (port < 0) {
        pipe.drops.count(this.noRoute);
        pipe.trace(s, this, EV_COPY_LOST, server, this.noRoute);
        continue;
      }
      // From the address of the port facing the server (the receiving port's if it has none).
      const from = ctx.local.primary(port) || ctx.local.primary(inPort);
      if (!this.sendCopy(server, from, port, this.srvHop[i]!, w.len)) {
        pipe.drops.count(this.originateFull);
        pipe.trace(s, this, EV_COPY_LOST, server, this.originateFull);
        continue;
      }
      sent++;
      pipe.trace(s, this, EV_RELAYED, server, from, port, w.len);
    }
    this.counters.copies += sent;
    if (sent > 0) {
      this.counters.requests++;
      this.counters.requestsByType[type]!++;
    }
    // The request's fate is its copies, each counted above whether sent or lost.
    pipe.consume(s);
  }

  /**
   * Option 82 for the request in `w` (RFC 3046 §2.1, §2.1.1; ISC dhcrelay's -a / -m for what the
   * RFC leaves to configuration). Returns an A_* action; UNTRUSTED, DISCARD and MISPLACED drop.
   */
  private agentInformation(w: Dhcpv4View, inPort: number, firstHop: boolean, maxLen: number): number {
    if (this.policy < 0) return A_OFF;
    // Plain BOOTP has a vendor area but no options field to put it in.
    if (!w.hasMagic) return A_NOT_DHCP;
    const ours = this.agentInfo[inPort]!;
    const present = w.findOption(DHCP_OPT_RELAY_AGENT_INFO);
    if (firstHop) {
      // RFC 3046 §2.1: giaddr zero (we are the first hop) but option 82 already there, from a
      // circuit we cannot trust (ferry has no trusted circuits): discard and count.
      if (present) return A_UNTRUSTED;
      return insertRelayAgentInfo(w, maxLen, ours, 0, ours.length) === WireError.Ok ? A_ADDED : A_NO_ROOM;
    }
    // RFC 3046 §2.1.1: a request another relay forwarded (giaddr set) goes on without our option.
    // When it already carries one, the configured policy may override that, as dhcrelay -m does.
    if (!present) return A_FORWARDED;
    switch (this.policy) {
      case POLICY_FORWARD:
        return A_FORWARDED;
      case POLICY_DISCARD:
        return A_DISCARD;
      case POLICY_REPLACE: {
        stripRelayAgentInfo(w);
        const e = insertRelayAgentInfo(w, maxLen, ours, 0, ours.length);
        // Still there after stripping the options field: it sits in file/sname, which a relay
        // must not touch (RFC 3046 §2.1).
        return e === WireError.Ok ? A_REPLACED : e === WireError.Duplicate ? A_MISPLACED : A_NO_ROOM;
      }
      default:
        return appendAgentInfo(w, maxLen, ours, ours.length) === WireError.Ok ? A_APPENDED : A_NO_ROOM;
    }
  }

  private countOption82(act: number): void {
    const c = this.counters;
    if (act === A_ADDED) c.option82Added++;
    else if (act === A_REPLACED) c.option82Replaced++;
    else if (act === A_APPENDED) c.option82Appended++;
    else if (act === A_FORWARDED) c.option82Forwarded++;
    else if (act === A_NO_ROOM) c.option82NoRoom++;
    else if (act === A_NOT_DHCP) c.option82NotDhcp++;
  }

  /** One copy of the request in scratch to `server`, originated into ip4-output with its route. */
  private sendCopy(server: number, from: number, port: number, nextHop: number, msgLen: number): boolean {
    const o = this.ctx.originated;
    const slot = o.alloc(this.output, ETHERTYPE_IPV4, NO_PORT, port, nextHop);
    if (slot < 0) return false;
    const out = o.batch.data;
    const at = o.batch.offset[slot]!;
    const sc = this.scratch;
    const body = at + IP_UDP_LEN;
    for (let i = 0; i < msgLen; i++) out[body + i] = sc[i]!;
    // RFC 1542 §4.1.1 / RFC 2131 §4.1: relay to the server's port 67, from our port 67.
    this.writeIpUdp(out, at, from, server, BOOTPS, BOOTPS, msgLen);
    o.batch.length[slot] = IP_UDP_LEN + msgLen;
    return true;
  }

  // ---- server → client ----

  private reply(pipe: Pipeline, s: number, src: number, srcPort: number): void {
    const ctx = this.ctx;
    const v = this.view;
    // Only clients send from port 68, and a client never sends a BOOTREPLY (RFC 951 §3).
    if (srcPort === BOOTPC) {
      pipe.drop(s, this.opMismatch);
      return;
    }
    if (!this.isServer(src)) {
      pipe.drop(s, this.notFromServer);
      return;
    }
    // RFC 1542 §4.1.2: giaddr must name one of our interfaces, else silently discard; it is also
    // where the client is, so only a port we relay for will do.
    const giaddr = v.giaddr;
    const e = ctx.local.find(giaddr);
    const port = e >= 0 ? ctx.local.port[e]! : NO_PORT;
    if (port === NO_PORT || this.listening[port] !== 1) {
      pipe.drop(s, this.unknownGiaddr);
      return;
    }
    let stripped = 0;
    if (this.policy >= 0 && v.hasMagic && this.finder.find(v, DHCP_OPT_RELAY_AGENT_INFO)) {
      // The server echoes our option (RFC 3046 §2.2); its circuit id must be the one we gave for
      // this port, else the reply is not for a client we relayed for. A server that does not know
      // option 82 echoes nothing, which is fine.
      const ri = this.info;
      if (ri.wrap(v.buf, this.finder.off, this.finder.len) !== WireError.Ok) {
        pipe.drop(s, this.replyOpt82Malformed);
        return;
      }
      const circuit = this.circuitIds[port]!;
      const remote = this.remoteId;
      if (
        !subOptionEquals(ri, RELAY_SUBOPT_CIRCUIT_ID, circuit, circuit.length) ||
        (remote !== null && !subOptionEquals(ri, RELAY_SUBOPT_REMOTE_ID, remote, remote.length))
      ) {
        pipe.drop(s, this.replyOpt82Mismatch);
        return;
      }
      // RFC 3046 §2.1: the relay removes the echoed option before the reply goes to the client.
      stripRelayAgentInfo(v);
      stripped = 1;
    }
    const msgLen = v.len;
    const total = IP_UDP_LEN + msgLen;
    if (total > ctx.portMtu[port]!) {
      pipe.drop(s, this.replyTooBig);
      return;
    }
    if (stripped) this.counters.option82Stripped++;

    const type = v.messageType;
    const chaddr = v.chaddr;
    const yiaddr = v.yiaddr;
    const clientAddr = yiaddr !== 0 ? yiaddr : v.ciaddr;
    // RFC 1542 §4.1.2: broadcast when the client set the broadcast bit, else unicast to yiaddr at
    // chaddr — no ARP, the client cannot answer it yet — and broadcast when unicast is not
    // possible (no host address, no Ethernet hardware address). A DHCPNAK is always broadcast
    // (RFC 2131 §4.1: the client's address may be wrong); an ACK to DHCPINFORM carries no yiaddr
    // and goes to ciaddr (RFC 2131 §4.3.5).
    const unicast =
      !v.broadcast &&
      type !== DHCPNAK &&
      v.htype === HTYPE_ETHERNET &&
      this.isUnicastMac(chaddr, v.buf, v.chaddrOff) &&
      this.isHostAddress(clientAddr);
    const ipDst = unicast ? clientAddr : LIMITED_BROADCAST;
    const macDst = unicast ? chaddr : BROADCAST_MAC;

    // Rewrite in place: fresh IP (no options) and UDP headers just before the message, giaddr
    // (our address on the client's port) to the client's port 68.
    const b = pipe.batch;
    const d = b.data;
    const m = pipe.meta;
    const l3 = v.off - IP_UDP_LEN;
    this.writeIpUdp(d, l3, giaddr, ipDst, BOOTPS, BOOTPC, msgLen);
    const eth = l3 - ETH_HEADER_LEN;
    const srcMac = ctx.portMac[port]!;
    if (eth >= b.offset[s]!) {
      setU48(d, eth, macDst);
      setU48(d, eth + 6, srcMac);
      setU16(d, eth + 12, ETHERTYPE_IPV4);
      b.offset[s] = eth;
      b.length[s] = ETH_HEADER_LEN + total;
      m.headLen[s] = 0;
    } else {
      // Came in on an L3 port: no room in front, so the header is prepended (PacketMeta.head).
      const h = m.head;
      const at = s * HEAD_MAX;
      setU48(h, at, macDst);
      setU48(h, at + 6, srcMac);
      setU16(h, at + 12, ETHERTYPE_IPV4);
      m.headLen[s] = ETH_HEADER_LEN;
      b.offset[s] = l3;
      b.length[s] = total;
    }
    b.flags[s] = b.flags[s]! & ~PKT_CSUM_NOT_READY;
    m.l3Off[s] = l3;
    m.l4Off[s] = l3 + IPV4_HEADER_LEN;
    m.l3Len[s] = total;
    m.outPort[s] = port;

    const c = this.counters;
    c.replies++;
    c.repliesByType[type]!++;
    if (unicast) c.repliesUnicast++;
    else c.repliesBroadcast++;
    if (m.traceId[s] !== 0) {
      const ch = chaddr < 0 ? 0 : chaddr;
      pipe.trace(
        s,
        this,
        EV_REPLY,
        type | (stripped << 8) | (chaddr < 0 ? 1 << 9 : 0),
        v.xid,
        Math.floor(ch / 0x1_0000_0000),
        ch % 0x1_0000_0000,
        yiaddr,
      );
      pipe.trace(
        s,
        this,
        EV_DELIVER,
        port,
        ipDst,
        Math.floor(macDst / 0x1_0000_0000),
        macDst % 0x1_0000_0000,
      );
    }
    // A lease is bound (DHCPACK, or a BOOTP reply, RFC 951): learn where the host lives.
    if ((type === DHCPACK || type === 0) && unicast && yiaddr !== 0)
      this.learn(pipe, s, yiaddr, chaddr, port);
    pipe.nextId(this.transmit.id, s);
  }

  /**
   * Seed 000's brouter: the host that just got `addr` is on `port` at `mac`. The neighbour entry
   * spares an ARP round (STALE, as an ARP "merge" would make it: RFC 826, Linux's NUD); on a
   * proxy-ARP port the host route tells forwarding and proxy-ARP which leg it lives on.
   */
  private learn(pipe: Pipeline, s: number, addr: number, mac: number, port: number): void {
    const ctx = this.ctx;
    // Only an address on the port's own subnet, and never one of ours.
    if (ctx.local.onLink(addr, port) < 0 || ctx.local.find(addr) >= 0) return;
    const neigh = ctx.neighbours;
    const e = neigh.learn(addr, port, mac, ctx.now);
    let route = 0;
    if (e >= 0) {
      this.counters.learnedNeighbours++;
      if (neigh.queued(e) > 0 && neigh.usable(e)) this.releaseQueue(e, port, addr);
    }
    const hosts = this.hosts;
    if (hosts !== null && ctx.proxyArp[port] === 1 && hosts.hostPort4(addr) !== port) {
      hosts.learnHost4(addr, port);
      this.counters.learnedHostRoutes++;
      route = 1;
    }
    pipe.trace(s, this, EV_LEARNED, addr, port, Math.floor(mac / 0x1_0000_0000), mac % 0x1_0000_0000, route);
  }

  /** Packets that waited for this address continue at eth-output, now that its MAC is known. */
  private releaseQueue(e: number, port: number, addr: number): void {
    const neigh = this.ctx.neighbours;
    const o = this.ctx.originated;
    for (let q = neigh.nextQueued(e); q >= 0; q = neigh.nextQueued(e)) {
      const slot = o.alloc(this.release, ETHERTYPE_IPV4, NO_PORT, port, addr);
      if (slot >= 0) {
        const len = neigh.poolLen[q]!;
        const from = q * neigh.slotBytes;
        const to = o.batch.offset[slot]!;
        for (let i = 0; i < len; i++) o.batch.data[to + i] = neigh.pool[from + i]!;
        o.batch.length[slot] = len;
      }
      neigh.release(q);
    }
  }

  // ---- helpers ----

  private isServer(a: number): boolean {
    const sv = this.servers;
    for (let i = 0; i < sv.length; i++) if (sv[i] === a) return true;
    return false;
  }

  /** An address a single host can have: not 0, loopback, multicast/reserved or a broadcast. */
  private isHostAddress(a: number): boolean {
    return a !== 0 && a >>> 24 !== 127 && a >>> 28 < 14 && !this.ctx.local.isBroadcast(a);
  }

  /** chaddr is an Ethernet address (hlen 6) that is neither zero nor a group address. */
  private isUnicastMac(mac: number, buf: Uint8Array, off: number): boolean {
    return mac > 0 && (buf[off]! & 1) === 0;
  }

  /**
   * IPv4 (20 bytes, DF clear, TTL 64) and UDP headers at buf[at] for a payload of `payloadLen`
   * bytes already in place after them; both checksums computed.
   */
  private writeIpUdp(
    buf: Uint8Array,
    at: number,
    src: number,
    dst: number,
    sport: number,
    dport: number,
    payloadLen: number,
  ): void {
    this.ipId = (this.ipId + 1) & 0xffff;
    emitIpv4Udp(buf, at, src, dst, sport, dport, payloadLen, RELAY_TTL, this.ipId);
  }

  override formatTrace = (e: number, a: number, b: number, c: number, d: number, x: number): string => {
    const portName = (p: number): string => this.ctx.ports[p]?.name ?? `port ${p}`;
    switch (e) {
      case EV_REQUEST: {
        const from = c === 0xffffffff ? 'a non-Ethernet client' : macText(c, d);
        const inPort = a >>> 17;
        const gi = a & (1 << 16) ? `giaddr set to ${formatIpv4(x)}` : `giaddr ${formatIpv4(x)} kept`;
        return `${messageTypeName(a & 0xff)} xid 0x${b.toString(16)} from ${from} on ${portName(inPort)}: ${gi}, hops ${(a >>> 8) & 0xff}`;
      }
      case EV_OPT82: {
        const circuit = new TextDecoder().decode(this.circuitIds[b] ?? new Uint8Array(0));
        const what: Record<number, string> = {
          [A_ADDED]: `option 82 added (circuit-id "${circuit}")`,
          [A_REPLACED]: `option 82 from the downstream agent replaced by ours (circuit-id "${circuit}")`,
          [A_APPENDED]: `option 82 appended after the downstream agent's (circuit-id "${circuit}")`,
          [A_FORWARDED]: 'relayed before (giaddr set): option 82 left as it is (RFC 3046 §2.1.1)',
          [A_NO_ROOM]: 'option 82 would not fit: relayed without it (RFC 3046 §2.1)',
          [A_NOT_DHCP]: 'plain BOOTP: no options field for option 82',
        };
        return what[a] ?? `option 82 action ${a}`;
      }
      case EV_RELAYED:
        return `relayed to ${formatIpv4(a)} from ${formatIpv4(b)}:67 via ${portName(c)} (${d} bytes)`;
      case EV_COPY_LOST:
        return `copy for ${formatIpv4(a)} not sent: ${b === this.noRoute ? 'no route to the server' : 'no room to originate it'}`;
      case EV_REPLY: {
        const to = a & (1 << 9) ? 'a non-Ethernet client' : macText(c, d);
        const strip = a & (1 << 8) ? ', our option 82 stripped' : '';
        const your = x !== 0 ? `, yiaddr ${formatIpv4(x)}` : '';
        return `${messageTypeName(a & 0xff)} xid 0x${b.toString(16)} for ${to}${your}${strip}`;
      }
      case EV_DELIVER:
        return b === LIMITED_BROADCAST
          ? `broadcast on ${portName(a)} to 255.255.255.255:68`
          : `unicast on ${portName(a)} to ${formatIpv4(b)}:68 at ${macText(c, d)} (no ARP)`;
      case EV_LEARNED:
        return `${formatIpv4(a)} is leased to ${macText(c, d)} on ${portName(b)}: neighbour entry${x ? ` and host route ${formatIpv4(a)}/32 dev ${portName(b)}` : ''} installed`;
      default:
        return `event ${e}`;
    }
  };
}
