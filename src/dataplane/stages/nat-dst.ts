/**
 * nat-dst: destination NAT after the prerouting chains (netfilter's NF_IP_PRI_NAT_DST slot).
 * A new flow with a `dnat` request gets its destination (and port, when the request names one;
 * netfilter's DNAT never changes the port otherwise) rewritten, and its proposed reply tuple
 * edited so replies come back from the new destination. A known flow is translated from its keys
 * without consulting the chains again: the destination half of "leave looking like the inverse of
 * the other direction's key" — which is also how replies to source-NATed flows find the inside
 * host. An ICMP error RELATED to a flow gets its outer destination and the quoted packet's source
 * reverted (RFC 5508 REQ-4, RFC 5382 REQ-9). A later fragment (ip4-frag-track gave it its first
 * fragment's flow) has no L4 header: only its address and IPv4 header checksum change.
 */

import { CT_NEW, CT_RELATED } from '../../control/config/types.js';
import { type Conntrack, PEND_DNAT } from '../conntrack/conntrack.js';
import { CT_NAT_DST, CT_NAT_SRC } from '../conntrack/flow-layout.js';
import { rewriteAddrPort, rewriteFlowSide } from '../conntrack/nat-rewrite.js';
import { NAT_DNAT, partialCsum } from '../pipeline/packet-meta.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { formatIpv4 } from '../wire/bytes.js';

const TCP = 6;
const UDP = 17;
const DST = 16;

const EV_DNAT = 1;
/** A packet of a known flow whose destination this flow's NAT rewrites (replies to masquerade, forwarded ports). */
const EV_FLOW = 2;

export class NatDst extends Stage {
  readonly name = 'nat-dst';
  next!: Stage;

  constructor(private readonly ct: Conntrack) {
    super();
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
        if (table.hasStatus(f, (h & 1) === 0 ? CT_NAT_DST : CT_NAT_SRC)) {
          const addr = table.src(h ^ 1) | 0;
          const port = table.sport(h ^ 1);
          const related = (m.ctState[s]! & CT_RELATED) !== 0;
          rewriteFlowSide(
            d,
            m.l3Off[s]!,
            m.l4Off[s]!,
            m.l3Len[s]!,
            related,
            partialCsum(m, s),
            DST,
            addr,
            port,
            port,
          );
          if (m.traceId[s] !== 0) pipe.trace(s, this, EV_FLOW, addr, port, f, m.ctState[s]! & CT_RELATED);
        }
      } else if (m.ctState[s] === CT_NEW && m.natKind[s] === NAT_DNAT) {
        this.dnat(pipe, s, d);
      }
      slots[w++] = s;
    }
    pipe.nextAll(this.next.id, slots, w);
  }

  private dnat(pipe: Pipeline, s: number, d: Uint8Array): void {
    const m = pipe.meta;
    const ct = this.ct;
    const l3 = m.l3Off[s]!;
    const proto = d[l3 + 9]!;
    const addr = m.natAddr[s]! | 0;
    const k = s * 4;
    const r = ct.pReply;
    let port = -1;
    if ((proto === TCP || proto === UDP) && m.natPortMin[s] !== 0) {
      port = m.natPortMin[s]!;
      r[k + 2] = ((port << 16) | (r[k + 2]! & 0xffff)) >>> 0;
    }
    r[k] = addr;
    ct.pNat[s]! |= PEND_DNAT;
    rewriteAddrPort(d, l3, m.l4Off[s]!, proto, DST, addr, port, true, partialCsum(m, s));
    pipe.trace(s, this, EV_DNAT, addr, port);
  }

  override formatTrace = (e: number, addr: number, port: number, flow: number, related: number): string =>
    e === EV_FLOW
      ? `flow ${flow}: destination translated back to ${formatIpv4(addr)}${port >= 0 && !related ? `:${port}` : ''}${related ? ' (and the packet the ICMP error quotes)' : ''}`
      : `dnat to ${formatIpv4(addr)}${port >= 0 ? `:${port}` : ''}`;
}
