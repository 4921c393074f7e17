/**
 * ip4-forward: what a router does to a packet it forwards (RFC 1812 §5.3): TTL must exceed 1
 * (else ICMP time exceeded, §5.3.1), TTL is decremented with an incremental checksum update
 * (RFC 1624), and a packet larger than the egress MTU with DF set is dropped with ICMP
 * "fragmentation needed" carrying the next-hop MTU (RFC 1191 §4) — what keeps path-MTU discovery
 * working into a 1280/1420-byte overlay. Fragmenting the others is ip4-fragment's job.
 */
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import {
  ICMPV4_DEST_UNREACH,
  ICMPV4_TIME_EXCEEDED,
  ICMPV4_TIME_EXCEEDED_TTL,
  ICMPV4_UNREACH_FRAG_NEEDED,
} from '../wire/icmpv4.js';
import { Ipv4View } from '../wire/ipv4.js';
import type { IcmpErrors } from './icmp-errors.js';
import type { RouterContext } from './router-context.js';

const EV_FORWARD = 1;

export class Ip4Forward extends Stage {
  readonly name = 'ip4-forward';
  private readonly ip = new Ipv4View();
  private readonly ttlExceeded: number;
  private readonly fragNeeded: number;
  next!: Stage;

  constructor(
    pipe: Pipeline,
    private readonly ctx: RouterContext,
    private readonly icmp: IcmpErrors,
  ) {
    super();
    this.ttlExceeded = pipe.drops.register('ip4-ttl-exceeded');
    this.fragNeeded = pipe.drops.register('ip4-fragmentation-needed');
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const b = pipe.batch;
    const m = pipe.meta;
    const ip = this.ip;
    const mtus = this.ctx.portMtu;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const l3 = m.l3Off[s]!;
      ip.wrap(b.data, l3, m.l3Len[s]!);
      if (ip.ttl <= 1) {
        this.icmp.send(pipe, s, ICMPV4_TIME_EXCEEDED, ICMPV4_TIME_EXCEEDED_TTL);
        pipe.drop(s, this.ttlExceeded);
        continue;
      }
      ip.decrementTtl();
      const mtu = mtus[m.outPort[s]!]!;
      if (m.l3Len[s]! <= mtu) {
        pipe.trace(s, this, EV_FORWARD, ip.ttl, mtu);
        pipe.nextId(this.next.id, s);
        continue;
      }
      if (ip.dontFragment) {
        this.icmp.send(pipe, s, ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_FRAG_NEEDED, mtu);
        pipe.drop(s, this.fragNeeded);
        continue;
      }
      // Too big but fragmentable: ip4-fragment cuts it after the postrouting hook, as Linux does
      // (so source NAT sees the whole datagram once).
      pipe.trace(s, this, EV_FORWARD, ip.ttl, mtu);
      pipe.nextId(this.next.id, s);
    }
  }

  override formatTrace = (_e: number, ttl: number, mtu: number): string =>
    `forward: ttl now ${ttl} (egress mtu ${mtu})`;
}
