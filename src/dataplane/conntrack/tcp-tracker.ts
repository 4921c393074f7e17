/**
 * TCP connection tracking over a FlowTable's per-flow words: the state machine of tcp-states.ts
 * and window tracking after "Real Stateful TCP Packet Filtering in IP Filter" (van Rooij), as
 * netfilter's tcp_in_window does it: per direction td_end (highest sequence sent), td_maxend
 * (highest sequence the peer allowed), td_maxwin (largest window seen) and the window scale
 * negotiated on the SYNs (RFC 7323 §2.2: scaling only when both sides offered it).
 *
 * A segment is in window when
 *   I   seq ≤ sender.td_maxend                      (not beyond what the receiver allowed)
 *   II  end ≥ sender.td_end − receiver.td_maxwin    (not older than a window: reordering is fine)
 *   III ack ≤ receiver.td_end                        (acknowledges nothing unsent)
 *   IV  ack ≥ receiver.td_end − max(maxwin, 66000)   (not an ancient ACK)
 * Liberal mode (`conntrack.liberal`, nf_conntrack_tcp_be_liberal) accepts segments outside the
 * window instead of calling them INVALID, and lets a flow whose replies take another path (only
 * one direction crosses the router) reach ESTABLISHED on the originator's ACK.
 */
import type { CtTimeouts } from './ct-timeouts.js';
import {
  CT_ASSURED,
  CT_SEEN_REPLY,
  PROTO_DIR_WORDS,
  PROTO_WORDS,
  TD_END,
  TD_MAXACK,
  TD_MAXEND,
  TD_MAXWIN,
  TD_SCALE_FLAGS,
} from './flow-layout.js';
import type { FlowTable } from './flow-table.js';
import {
  PKT_ACK,
  PKT_RST,
  PKT_SYN,
  TCP_CLOSE,
  TCP_CLOSE_WAIT,
  TCP_ESTABLISHED,
  TCP_FIN_WAIT,
  TCP_IG,
  TCP_IV,
  TCP_LAST_ACK,
  TCP_SYN_RECV,
  TCP_SYN_SENT,
  TCP_SYN_SENT2,
  TCP_TIME_WAIT,
  tcpNextState,
  tcpPacketClass,
} from './tcp-states.js';

/** track(): state updated. */
export const TCP_OK = 0;
/** track(): accepted, proves nothing (retransmission, stray SYN): state and timeout unchanged. */
export const TCP_IGNORED = 1;
/** track(): not a valid segment of this connection (bad flags for the state, out of window). */
export const TCP_INVALID = 2;
/** track(): a SYN reopening a connection in TIME_WAIT/CLOSE: forget the old flow, start anew. */
export const TCP_RESTART = 3;

const F_SYN = 0x02;
const F_FIN = 0x01;
const F_ACK = 0x10;
/** TD_SCALE_FLAGS bits above the scale byte. */
const SF_WSCALE = 0x100;
const SF_MAXACK = 0x200;
const SF_LIBERAL = 0x400;
/** netfilter's MAXACKWINCONST: the smallest "ancient ACK" window. */
const MAX_ACK_WIN = 66000;
/** RFC 7323 §2.3: a shift above 14 is used as 14. */
const MAX_WSCALE = 14;

