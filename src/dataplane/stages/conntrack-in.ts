/**
 * conntrack-in: connection tracking of IPv4 packets before the chains see them, as Linux runs
 * conntrack at priority -200 in prerouting (and in output for the router's own packets).
 *
 * The tuple is the addresses, the TCP/UDP ports or the ICMP query id with its type, or just the
 * addresses for other protocols. A known flow (an expired one counts as gone, as netfilter's
 * nf_ct_is_expired lookup treats it) is updated by its protocol tracker and the packet gets
 * `meta.ct` (handle), `meta.ctState` and `meta.ctMark`; ESTABLISHED once the flow was seen both
 * ways, NEW before. An unknown tuple that may start a flow (TCP SYN or a mid-stream ACK, any UDP,
 * an ICMP query request, other protocols) is proposed as NEW and confirmed later; other packets
 * are INVALID (no flow). An ICMP error is RELATED to the flow of the packet it quotes (netfilter's
 * nf_conntrack_inet_error: the quoted tuple inverted), INVALID when there is none, and does not
 * refresh that flow (RFC 5508 REQ-6); one with a bad ICMP checksum is dropped (RFC 5508 REQ-3).
 * Fragments (RFC 4787 REQ-14): a first fragment is classified as any packet and registered with
 * ip4-frag-track (`frag`); later fragments carry no ports and go to that stage instead, which gives
 * them the first fragment's outcome. Without `frag` they pass untracked.
 */

import { CT_ESTABLISHED, CT_INVALID, CT_NEW, CT_RELATED } from '../../control/config/types.js';
import type { Conntrack } from '../conntrack/conntrack.js';
import { icmpInverseType, icmpIsRequest } from '../conntrack/conntrack.js';
import { CT_ASSURED, CT_SEEN_REPLY } from '../conntrack/flow-layout.js';
import { TCP_INVALID, TCP_RESTART, TcpTracker } from '../conntrack/tcp-tracker.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { formatIpv4, u16, u32 } from '../wire/bytes.js';
import { verify } from '../wire/checksum.js';
import { icmpv4IsError } from '../wire/icmpv4.js';
import type { Ip4FragTrack } from './ip4-frag-track.js';
import type { RouterContext } from './router-context.js';

const TCP = 6;
const UDP = 17;
const ICMP = 1;

const EV_NEW = 1;
const EV_KNOWN = 2;
const EV_RELATED = 3;
const EV_INVALID = 4;

export class ConntrackIn extends Stage {
  readonly name: string;
  private readonly badIcmp: number;
  next!: Stage;
  /** Where fragments are tracked (ip4-frag-track); null: they pass untracked. */
  frag: Ip4FragTrack | null = null;

