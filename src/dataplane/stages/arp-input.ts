/**
 * arp-input: ARP on Ethernet ports (RFC 826). Learns senders (the "merge" rule), confirms
 * neighbours that answered, releases packets that waited for them, answers requests for the
 * router's own addresses, and — on ports with proxy-ARP (RFC 1027) — answers for addresses that
 * route out of another port.
 *
 * Brouter mode (seed 000: both legs in one subnet, as parprouted does it): every ARP sender is
 * remembered as a host route `sender/32 dev <port it spoke on>`, so routing knows which side each
 * neighbour lives on. A request for an address whose side is not known yet is re-asked on the
 * other proxy-ARP ports and left unanswered; the asker's retry finds the learned route.
 *
 * Host port (host-delivery.ts): proxy-ARP is on there, so the kernel's ARP for its gateway (or,
 * with `default dev ferry0`, for any destination) is answered with the host port's MAC whenever
 * the target routes out of another port, and the kernel's MAC is learned from its requests. The
 * host port is neither asked nor learned from as a brouter leg.
 */

import { NO_PORT } from '../pipeline/packet-meta.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { ArpView } from '../wire/arp.js';
import { formatIpv4, setU48 } from '../wire/bytes.js';
import { WireError } from '../wire/errors.js';
import { ETHERTYPE_IPV4 } from '../wire/ethernet.js';
import type { ArpOriginator } from './arp-originator.js';
import { type HostRouteLearner, newRouteResult, RT_UNICAST } from './route-result.js';
import type { RouterContext } from './router-context.js';

const EV_REPLY_OWN = 1;
const EV_REPLY_PROXY = 2;
const EV_LEARNED = 3;
const EV_PROXY_ASK = 4;

export class ArpInput extends Stage {
  readonly name = 'arp-input';
  private readonly arp = new ArpView();
  private readonly res = newRouteResult();
  private readonly malformed: number[];
  private readonly notForUs: number;
  private readonly badSender: number;
  /** Stage that transmits the in-place replies. */
  reply!: Stage;
  /** Stage released queue packets continue at (eth-output). */
  release!: Stage;
  repliesSent = 0;
  proxyRepliesSent = 0;