/** a ≤ b in sequence space (RFC 9293 §3.4 modular comparison). */
function seqLeq(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

function seqGeq(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** The window-scale option of a SYN (RFC 7323 §2.2), or -1. Reads only inside the header. */
function synWscale(d: Uint8Array, l4: number, hl: number): number {
  const end = l4 + hl;
  let p = l4 + 20;
  while (p < end) {
    const kind = d[p]!;
    if (kind === 0) break;
    if (kind === 1) {
      p++;
      continue;
    }
    if (p + 1 >= end) break;
    const n = d[p + 1]!;
    if (n < 2 || p + n > end) break;
    if (kind === 3 && n === 3) return d[p + 2]!;
    p += n;
  }
  return -1;
}

export class TcpTracker {
  constructor(
    private readonly table: FlowTable,
    private readonly t: CtTimeouts,
    readonly liberal: boolean,
  ) {}

  /** A first segment may create a flow: a SYN, or (netfilter's tcp_loose) an ACK picked up mid-stream. */
  static canCreate(flags: number): boolean {
    const c = tcpPacketClass(flags);
    return c === PKT_SYN || c === PKT_ACK;
  }

  /** Timeout in seconds of a flow in `state`. */
  timeoutOf(state: number): number {
    const t = this.t;
    switch (state) {
      case TCP_SYN_SENT:
      case TCP_SYN_SENT2:
        return t.tcpSynSent;
      case TCP_SYN_RECV:
        return t.tcpSynRecv;
      case TCP_ESTABLISHED:
        return t.tcpEstablished;
      case TCP_FIN_WAIT:
        return t.tcpFinWait;
      case TCP_CLOSE_WAIT:
        return t.tcpCloseWait;
      case TCP_LAST_ACK:
        return t.tcpLastAck;
      case TCP_TIME_WAIT:
        return t.tcpTimeWait;
      default:
        return t.tcpClose;
    }
  }

  /**
   * Sets up a flow just confirmed from its first segment (original direction): SYN → SYN_SENT;
   * an ACK picked up mid-stream → ESTABLISHED with both directions liberal, since the window
   * scale and the peer's sequence numbers were never seen (netfilter does the same).
   */
  init(flow: number, d: Uint8Array, l4: number, end: number, nowMs: number): void {
    const cls = tcpPacketClass(d[l4 + 13]!);
    const state = cls === PKT_SYN ? TCP_SYN_SENT : TCP_ESTABLISHED;
    if (state === TCP_ESTABLISHED) {
      const b = flow * PROTO_WORDS;
      this.table.protoState[b + TD_SCALE_FLAGS] = SF_LIBERAL;
      this.table.protoState[b + PROTO_DIR_WORDS + TD_SCALE_FLAGS] = SF_LIBERAL;
    }
    this.window(flow, 0, d, l4, end, false);
    this.table.setState(flow, state);
    this.table.setTimeout(flow, nowMs, this.timeoutOf(state));
  }

  /** A segment of a known flow, direction from the handle. Returns TCP_OK / _IGNORED / _INVALID / _RESTART. */
  track(handle: number, d: Uint8Array, l4: number, end: number, nowMs: number): number {
    const table = this.table;
    const flow = handle >>> 1;
    const dir = handle & 1;
    const flags = d[l4 + 13]!;
    const cls = tcpPacketClass(flags);
    const old = table.getState(flow);
    let next = tcpNextState(dir, cls, old);
    if (cls === PKT_SYN && dir === 0 && (old === TCP_TIME_WAIT || old === TCP_CLOSE)) return TCP_RESTART;
    if (next === TCP_IV) {
      // Only one direction crosses the router: the SYN/ACK went another way.
      if (!(this.liberal && dir === 0 && cls === PKT_ACK && old === TCP_SYN_SENT)) return TCP_INVALID;
      next = TCP_ESTABLISHED;
    }
    if (next === TCP_IG) return TCP_IGNORED;
    // RFC 9293 §3.10.7.3: in SYN-SENT a RST is acceptable only if it acknowledges the SYN.
    if (cls === PKT_RST && dir === 1 && old === TCP_SYN_SENT) {
      const synEnd = table.protoState[flow * PROTO_WORDS + TD_END]!;
      if (
        (flags & F_ACK) === 0 ||
        ((d[l4 + 8]! << 24) | (d[l4 + 9]! << 16) | (d[l4 + 10]! << 8) | d[l4 + 11]!) >>> 0 !== synEnd
      )
        return TCP_INVALID;
    }
    // A new SYN in SYN_SENT (another ISN) starts the originator's window afresh.
    const reinit = cls === PKT_SYN && dir === 0 && old === TCP_SYN_SENT;
    if (!this.window(flow, dir, d, l4, end, reinit)) return TCP_INVALID;
    table.setState(flow, next);
    if (dir === 1 && !table.hasStatus(flow, CT_SEEN_REPLY)) table.setStatusBits(flow, CT_SEEN_REPLY);
    // The handshake is complete (or a picked-up flow was answered): protect it from early drop.
    if (
      next === TCP_ESTABLISHED &&
      !table.hasStatus(flow, CT_ASSURED) &&
      table.hasStatus(flow, CT_SEEN_REPLY)
    )
      table.setStatusBits(flow, CT_ASSURED);
    let secs = this.timeoutOf(next);
    // A RST ends the session after tcp-close (RFC 7857 §2) but never lengthens it: a RST sent in
    // answer to an inbound packet must not refresh the mapping (RFC 7857 §7.1).
    if (cls === PKT_RST) secs = Math.max(0, Math.min(secs, (table.deadline(flow) - nowMs) / 1000));
    table.setTimeout(flow, nowMs, secs);
    return TCP_OK;
  }

  /** Window check and update for one segment; true when it may pass (in window, or liberal). */
  private window(
    flow: number,
    dir: number,
    d: Uint8Array,
    l4: number,
    end: number,
    reinit: boolean,
  ): boolean {
    const ps = this.table.protoState;
    const sb = flow * PROTO_WORDS + PROTO_DIR_WORDS * dir;
    const rb = flow * PROTO_WORDS + PROTO_DIR_WORDS * (1 - dir);
    const flags = d[l4 + 13]!;
    const hl = (d[l4 + 12]! >>> 4) * 4;
    const seq = ((d[l4 + 4]! << 24) | (d[l4 + 5]! << 16) | (d[l4 + 6]! << 8) | d[l4 + 7]!) >>> 0;
    let ack = ((d[l4 + 8]! << 24) | (d[l4 + 9]! << 16) | (d[l4 + 10]! << 8) | d[l4 + 11]!) >>> 0;
    const win = (d[l4 + 14]! << 8) | d[l4 + 15]!;
    const syn = flags & F_SYN;
    const hasAck = flags & F_ACK;
    const segEnd = (seq + (end - l4 - hl) + (syn ? 1 : 0) + (flags & F_FIN ? 1 : 0)) >>> 0;
    let sf = ps[sb + TD_SCALE_FLAGS]!;
    if (ps[sb + TD_MAXWIN] === 0 || reinit) {
      if (syn) {
        const ws = synWscale(d, l4, hl);
        sf = (sf & SF_LIBERAL) | (ws >= 0 ? SF_WSCALE | Math.min(ws, MAX_WSCALE) : 0);
        if (hasAck) {
          // The SYN/ACK settles scaling: both sides must have offered it.
          const rf = ps[rb + TD_SCALE_FLAGS]!;
          if ((rf & SF_WSCALE) === 0 || (sf & SF_WSCALE) === 0) {
            sf &= ~0xff;
            ps[rb + TD_SCALE_FLAGS] = rf & ~0xff;
          }
        }
        ps[sb + TD_END] = segEnd;
        ps[sb + TD_MAXEND] = segEnd;
      } else {
        // First segment from this side without a SYN (mid-stream): take it as the baseline.
        ps[sb + TD_END] = segEnd;
        ps[sb + TD_MAXEND] = segEnd + (win || 1);
      }
      ps[sb + TD_MAXWIN] = win || 1;
      ps[sb + TD_SCALE_FLAGS] = sf;
      if (hasAck && ps[rb + TD_MAXWIN] === 0) {
        ps[rb + TD_END] = ack;
        ps[rb + TD_MAXEND] = ack;
      }
    }
    const rEnd = ps[rb + TD_END]!;
    if (!hasAck) ack = rEnd;
    const sMaxwin = ps[sb + TD_MAXWIN]!;
    const ackWin = sMaxwin > MAX_ACK_WIN ? sMaxwin : MAX_ACK_WIN;
    const inWindow =
      seqLeq(seq, ps[sb + TD_MAXEND]!) &&
      seqGeq(segEnd, (ps[sb + TD_END]! - ps[rb + TD_MAXWIN]!) >>> 0) &&
      seqLeq(ack, rEnd) &&
      seqGeq(ack, (rEnd - ackWin) >>> 0);
    if (!inWindow) return this.liberal || (sf & SF_LIBERAL) !== 0;
    const scaled = syn ? win : win * (1 << (sf & 0xff));
    if (scaled > sMaxwin) ps[sb + TD_MAXWIN] = scaled;
    if (((segEnd - ps[sb + TD_END]!) | 0) > 0) ps[sb + TD_END] = segEnd;
    if (hasAck) {
      if ((sf & SF_MAXACK) === 0 || ((ack - ps[sb + TD_MAXACK]!) | 0) > 0) {
        ps[sb + TD_MAXACK] = ack;
        ps[sb + TD_SCALE_FLAGS] = sf | SF_MAXACK;
      }
      // The receiver may now send up to what this segment acknowledges plus its window.
      const edge = (ack + (scaled || 1)) >>> 0;
      if (((edge - ps[rb + TD_MAXEND]!) | 0) > 0) ps[rb + TD_MAXEND] = edge;
    }
    return true;
  }
}
