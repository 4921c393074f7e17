/**
 * nat-src: source NAT after the postrouting chains (netfilter's NF_IP_PRI_NAT_SRC slot).
 * A new flow with a `masquerade` request takes the egress port's primary address, `snat` the
 * given address and port range; a new flow that was destination-NATed to an inside host from one
 * of the router's addresses by a host on another port is hairpinned: its source becomes that host's
 * external mapping on that address (RFC 4787 REQ-9 / 9a, RFC 5382 REQ-8), so the inside server
 * answers through the router. Ports come from the NatPool (endpoint-independent, preserved when
 * free); when none is left the packet is answered with ICMP 3/13 and dropped (RFC 5508 REQ-8).
 * Known flows are translated from their keys; RELATED ICMP errors get the outer source and the
 * quoted destination changed (RFC 5508 REQ-5). A later fragment (ip4-frag-track gave it its
 * first fragment's flow) has no L4 header: only its address and IPv4 header checksum change; the
 * L4 checksum, which covers the pseudo-header, was updated in the first fragment.
 */

import { CT_NEW, CT_RELATED } from '../../control/config/types.js';
import { type Conntrack, PEND_DNAT, PEND_SNAT } from '../conntrack/conntrack.js';
import { CT_NAT_DST, CT_NAT_SRC, CT_SEEN_REPLY } from '../conntrack/flow-layout.js';
import { NAT_EXHAUSTED, NAT_P_ICMP, NAT_P_TCP, NAT_P_UDP } from '../conntrack/nat-pool.js';
import { rewriteAddrPort, rewriteFlowSide } from '../conntrack/nat-rewrite.js';
import { NAT_MASQUERADE, NAT_SNAT, partialCsum } from '../pipeline/packet-meta.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { formatIpv4 } from '../wire/bytes.js';
import { ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_ADMIN_PROHIBITED } from '../wire/icmpv4.js';
import type { IcmpErrors } from './icmp-errors.js';
import type { RouterContext } from './router-context.js';

const TCP = 6;
const UDP = 17;
const ICMP = 1;
const SRC = 12;

const EV_SNAT = 1;
/** A packet of a known flow whose source this flow's NAT rewrites. */
const EV_FLOW = 9;

export class NatSrc extends Stage {
  readonly name = 'nat-src';
  private readonly exhausted: number;
  private readonly noRoom: number;
  private readonly noAddress: number;
  next!: Stage;

