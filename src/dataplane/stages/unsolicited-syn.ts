/**
 * tcp-unsolicited-syn: RFC 5382 REQ-4 for inbound SYNs nothing asked for. A TCP SYN to one of the
 * router's own addresses that no mapping or port forward claimed (the original direction of a flow
 * conntrack just created, not destination-NATed, never answered) has nowhere to go: ferry has no
 * TCP listener, and a host port's addresses are the kernel's to answer. REQ-4: the NAT MUST NOT
 * respond to it for at least 6 s; if an outbound SYN for that connection is translated meanwhile
 * (TCP hole punching: nat-src gives the translated flow the tuple), the inbound SYN is silently
 * dropped; otherwise the NAT SHOULD send ICMP port unreachable (type 3 code 3) for it. So the SYN
 * is held (conntrack/held-syns.ts: its tuple and the bytes the error quotes) and taken off the
 * pipeline; at its deadline, on the engine timer (`tick`), a tuple now owned by a flow's reply
 * direction means an outbound SYN claimed it (silent), anything else gets the error: the held
 * bytes go back into the pipeline as an originated packet to tcp-unsolicited-syn-answer, which
 * sends the error through the router's ICMP error machinery (icmp-errors.ts: its restraints and
 * rate limit apply). `conntrack: { unsolicited-syn: drop }` leaves this stage out (REQ-4a: drop
 * silently as policy); a full table drops new SYNs silently too.
 */

import type { Conntrack } from '../conntrack/conntrack.js';
import { CT_NAT_DST, CT_SEEN_REPLY } from '../conntrack/flow-layout.js';
import { HELD_SYN_BYTES, HeldSyns, type HeldSynsOptions } from '../conntrack/held-syns.js';
import type { DropCounters } from '../pipeline/drop-reasons.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { formatIpv4, u16, u32 } from '../wire/bytes.js';
import { ETHERTYPE_IPV4 } from '../wire/ethernet.js';
import { ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_PORT } from '../wire/icmpv4.js';
import type { HostDelivery } from './host-delivery.js';
import type { IcmpErrors } from './icmp-errors.js';
import type { RouterContext } from './router-context.js';

const TCP = 6;
/** SYN, and none of FIN, RST, ACK. */
const SYN_ONLY_MASK = 0x17;
const SYN = 0x02;

const EV_HELD = 1;
const EV_ANSWERED = 2;

/** Sends the port unreachable for a held SYN whose time has come (entry of originated carriers). */
export class UnsolicitedSynAnswer extends Stage {
  readonly name = 'tcp-unsolicited-syn-answer';

  constructor(private readonly icmp: IcmpErrors) {
    super();
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      this.icmp.send(pipe, s, ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_PORT);
      pipe.trace(s, this, EV_ANSWERED);
      pipe.consume(s);
    }
  }

  override formatTrace = (): string =>
    'no outbound SYN claimed it for 6 s: answered with ICMP port unreachable (RFC 5382 REQ-4)';
}

export class UnsolicitedSyn extends Stage {
  readonly name = 'tcp-unsolicited-syn';
  /** ip4-local. */
  next!: Stage;
  readonly held: HeldSyns;
  /** Add it to the pipeline too: the held SYNs' errors start there. */
  readonly answer: UnsolicitedSynAnswer;
  private readonly drops: DropCounters;
  private readonly heldId: number;
  private readonly repeat: number;
  private readonly full: number;
  private readonly superseded: number;
  private readonly noRoom: number;

  constructor(
    pipe: Pipeline,
    private readonly ctx: RouterContext,
    private readonly ct: Conntrack,
    icmp: IcmpErrors,
    private readonly host: HostDelivery,
    opts: HeldSynsOptions = {},
  ) {
    super();
    this.held = new HeldSyns(opts);
    this.answer = new UnsolicitedSynAnswer(icmp);
    this.drops = pipe.drops;
    this.heldId = pipe.drops.register('tcp-unsolicited-syn-held');
    this.repeat = pipe.drops.register('tcp-unsolicited-syn-repeated');
    this.full = pipe.drops.register('tcp-unsolicited-syn-table-full');
    this.superseded = pipe.drops.register('tcp-unsolicited-syn-superseded');
    this.noRoom = pipe.drops.register('tcp-unsolicited-syn-answer-no-room');
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const d = pipe.batch.data;
    const m = pipe.meta;
    const table = this.ct.table;
    const nowMs = Math.round(this.ctx.now * 1000);
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const l3 = m.l3Off[s]!;
      const l4 = m.l4Off[s]!;
      const h = m.ct[s]!;
      const dst = u32(d, l3 + 16);
      if (
        d[l3 + 9] !== TCP ||
        (u16(d, l3 + 6) & 0x3fff) !== 0 ||
        l4 + 20 > l3 + m.l3Len[s]! ||
        (d[l4 + 13]! & SYN_ONLY_MASK) !== SYN ||
        h < 0 ||
        (h & 1) !== 0 ||
        table.hasStatus(h >>> 1, CT_SEEN_REPLY | CT_NAT_DST) ||
        this.ctx.local.find(dst) < 0 ||
        this.host.isHostAddress(dst)
      ) {
        pipe.nextId(this.next.id, s);
        continue;
      }
      const src = u32(d, l3 + 12) | 0;
      const ports = u32(d, l4) | 0;
      const held = this.held;
      if (held.has(src, dst | 0, ports)) {
        // A retransmission: the SYN already held will be answered (or not) for the connection.
        pipe.drop(s, this.repeat);
      } else if (!held.add(d, l3, l4 - l3, src, dst | 0, ports, m.inPort[s]!, nowMs)) {
        pipe.drop(s, this.full);
      } else {
        pipe.trace(s, this, EV_HELD, src, u16(d, l4 + 2));
        pipe.drop(s, this.heldId);
      }
    }
  }

  /** Engine timer (`now` in seconds): answers or silently drops the SYNs whose 6 s are over. */
  tick(now: number): void {
    const held = this.held;
    const nowMs = Math.round(now * 1000);
    const table = this.ct.table;
    for (let e = held.due(nowMs); e >= 0; e = held.due(nowMs)) {
      const k = e * 3;
      const ports = held.key[k + 2]!;
      const h = table.lookup(held.key[k]!, held.key[k + 1]!, ports >>> 16, ports & 0xffff, TCP);
      if (h >= 0 && (h & 1) !== 0) {
        // The tuple is now the reply direction of a flow from inside: an outbound SYN claimed it.
        this.drops.count(this.superseded);
      } else {
        this.carry(e);
      }
      held.pop();
    }
  }

  /** Puts held SYN e back into the pipeline, at tcp-unsolicited-syn-answer. */
  private carry(e: number): void {
    const held = this.held;
    const o = this.ctx.originated;
    const slot = o.alloc(this.answer, ETHERTYPE_IPV4, held.inPort[e]!);
    if (slot < 0) {
      this.drops.count(this.noRoom);
      return;
    }
    const ob = o.batch;
    const at = ob.offset[slot]!;
    const from = e * HELD_SYN_BYTES;
    const n = held.len[e]!;
    for (let i = 0; i < n; i++) ob.data[at + i] = held.bytes[from + i]!;
    ob.length[slot] = n;
  }

  override formatTrace = (_e: number, src: number, dport: number): string =>
    `unsolicited SYN from ${formatIpv4(src)} to port ${dport}: held ${this.held.holdMs / 1000} s, then answered unless an outbound SYN claims the connection (RFC 5382 REQ-4)`;
}
