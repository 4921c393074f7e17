/**
 * Connection tracking for the router: the flow table, the TCP tracker, the NAT port pool, and the
 * state a packet carries between the conntrack stages while its flow is not yet in the table.
 *
 * As in netfilter, a packet that starts a flow is only *proposed* at conntrack-in: its original
 * tuple and reply tuple wait in per-slot arrays (the "unconfirmed" conntrack), DNAT and SNAT edit
 * the reply tuple as they translate the packet, and conntrack-confirm inserts the flow at the end
 * of postrouting (or input), once the packet has survived the chains. A dropped packet leaves
 * nothing behind.
 *
 * A flow's NAT is its two keys: a packet of direction d arrives looking like key[d] and leaves
 * looking like the inverse of key[1 − d] (netfilter's nf_nat_packet): destination rewritten at
 * prerouting, source at postrouting. CT_NAT_SRC / CT_NAT_DST say which halves differ.
 */
import { type CtSettings, CtTimeouts } from './ct-timeouts.js';
import { CT_SEEN_REPLY, DIR_REPLY } from './flow-layout.js';
import { type FlowRemoveListener, FlowTable } from './flow-table.js';
import { FragTable } from './frag-table.js';
import { NatPool } from './nat-pool.js';
import { TcpTracker } from './tcp-tracker.js';

/** Pending-NAT bits of an unconfirmed flow. */
export const PEND_DNAT = 1;
export const PEND_SNAT = 2;

/** ICMP query reply type for a request type and back (echo 8↔0, timestamp 13↔14, info 15↔16, mask 17↔18). */
export function icmpInverseType(t: number): number {
  if (t === 8) return 0;
  if (t === 0) return 8;
  if (t >= 13 && t <= 18) return t & 1 ? t + 1 : t - 1;
  return -1;
}

/** ICMP query types that may create a flow (netfilter's icmp_new: requests only). */
export function icmpIsRequest(t: number): boolean {
  return t === 8 || t === 13 || t === 15 || t === 17;
}

export interface ConntrackOptions extends Partial<CtSettings> {
  /** Pipeline slots (per-slot pending state). */
  slots: number;
  /** Mappings the NAT pool holds (default: the flow capacity). */
  natCapacity?: number;
  /** Flows examined per expire() call (per batch). */
  expireBudget?: number;
}

export class Conntrack implements FlowRemoveListener {
  readonly table: FlowTable;
  readonly pool: NatPool;
  readonly tcp: TcpTracker;
  readonly timeouts: CtTimeouts;
  readonly liberal: boolean;
  readonly expireBudget: number;
  /** Unconfirmed flow per slot: original key words (src, dst, ports, proto). */
  readonly pOrig: Uint32Array;
  /** Unconfirmed flow per slot: reply key words, edited by NAT. */
  readonly pReply: Uint32Array;
  /** PEND_* bits per slot. */
  readonly pNat: Uint8Array;
  /** Source-NAT mapping taken for the slot's unconfirmed flow, -1 if none. */
  readonly pMap: Int32Array;
  /** Mapping held by each flow, -1 if none. */
  readonly flowMap: Int32Array;
  /** IPv4 fragments: the first fragment's outcome for the later ones (RFC 4787 REQ-14). */
  readonly frags: FragTable;
  /** Engine time of the batch being processed, in ms. */
  nowMs = 0;

  constructor(o: ConntrackOptions) {
    const capacity = o.capacity ?? 65536;
    this.table = new FlowTable({ capacity });
    this.timeouts = o.timeouts ?? new CtTimeouts();
    this.liberal = o.liberal ?? false;
    this.expireBudget = o.expireBudget ?? 256;
    // Mappings: one per flow at most, plus the ones unconfirmed packets hold.
    this.pool = new NatPool(o.natCapacity ?? capacity + o.slots);
    this.tcp = new TcpTracker(this.table, this.timeouts, this.liberal);
    this.pOrig = new Uint32Array(o.slots * 4);
    this.pReply = new Uint32Array(o.slots * 4);
    this.pNat = new Uint8Array(o.slots);
    this.pMap = new Int32Array(o.slots).fill(-1);
    this.flowMap = new Int32Array(capacity).fill(-1);
    this.frags = new FragTable({ slots: o.slots });
    this.table.removeListener = this;
  }

  /** Proposes a new flow for slot s: original tuple and its plain inverse as the reply. */
  propose(
    s: number,
    src: number,
    dst: number,
    sport: number,
    dport: number,
    proto: number,
    rSport: number,
    rDport: number,
  ): void {
    const k = s * 4;
    const o = this.pOrig;
    const r = this.pReply;
    o[k] = src;
    o[k + 1] = dst;
    o[k + 2] = ((sport << 16) | dport) >>> 0;
    o[k + 3] = proto;
    r[k] = dst;
    r[k + 1] = src;
    r[k + 2] = ((rSport << 16) | rDport) >>> 0;
    r[k + 3] = proto;
    this.pNat[s] = 0;
    this.pMap[s] = -1;
  }

  /** Releases what an unconfirmed flow holds (its packet was dropped or its flow already exists). */
  abandon(s: number): void {
    const m = this.pMap[s]!;
    if (m >= 0) this.pool.release(m);
    this.pMap[s] = -1;
  }

  flowRemoved(flow: number): void {
    const m = this.flowMap[flow]!;
    if (m >= 0) {
      this.pool.release(m);
      this.flowMap[flow] = -1;
    }
  }

  /** True when packets of handle h have been seen both ways (ct state ESTABLISHED rather than NEW). */
  isEstablished(h: number): boolean {
    return (h & 1) === DIR_REPLY || this.table.hasStatus(h >>> 1, CT_SEEN_REPLY);
  }
}