  constructor(
    pipe: Pipeline,
    private readonly ctx: RouterContext,
    private readonly ct: Conntrack,
    private readonly icmp: IcmpErrors,
  ) {
    super();
    this.exhausted = pipe.drops.register('nat-ports-exhausted');
    this.noRoom = pipe.drops.register('nat-mappings-full');
    this.noAddress = pipe.drops.register('nat-masquerade-no-address');
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const m = pipe.meta;
    const d = pipe.batch.data;
    const table = this.ct.table;
    // Every packet that goes on goes to `next`: compacted in place, handed on as one vector.
    let w = 0;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const h = m.ct[s]!;
      if (h >= 0) {
        const f = h >>> 1;
        if (table.hasStatus(f, (h & 1) === 0 ? CT_NAT_SRC : CT_NAT_DST)) {
          const addr = table.dst(h ^ 1) | 0;
          const related = (m.ctState[s]! & CT_RELATED) !== 0;
          // The reply key's destination port is our side's port; an ICMP query keeps its id as the key's source port.
          const port = table.dport(h ^ 1);
          const id = table.sport(h ^ 1);
          rewriteFlowSide(
            d,
            m.l3Off[s]!,
            m.l4Off[s]!,
            m.l3Len[s]!,
            related,
            partialCsum(m, s),
            SRC,
            addr,
            port,
            id,
          );
          if (m.traceId[s] !== 0) pipe.trace(s, this, EV_FLOW, addr, f);
        }
      } else if (m.ctState[s] === CT_NEW && !this.snat(pipe, s, d)) {
        continue;
      }
      slots[w++] = s;
    }
    pipe.nextAll(this.next.id, slots, w);
  }

  /** Source NAT for a new flow when asked (or hairpinned); false when the packet was dropped. */
  private snat(pipe: Pipeline, s: number, d: Uint8Array): boolean {
    const m = pipe.meta;
    const ct = this.ct;
    const kind = m.natKind[s]!;
    const k = s * 4;
    let ext = 0;
    let min = 0;
    let max = 0;
    if (kind === NAT_MASQUERADE) {
      ext = this.ctx.local.primary(m.outPort[s]!) | 0;
      if (ext === 0) {
        pipe.drop(s, this.noAddress);
        return false;
      }
    } else if (kind === NAT_SNAT) {
      ext = m.natAddr[s]! | 0;
      min = m.natPortMin[s]!;
      max = m.natPortMax[s]!;
    } else if ((ct.pNat[s]! & PEND_DNAT) !== 0) {
      const local = this.ctx.local;
      const i = local.find(ct.pOrig[k + 1]!);
      if (i < 0 || local.port[i] === m.inPort[s]) return true;
      ext = ct.pOrig[k + 1]! | 0;
    } else {
      return true;
    }
    const l3 = m.l3Off[s]!;
    const proto = d[l3 + 9]!;
    const r = ct.pReply;
    const o = ct.pOrig;
    let port = -1;
    const pp = proto === TCP ? NAT_P_TCP : proto === UDP ? NAT_P_UDP : proto === ICMP ? NAT_P_ICMP : -1;
    if (pp >= 0) {
      const intPort = o[k + 2]! >>> 16;
      const mp = ct.pool.acquire(pp, o[k]! | 0, intPort, ext, min, max);
      if (mp < 0) {
        this.icmp.send(pipe, s, ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_ADMIN_PROHIBITED);
        pipe.drop(s, mp === NAT_EXHAUSTED ? this.exhausted : this.noRoom);
        return false;
      }
      ct.pMap[s] = mp;
      port = ct.pool.extPort(mp);
      // ICMP: the id sits in the key's first port half for both directions; TCP/UDP: reply dport.
      r[k + 2] =
        (pp === NAT_P_ICMP ? (port << 16) | (r[k + 2]! & 0xffff) : (r[k + 2]! & 0xffff0000) | port) >>> 0;
    }
    r[k + 1] = ext;
    this.supersedeUnsolicited(r, k, proto);
    ct.pNat[s]! |= PEND_SNAT;
    rewriteAddrPort(d, l3, m.l4Off[s]!, proto, SRC, ext, port, true, partialCsum(m, s));
    pipe.trace(s, this, EV_SNAT, ext, port);
    return true;
  }

  /**
   * RFC 5382 REQ-4: when an outbound SYN is translated to the tuple of an unsolicited inbound SYN
   * that came first (TCP hole punching; likewise UDP), the inbound SYN is silently dropped and
   * the outbound one goes through. That earlier packet was addressed to the router itself, nothing
   * answered it, yet its flow was confirmed at input and owns the tuple the new flow's replies will
   * carry; left there, the outbound SYN would be dropped as an insert clash. So an unreplied flow
   * to one of the router's addresses gives its tuple up to the translated flow. A flow that was
   * answered (a service of the router's own) is kept, and the clash drops the new packet as before.
   */
  private supersedeUnsolicited(r: Uint32Array, k: number, proto: number): void {
    const table = this.ct.table;
    const h = table.lookup(r[k]! | 0, r[k + 1]! | 0, r[k + 2]! >>> 16, r[k + 2]! & 0xffff, proto);
    if (h < 0 || (h & 1) !== 0) return;
    const f = h >>> 1;
    if (table.hasStatus(f, CT_SEEN_REPLY) || this.ctx.local.find(table.dst(h)) < 0) return;
    table.remove(f);
  }

  override formatTrace = (e: number, addr: number, port: number): string =>
    e === EV_FLOW
      ? `flow ${port}: source translated to ${formatIpv4(addr)}`
      : `snat to ${formatIpv4(addr)}${port >= 0 ? `:${port}` : ''}`;
}
