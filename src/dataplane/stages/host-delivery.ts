/**
 * The host port, as VPP's linux-cp does it: with kernel forwarding off and ferry owning the NICs,
 * the box's own traffic (SSH to it, apt, an overlay daemon's UDP, probes) goes through a TAP that
 * ferry gives the kernel (`kind: host`, e.g. ferry0) carrying the box's addresses.
 *
 * host-delivery (towards the kernel): ip4-local hands over every packet for one of the host
 * port's addresses that ferry's own services did not consume — TCP, UDP without a ferry service,
 * ICMP other than the echo requests ferry answers itself, fragments (the kernel reassembles them)
 * — as linux-cp punts what VPP's ip4-local does not handle to the host interface. The packet is
 * not forwarded: no TTL decrement (it reached its destination host, RFC 1812 §5.3.1 applies to
 * forwarding only); it leaves the host port with an Ethernet header to the kernel side's MAC,
 * which the neighbour table has from the kernel's own ARP (or resolves with an RFC 5227 probe).
 * A DF packet larger than the TAP's MTU is answered with "fragmentation needed" (RFC 1191 §4);
 * others larger than it are fragmented (RFC 791) and reassembled by the kernel.
 *
 * host-input (from the kernel): what the kernel sends through the TAP is the box's own traffic,
 * so it takes the local-output path, as the box's own packets did under Linux before ferry took
 * its NICs: routed with no input interface (Linux's `iif lo` lookup, ferry's policy rules and
 * tables deciding — the kernel only has a default route into ferry), through the output and
 * postrouting hooks (conntrack and NAT as for locally generated packets), and with TTL untouched
 * (the kernel set it as an originating host; a traceroute from the box sees the next hop as hop
 * 1, not ferry). Packets the kernel sends to ferry's own addresses (a ping of another port's
 * address), broadcasts and multicast take the ordinary input path instead, arrival port kept, so
 * ferry's services answer them and rule chains can match `iif host`.
 */
import { NO_PORT } from '../pipeline/packet-meta.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { formatIpv4, u16, u32 } from '../wire/bytes.js';
import { ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_FRAG_NEEDED } from '../wire/icmpv4.js';
import type { IcmpErrors } from './icmp-errors.js';
import type { RouterContext } from './router-context.js';

const EV_TO_HOST = 1;
const EV_HOST_OUTPUT = 2;
const EV_HOST_TO_ROUTER = 3;

export class HostDelivery extends Stage {
  readonly name = 'host-delivery';
  private readonly tooBig: number;
  private readonly noHost: number;
  /** ip4-fragment: the size check (and fragmentation) before eth-output. */
  next!: Stage;

  constructor(
    pipe: Pipeline,
    private readonly ctx: RouterContext,
    private readonly icmp: IcmpErrors,
  ) {
    super();
    this.tooBig = pipe.drops.register('host-delivery-too-big');
    this.noHost = pipe.drops.register('host-delivery-no-host-port');
  }

  /** True when `addr` is one of the kernel's addresses on the host port. */
  isHostAddress(addr: number): boolean {
    return this.ctx.hostPort !== NO_PORT && this.ctx.hostAddrs.find(addr) >= 0;
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const d = pipe.batch.data;
    const m = pipe.meta;
    const host = this.ctx.hostPort;
    if (host === NO_PORT) {
      for (let k = 0; k < n; k++) pipe.drop(slots[k]!, this.noHost);
      return;
    }
    const mtu = this.ctx.portMtu[host]!;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const l3 = m.l3Off[s]!;
      if (m.l3Len[s]! > mtu && (u16(d, l3 + 6) & 0x4000) !== 0) {
        this.icmp.send(pipe, s, ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_FRAG_NEEDED, mtu);
        pipe.drop(s, this.tooBig);
        continue;
      }
      m.outPort[s] = host;
      // The destination is the kernel's own address: resolved on the host port like a neighbour.
      m.nextHop[s] = 0;
      pipe.trace(s, this, EV_TO_HOST, u32(d, l3 + 16), host);
      pipe.nextId(this.next.id, s);
    }
  }

  override formatTrace = (e: number, dst: number, port: number): string => {
    const name = this.ctx.ports[port]?.name ?? `port ${port}`;
    if (e === EV_HOST_OUTPUT)
      return `from the host (${name}): the box's own packet to ${formatIpv4(dst)}, routed as local output (no TTL decrement)`;
    if (e === EV_HOST_TO_ROUTER)
      return `from the host (${name}) to ${formatIpv4(dst)}: for ferry itself, input path`;
    return `${formatIpv4(dst)} is the host's and no ferry service took it: delivered to the kernel on ${name}`;
  };
}

export class HostInput extends Stage {
  readonly name = 'host-input';
  /** The ordinary path (conntrack-in or prerouting). */
  next!: Stage;
  /** Local-output routing (ip4-output). */
  output!: Stage;

  constructor(
    private readonly ctx: RouterContext,
    /** Shares host-delivery's trace words. */
    private readonly words: HostDelivery,
  ) {
    super();
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const d = pipe.batch.data;
    const m = pipe.meta;
    const ctx = this.ctx;
    const host = ctx.hostPort;
    const local = ctx.local;
    let fromHost = 0;
    for (let k = 0; k < n; k++) if (m.inPort[slots[k]!] === host) fromHost++;
    if (fromHost === 0) {
      pipe.nextAll(this.next.id, slots, n);
      return;
    }
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      if (m.inPort[s] !== host) {
        pipe.nextId(this.next.id, s);
        continue;
      }
      const dst = u32(d, m.l3Off[s]! + 16);
      if (dst >>> 28 >= 14 || local.find(dst) >= 0 || local.isBroadcast(dst)) {
        pipe.trace(s, this, EV_HOST_TO_ROUTER, dst, host);
        pipe.nextId(this.next.id, s);
        continue;
      }
      m.outPort[s] = NO_PORT;
      pipe.trace(s, this, EV_HOST_OUTPUT, dst, host);
      pipe.nextId(this.output.id, s);
    }
  }

  override formatTrace = (e: number, dst: number, port: number): string =>
    this.words.formatTrace(e, dst, port);
}
