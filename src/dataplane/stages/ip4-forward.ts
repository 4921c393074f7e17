/**
 * ip4-forward: what a router does to a packet it forwards (RFC 1812 §5.3): TTL must exceed 1
 * (else ICMP time exceeded, §5.3.1), TTL is decremented with an incremental checksum update
 * (RFC 1624), and a packet larger than the egress MTU with DF set is dropped with ICMP
 * "fragmentation needed" carrying the next-hop MTU (RFC 1191 §4) — what keeps path-MTU discovery
 * working into a 1280/1420-byte overlay. Fragmenting the others is ip4-fragment's job.
 *
 * A GSO super-frame (offloads 'vnet') leaving by a port that transmits offload descriptors is
 * measured by its segments, as Linux's skb_gso_validate_network_len does: it fits when IP header +
 * L4 header + gso_size ≤ MTU. A super-frame whose segments do not fit, or one larger than the MTU
 * leaving by a port without offloads, is dropped with "fragmentation needed" carrying the egress
 * MTU (DF) or dropped (no DF): ferry does not segment in software, and a super-frame is never
 * fragmented (ip4-fragment passes or drops it).
 */
import { VIRTIO_NET_HDR_GSO_TCPV4 } from '../io/port-meta.js';
import type { PacketMeta } from '../pipeline/packet-meta.js';
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
const UDP_HEADER = 8;
/** virtio_net_hdr gso_type bit: the segments carry ECN CWR (not part of the type). */
const VIRTIO_NET_HDR_GSO_ECN = 0x80;

export class Ip4Forward extends Stage {
  readonly name = 'ip4-forward';
  private readonly ttlExceeded: number;
  private readonly fragNeeded: number;
  private readonly gsoTooBig: number;
  next!: Stage;

  constructor(
    pipe: Pipeline,
    private readonly ctx: RouterContext,
    private readonly icmp: IcmpErrors,
  ) {
    super();
    this.ttlExceeded = pipe.drops.register('ip4-ttl-exceeded');
    this.fragNeeded = pipe.drops.register('ip4-fragmentation-needed');
    this.gsoTooBig = pipe.drops.register('ip4-gso-segment-too-big');
  }

  /** IP packet length of one segment of the GSO frame in slot s (headers + gso_size). */
  private static segmentLength(d: Uint8Array, m: PacketMeta, s: number): number {
    const l4 = m.l4Off[s]!;
    const type = m.gsoType[s]! & ~VIRTIO_NET_HDR_GSO_ECN;
    const l4Header = type === VIRTIO_NET_HDR_GSO_TCPV4 ? (d[l4 + 12]! >>> 4) * 4 : UDP_HEADER;
    return l4 - m.l3Off[s]! + l4Header + m.gsoSize[s]!;
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const d = pipe.batch.data;
    const m = pipe.meta;
    const mtus = this.ctx.portMtu;
    const offload = this.ctx.portOffload;
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
      const out = m.outPort[s]!;
      const mtu = mtus[out]!;
      const gso = m.gsoType[s]! !== 0 && m.l3Len[s]! > mtu;
      if (m.l3Len[s]! <= mtu || (gso && offload[out] === 1 && Ip4Forward.segmentLength(d, m, s) <= mtu)) {
        if (m.traceId[s] !== 0) pipe.trace(s, this, EV_FORWARD, ttl - 1, mtu);
        slots[w++] = s;
        continue;
      }
      if ((d[l3 + IPV4_FLAGS_FRAG]! & (IPV4_FLAG_DF >>> 8)) !== 0) {
        this.icmp.send(pipe, s, ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_FRAG_NEEDED, mtu);
        pipe.drop(s, this.fragNeeded);
        continue;
      }
      if (gso) {
        pipe.drop(s, this.gsoTooBig);
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
