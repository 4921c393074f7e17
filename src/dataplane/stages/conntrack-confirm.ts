/**
 * conntrack-confirm: the last step of postrouting (and of input, for packets to the router), as
 * netfilter's confirm: a packet that proposed a flow and survived the chains inserts it with the
 * reply tuple NAT decided, status CT_NAT_SRC / CT_NAT_DST, its connmark (`meta.ctMark`, which
 * `ct mark set` statements changed), the protocol's first timeout and, for TCP, the tracker's
 * first state. For a packet of a known flow it writes `meta.ctMark` back into the flow (nft's
 * `ct mark set` writes the conntrack itself). When the flow was confirmed meanwhile by another
 * packet of the same batch with the same translation, the packet joins it (netfilter's clash
 * resolution); otherwise a clash or a full table drops the packet. A first fragment that gets
 * here has passed: what it ended with (flow, ct state, mark) becomes its later fragments' outcome
 * (conntrack/frag-table.ts, RFC 4787 REQ-14).
 */

import { CT_NEW } from '../../control/config/types.js';
import type { Conntrack } from '../conntrack/conntrack.js';
import { PEND_DNAT, PEND_SNAT } from '../conntrack/conntrack.js';
import { CT_NAT_DST, CT_NAT_SRC } from '../conntrack/flow-layout.js';
import { INSERT_CLASH, INSERT_FULL } from '../conntrack/flow-table.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { u16 } from '../wire/bytes.js';

const TCP = 6;
const UDP = 17;
const ICMP = 1;

const EV_CONFIRMED = 1;

export class ConntrackConfirm extends Stage {
  readonly name: string;
  private readonly clash: number;
  private readonly full: number;
  next!: Stage;

  constructor(
    pipe: Pipeline,
    private readonly ct: Conntrack,
    name = 'conntrack-confirm',
  ) {
    super();
    this.name = name;
    this.clash = pipe.drops.register('ct-insert-clash');
    this.full = pipe.drops.register('ct-table-full');
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const m = pipe.meta;
    const d = pipe.batch.data;
    const table = this.ct.table;
    const fragsPending = this.ct.frags.pending > 0;
    // Every packet that goes on goes to `next`: compacted in place, handed on as one vector.
    let w = 0;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const h = m.ct[s]!;
      if (h >= 0) {
        if (table.isLive(h >>> 1) && table.getCtMark(h >>> 1) !== m.ctMark[s])
          table.setCtMark(h >>> 1, m.ctMark[s]!);
      } else if (m.ctState[s] === CT_NEW && !this.confirm(pipe, s)) {
        continue;
      }
      // A first fragment (MF set, offset 0), looked for only while one is registered.
      if (fragsPending && (u16(d, m.l3Off[s]! + 6) & 0x3fff) === 0x2000) this.resolveFragment(pipe, s);
      slots[w++] = s;
    }
    pipe.nextAll(this.next.id, slots, w);
  }

  /** The later fragments of slot s's datagram take its flow, ct state and mark (RFC 4787 REQ-14). */
  private resolveFragment(pipe: Pipeline, s: number): void {
    const d = pipe.batch.data;
    const m = pipe.meta;
    const l3 = m.l3Off[s]!;
    const frags = this.ct.frags;
    const e = frags.registered(s, u16(d, l3 + 4), d[l3 + 9]!);
    if (e >= 0) frags.resolve(e, m.ct[s]!, m.ctState[s]!, m.mark[s]!);
  }

  private confirm(pipe: Pipeline, s: number): boolean {
    const ct = this.ct;
    const table = ct.table;
    const m = pipe.meta;
    const t = ct.timeouts;
    const o = ct.pOrig;
    const r = ct.pReply;
    const k = s * 4;
    const proto = o[k + 3]!;
    const nowMs = ct.nowMs;
    const len = m.l3Len[s]!;
    const secs = proto === TCP ? t.tcpSynSent : proto === UDP ? t.udp : proto === ICMP ? t.icmp : t.generic;
    // Key words as int32: FlowTable takes them unsigned again, and nothing is boxed on the way.
    const f = table.insert(
      o[k]! | 0,
      o[k + 1]! | 0,
      o[k + 2]! >>> 16,
      o[k + 2]! & 0xffff,
      proto,
      r[k]! | 0,
      r[k + 1]! | 0,
      r[k + 2]! >>> 16,
      r[k + 2]! & 0xffff,
      nowMs,
      secs,
    );
    if (f < 0) {
      ct.abandon(s);
      if (f === INSERT_CLASH) {
        const h = table.lookup(o[k]! | 0, o[k + 1]! | 0, o[k + 2]! >>> 16, o[k + 2]! & 0xffff, proto);
        if (
          h >= 0 &&
          (h & 1) === 0 &&
          table.lookup(r[k]! | 0, r[k + 1]! | 0, r[k + 2]! >>> 16, r[k + 2]! & 0xffff, proto) === (h | 1)
        ) {
          m.ct[s] = h;
          table.account(h, len, nowMs);
          return true;
        }
      }
      pipe.drop(s, f === INSERT_FULL ? this.full : this.clash);
      return false;
    }
    const nat = ct.pNat[s]!;
    if (nat !== 0)
      table.setStatusBits(f, (nat & PEND_SNAT ? CT_NAT_SRC : 0) | (nat & PEND_DNAT ? CT_NAT_DST : 0));
    ct.flowMap[f] = ct.pMap[s]!;
    ct.pMap[s] = -1;
    if (proto === TCP) ct.tcp.init(f, pipe.batch.data, m.l4Off[s]!, m.l3Off[s]! + len, nowMs);
    table.setCtMark(f, m.ctMark[s]!);
    table.account(2 * f, len, nowMs);
    m.ct[s] = 2 * f;
    pipe.trace(s, this, EV_CONFIRMED, f, nat);
    return true;
  }

  override formatTrace = (_e: number, f: number, nat: number): string =>
    `flow ${f} confirmed${nat & PEND_SNAT ? ', source NAT' : ''}${nat & PEND_DNAT ? ', destination NAT' : ''}`;
}