  constructor(
    pipe: Pipeline,
    private readonly ctx: RouterContext,
    private readonly originator: ArpOriginator,
    private readonly hosts: HostRouteLearner | null,
  ) {
    super();
    this.malformed = pipe.drops.registerWireErrors('arp');
    this.notForUs = pipe.drops.register('arp-not-for-us');
    this.badSender = pipe.drops.register('arp-bad-sender');
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const b = pipe.batch;
    const m = pipe.meta;
    const arp = this.arp;
    const ctx = this.ctx;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const l3 = m.l3Off[s]!;
      const err = arp.wrap(b.data, l3, b.offset[s]! + b.length[s]! - l3);
      if (err !== WireError.Ok) {
        pipe.drop(s, this.malformed[err]!);
        continue;
      }
      const port = m.inPort[s]!;
      const spa = arp.senderIp;
      const sha = arp.senderMac;
      const tpa = arp.targetIp;
      if (sha === ctx.portMac[port] || spa >>> 24 === 127 || spa >>> 28 >= 14) {
        pipe.drop(s, this.badSender);
        continue;
      }
      const ownTarget = ctx.local.find(tpa) >= 0;
      if (spa !== 0) this.learnSender(pipe, s, spa, sha, port, ownTarget, arp.isReply);
      if (!arp.isRequest || spa === tpa) {
        // Replies and gratuitous announcements only teach us; nothing to send.
        pipe.consume(s);
        continue;
      }
      if (ownTarget) {
        this.answer(pipe, s, port, l3);
        this.repliesSent++;
        pipe.trace(s, this, EV_REPLY_OWN, tpa, spa);
        continue;
      }
      if (ctx.proxyArp[port] === 1 && this.proxyFor(pipe, s, tpa, port)) {
        this.answer(pipe, s, port, l3);
        this.proxyRepliesSent++;
        pipe.trace(s, this, EV_REPLY_PROXY, tpa, spa, this.res.port);
        continue;
      }
      pipe.drop(s, this.notForUs);
    }
  }

  private learnSender(
    pipe: Pipeline,
    s: number,
    spa: number,
    sha: number,
    port: number,
    ownTarget: boolean,
    isReply: boolean,
  ): void {
    const ctx = this.ctx;
    // A sender claiming one of ferry's own addresses (a misconfigured or conflicting host) must
    // not become its neighbour or, on a brouter leg, a host route that captures our own traffic.
    // The host port is the exception: the kernel behind it shares the box's address by design.
    if (port !== ctx.hostPort && ctx.local.find(spa) >= 0) return;
    const neigh = ctx.neighbours;
    const known = neigh.find(spa, port);
    let e = -1;
    if (isReply && known >= 0) e = neigh.confirm(spa, port, sha, ctx.now);
    else if (known >= 0 || ownTarget || ctx.proxyArp[port] === 1) e = neigh.learn(spa, port, sha, ctx.now);
    // The host port is not a brouter leg: the kernel's own address must not become a host route.
    if (
      ctx.proxyArp[port] === 1 &&
      this.hosts &&
      port !== ctx.hostPort &&
      this.hosts.hostPort4(spa) !== port
    ) {
      this.hosts.learnHost4(spa, port);
      pipe.trace(s, this, EV_LEARNED, spa, port);
    }
    if (e >= 0 && neigh.queued(e) > 0 && neigh.usable(e)) this.releaseQueue(e, port, spa);
  }

  /** Sends the packets that waited for this neighbour, through eth-output again. */
  private releaseQueue(e: number, port: number, addr: number): void {
    const neigh = this.ctx.neighbours;
    const o = this.ctx.originated;
    for (let q = neigh.nextQueued(e); q >= 0; q = neigh.nextQueued(e)) {
      const slot = o.alloc(this.release, ETHERTYPE_IPV4, NO_PORT, port, addr);
      if (slot >= 0) {
        const len = neigh.poolLen[q]!;
        const from = q * neigh.slotBytes;
        o.batch.data.set(neigh.pool.subarray(from, from + len), o.batch.offset[slot]!);
        o.batch.length[slot] = len;
      }
      neigh.release(q);
    }
  }

  /** RFC 1027: answer for `tpa` when it routes out of a different port than the request came in. */
  private proxyFor(pipe: Pipeline, s: number, tpa: number, port: number): boolean {
    if (tpa === 0) return false;
    const hosts = this.hosts;
    const side = hosts ? hosts.hostPort4(tpa) : -1;
    if (side >= 0) {
      this.res.port = side;
      return side !== port;
    }
    const ok = this.ctx.routes.lookup4(tpa, 0, pipe.meta.mark[s]!, port, this.res);
    if (!ok || this.res.type !== RT_UNICAST) return false;
    if (hosts && this.ctx.local.onLink(tpa, this.res.port) >= 0) {
      // Same subnet on several legs and this host's side unknown: ask on the other legs first.
      for (let p = 0; p < this.ctx.ports.length; p++) {
        if (p !== port && p !== this.ctx.hostPort && this.ctx.proxyArp[p] === 1 && this.ctx.portL2[p] === 1)
          this.originator.request(tpa, p, 0);
      }
      pipe.trace(s, this, EV_PROXY_ASK, tpa);
      return false;
    }
    return this.res.port !== port;
  }

  /** Turns the request into our reply in place and sends it back out of the port it came in on. */
  private answer(pipe: Pipeline, s: number, port: number, l3: number): void {
    const b = pipe.batch;
    const m = pipe.meta;
    const mac = this.ctx.portMac[port]!;
    const asker = this.arp.senderMac;
    this.arp.makeReply(mac);
    const eth = l3 - 14;
    setU48(b.data, eth, asker);
    setU48(b.data, eth + 6, mac);
    b.offset[s] = eth;
    b.length[s] = 42;
    m.outPort[s] = port;
    pipe.nextId(this.reply.id, s);
  }

  override formatTrace = (e: number, a: number, b: number, port: number): string => {
    switch (e) {
      case EV_REPLY_OWN:
        return `who-has ${formatIpv4(a)} tell ${formatIpv4(b)}: it is ours, reply sent`;
      case EV_REPLY_PROXY:
        return `who-has ${formatIpv4(a)} tell ${formatIpv4(b)}: routes out ${this.ctx.ports[port]?.name}, proxy reply sent (RFC 1027)`;
      case EV_LEARNED:
        return `learned ${formatIpv4(a)} lives on ${this.ctx.ports[b]?.name}: host route ${formatIpv4(a)}/32`;
      default:
        return `side of ${formatIpv4(a)} unknown: asking on the other proxy-ARP ports`;
    }
  };
}