  constructor(
    pipe: Pipeline,
    private readonly ctx: RouterContext,
    private readonly ct: Conntrack,
    name = 'conntrack-in',
  ) {
    super();
    this.name = name;
    this.badIcmp = pipe.drops.register('ct-icmp-error-bad-checksum');
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const ct = this.ct;
    const nowMs = Math.round(this.ctx.now * 1000);
    ct.nowMs = nowMs;
    ct.table.expire(nowMs, ct.expireBudget);
    const d = pipe.batch.data;
    const m = pipe.meta;
    // Every packet for `next` is compacted in place and handed on as one vector (fragments too,
    // so the order is kept).
    let w = 0;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      // MF and fragment offset: non-zero for every fragment.
      const frag = u16(d, m.l3Off[s]! + 6) & 0x3fff;
      if (frag !== 0) {
        if (this.fragment(pipe, s, frag, nowMs)) slots[w++] = s;
      } else if (this.cached(pipe, s, nowMs) || this.track(pipe, s, nowMs)) slots[w++] = s;
      else pipe.drop(s, this.badIcmp);
    }
    pipe.nextAll(this.next.id, slots, w);
  }

  /**
   * A fragment (`frag`: MF and offset): the first is tracked and registered, later ones go to
   * `frag`. True when the packet goes on to `next` (the caller queues it).
   */
  private fragment(pipe: Pipeline, s: number, frag: number, nowMs: number): boolean {
    const m = pipe.meta;
    const ft = this.frag;
    if ((frag & 0x1fff) !== 0) {
      m.ct[s] = -1;
      m.ctState[s] = 0;
      if (ft === null) return true;
      pipe.nextId(ft.id, s);
      return false;
    }
    if (!this.track(pipe, s, nowMs)) {
      pipe.drop(s, this.badIcmp);
      return false;
    }
    return ft === null || ft.first(pipe, s, nowMs);
  }

  /**
   * The established-flow path: a TCP, UDP or ICMP query packet (with its header) whose flow the
   * table's recent-flow cache holds, not expired, is tracked here with one cache probe and none of
   * `track`'s other cases. False when that does not apply (nothing changed then, the packet's
   * flow was removed by a TCP restart): `track` classifies the packet from the start.
   */
  private cached(pipe: Pipeline, s: number, nowMs: number): boolean {
    const d = pipe.batch.data;
    const m = pipe.meta;
    const l3 = m.l3Off[s]!;
    const l4 = m.l4Off[s]!;
    const end = l3 + m.l3Len[s]!;
    const proto = d[l3 + 9]!;
    // The key's ports, as `track` forms them: TCP/UDP ports, or an ICMP query's id and type/code.
    let sport = 0;
    let dport = 0;
    if (proto === UDP || proto === TCP) {
      if (l4 + 8 > end) return false;
      if (proto === TCP && (l4 + 20 > end || d[l4 + 12]! >>> 4 < 5 || l4 + (d[l4 + 12]! >>> 4) * 4 > end))
        return false;
      sport = u16(d, l4);
      dport = u16(d, l4 + 2);
    } else if (proto === ICMP) {
      if (l4 + 8 > end) return false;
      const type = d[l4]!;
      if (icmpv4IsError(type) || icmpInverseType(type) < 0) return false;
      sport = u16(d, l4 + 4);
      dport = (type << 8) | d[l4 + 1]!;
    } else {
      return false;
    }
    const table = this.ct.table;
    const h = table.lookupCached(u32(d, l3 + 12) | 0, u32(d, l3 + 16) | 0, sport, dport, proto);
    if (h < 0 || table.isExpired(h >>> 1, nowMs)) return false;
    return this.known(pipe, s, h, proto, l3, l4, end, nowMs);
  }

  /**
   * A packet of the known, unexpired flow direction h: the protocol tracker or the timeout
   * refresh, counters, and `meta.ct` / `ctState` / `ctMark`. False for a SYN reopening a TCP flow
   * in TIME_WAIT/CLOSE: the old flow is removed and the SYN starts a new one (the caller's job).
   */
  private known(
    pipe: Pipeline,
    s: number,
    h: number,
    proto: number,
    l3: number,
    l4: number,
    end: number,
    nowMs: number,
  ): boolean {
    const m = pipe.meta;
    const ct = this.ct;
    const table = ct.table;
    const f = h >>> 1;
    let verdict = 0;
    // Seen both ways (ct state ESTABLISHED rather than NEW): what `ct.isEstablished(h)` says.
    let replied = false;
    if (proto === TCP) {
      verdict = ct.tcp.track(h, pipe.batch.data, l4, end, nowMs);
      if (verdict === TCP_RESTART) {
        table.remove(f);
        return false;
      }
      replied = ct.isEstablished(h);
    } else {
      replied = this.refresh(f, h & 1, proto, nowMs);
    }
    m.ct[s] = h;
    m.ctMark[s] = table.getCtMark(f);
    if (verdict === TCP_INVALID) {
      // Unlike Linux, the packet keeps its flow: NAT still translates it, so an inside address
      // cannot leak when no rule drops `ct state invalid`.
      m.ctState[s] = CT_INVALID;
    } else {
      table.account(h, end - l3, nowMs);
      m.ctState[s] = replied ? CT_ESTABLISHED : CT_NEW;
    }
    if (m.traceId[s] !== 0) pipe.trace(s, this, EV_KNOWN, h, m.ctState[s]!, table.getState(f));
    return true;
  }

  /** Classifies slot s; false when it must be dropped. */
  private track(pipe: Pipeline, s: number, nowMs: number): boolean {
    const d = pipe.batch.data;
    const m = pipe.meta;
    const ct = this.ct;
    const table = ct.table;
    const l3 = m.l3Off[s]!;
    const l4 = m.l4Off[s]!;
    const end = l3 + m.l3Len[s]!;
    m.ct[s] = -1;
    m.ctState[s] = 0;
    const proto = d[l3 + 9]!;
    // Addresses travel as int32 (| 0): a u32 above 2^31 would be boxed at every call boundary.
    const src = u32(d, l3 + 12) | 0;
    const dst = u32(d, l3 + 16) | 0;
    let sport = 0;
    let dport = 0;
    let rSport = 0;
    let rDport = 0;
    if (proto === TCP) {
      if (l4 + 20 > end || d[l4 + 12]! >>> 4 < 5 || l4 + (d[l4 + 12]! >>> 4) * 4 > end)
        return this.invalid(pipe, s);
      sport = u16(d, l4);
      dport = u16(d, l4 + 2);
      rSport = dport;
      rDport = sport;
    } else if (proto === UDP) {
      if (l4 + 8 > end) return this.invalid(pipe, s);
      sport = u16(d, l4);
      dport = u16(d, l4 + 2);
      rSport = dport;
      rDport = sport;
    } else if (proto === ICMP) {
      if (l4 + 8 > end) return this.invalid(pipe, s);
      const type = d[l4]!;
      if (icmpv4IsError(type)) return this.related(pipe, s, l4, end);
      const inv = icmpInverseType(type);
      if (inv < 0) return this.invalid(pipe, s);
      sport = u16(d, l4 + 4);
      dport = (type << 8) | d[l4 + 1]!;
      rSport = sport;
      rDport = (inv << 8) | d[l4 + 1]!;
    }
    let h = table.lookup(src, dst, sport, dport, proto);
    if (h >= 0 && table.isExpired(h >>> 1, nowMs)) {
      table.remove(h >>> 1);
      h = -1;
    }
    if (h >= 0 && this.known(pipe, s, h, proto, l3, l4, end, nowMs)) return true;
    if (proto === TCP ? !TcpTracker.canCreate(d[l4 + 13]!) : proto === ICMP && !icmpIsRequest(d[l4]!))
      return this.invalid(pipe, s);
    ct.propose(s, src, dst, sport, dport, proto, rSport, rDport);
    m.ctState[s] = CT_NEW;
    m.ctMark[s] = 0;
    pipe.trace(s, this, EV_NEW, src, dst, sport, dport, proto);
    return true;
  }

  /** UDP, ICMP and other protocols: reply seen → assured and the longer timeout. Returns whether a reply was seen. */
  private refresh(f: number, dir: number, proto: number, nowMs: number): boolean {
    const table = this.ct.table;
    const t = this.ct.timeouts;
    let replied = table.hasStatus(f, CT_SEEN_REPLY);
    if (dir === 1 && !replied) {
      table.setStatusBits(f, CT_SEEN_REPLY | CT_ASSURED);
      replied = true;
    }
    const secs = proto === UDP ? (replied ? t.udpStream : t.udp) : proto === ICMP ? t.icmp : t.generic;
    table.setTimeout(f, nowMs, secs);
    return replied;
  }

  /** An ICMP error: RELATED to the flow of the packet it quotes, else INVALID. */
  private related(pipe: Pipeline, s: number, l4: number, end: number): boolean {
    const d = pipe.batch.data;
    const m = pipe.meta;
    const table = this.ct.table;
    if (!verify(d, l4, end - l4)) return false;
    const q = l4 + 8;
    if (q + 20 > end || d[q]! >>> 4 !== 4) return this.invalid(pipe, s);
    const qhl = (d[q]! & 15) * 4;
    const ql4 = q + qhl;
    if (qhl < 20 || (u16(d, q + 6) & 0x1fff) !== 0) return this.invalid(pipe, s);
    const proto = d[q + 9]!;
    const qsrc = u32(d, q + 12) | 0;
    const qdst = u32(d, q + 16) | 0;
    let a = 0;
    let b = 0;
    if (proto === TCP || proto === UDP) {
      // The quote is usually cut short: only the ports are needed (RFC 792: 64 bits of data).
      if (ql4 + 4 > end) return this.invalid(pipe, s);
      a = u16(d, ql4 + 2);
      b = u16(d, ql4);
    } else if (proto === ICMP) {
      if (ql4 + 6 > end) return this.invalid(pipe, s);
      const inv = icmpInverseType(d[ql4]!);
      if (inv < 0) return this.invalid(pipe, s);
      a = u16(d, ql4 + 4);
      b = (inv << 8) | d[ql4 + 1]!;
    }
    const h = table.lookup(qdst, qsrc, a, b, proto);
    if (h < 0 || table.isExpired(h >>> 1, this.ct.nowMs)) return this.invalid(pipe, s);
    m.ct[s] = h;
    m.ctState[s] = CT_RELATED;
    m.ctMark[s] = table.getCtMark(h >>> 1);
    pipe.trace(s, this, EV_RELATED, h, qsrc, qdst);
    return true;
  }

  private invalid(pipe: Pipeline, s: number): boolean {
    pipe.meta.ctState[s] = CT_INVALID;
    pipe.trace(s, this, EV_INVALID);
    return true;
  }

  override formatTrace = (e: number, a: number, b: number, c: number, d: number, p: number): string => {
    if (e === EV_NEW) {
      const ends =
        p === 1
          ? `${formatIpv4(a)} → ${formatIpv4(b)} icmp id ${c}`
          : `${formatIpv4(a)}:${c} → ${formatIpv4(b)}:${d} ${p === 6 ? 'tcp' : p === 17 ? 'udp' : `proto ${p}`}`;
      return `new flow ${ends} (confirmed at postrouting)`;
    }
    if (e === EV_KNOWN) {
      const state = b & 8 ? 'INVALID' : b & 2 ? 'ESTABLISHED' : 'NEW';
      const tcp = c ? `, tcp ${TCP_STATE_TEXT[c] ?? c}` : '';
      return `${a & 1 ? 'reply' : 'original'} direction of flow ${a >>> 1}: ct state ${state}${tcp}`;
    }
    if (e === EV_RELATED)
      return `ICMP error about ${formatIpv4(b)} → ${formatIpv4(c)}: related to flow ${a >>> 1}`;
    return 'no flow and cannot start one: invalid';
  };
}

/** netfilter's names for the TCP tracker's states (tcp-states.ts numbering). */
const TCP_STATE_TEXT: readonly string[] = [
  'NONE',
  'SYN_SENT',
  'SYN_RECV',
  'ESTABLISHED',
  'FIN_WAIT',
  'CLOSE_WAIT',
  'LAST_ACK',
  'TIME_WAIT',
  'CLOSE',
  'SYN_SENT2',
];
