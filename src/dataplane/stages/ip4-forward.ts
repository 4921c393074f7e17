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
import { decrementTtl, IPV4_FLAG_DF, IPV4_FLAGS_FRAG, IPV4_TTL } from '../wire/ipv4.js';
import type { IcmpErrors } from './icmp-errors.js';
import type { RouterContext } from './router-context.js';

const EV_FORWARD = 1;

export class Ip4Forward extends Stage {
  readonly name = 'ip4-forward';
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
    const d = pipe.batch.data;
    const m = pipe.meta;
    const mtus = this.ctx.portMtu;
    // Packets for the main successor are compacted in place and handed on as one vector.
    let w = 0;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const l3 = m.l3Off[s]!;
      // ip4-input checked the header; the fields are read in place.
      const ttl = d[l3 + IPV4_TTL]!;
      if (ttl <= 1) {
        this.icmp.send(pipe, s, ICMPV4_TIME_EXCEEDED, ICMPV4_TIME_EXCEEDED_TTL);
        pipe.drop(s, this.ttlExceeded);
        continue;
      }
      decrementTtl(d, l3, ttl);
      const mtu = mtus[m.outPort[s]!]!;
      if (m.l3Len[s]! <= mtu) {
        if (m.traceId[s] !== 0) pipe.trace(s, this, EV_FORWARD, ttl - 1, mtu);
        slots[w++] = s;
        continue;
      }
      if ((d[l3 + IPV4_FLAGS_FRAG]! & (IPV4_FLAG_DF >>> 8)) !== 0) {
        this.icmp.send(pipe, s, ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_FRAG_NEEDED, mtu);
        pipe.drop(s, this.fragNeeded);
        continue;
      }
      // Too big but fragmentable: ip4-fragment cuts it after the postrouting hook, as Linux does
      // (so source NAT sees the whole datagram once).
      pipe.trace(s, this, EV_FORWARD, ttl - 1, mtu);
      slots[w++] = s;
    }
    pipe.nextAll(this.next.id, slots, w);
  }

  override formatTrace = (_e: number, ttl: number, mtu: number): string =>
    `forward: ttl now ${ttl} (egress mtu ${mtu})`;
}
