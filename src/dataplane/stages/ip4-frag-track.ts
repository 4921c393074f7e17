/**
 * ip4-frag-track: connection tracking and NAT for IPv4 fragments (RFC 4787 REQ-14: a NAT MUST
 * support receiving in-order and out-of-order fragments) without reassembling them, the way VPP's
 * shallow virtual reassembly feeds its NAT: only the first fragment carries the L4 header
 * (RFC 791 §2.3), so conntrack-in classifies it as any packet and registers it here
 * (`first()`); conntrack-confirm records what it ended with once it passed the chains (handle, ct
 * state, mark: conntrack/frag-table.ts). Every later fragment of the datagram comes to this stage
 * from conntrack-in instead of being classified, takes that outcome and goes on to the chains,
 * where nat-dst / nat-src translate it from the flow: addresses and the IPv4 header checksum
 * only, the L4 checksum (which covers the pseudo-header) being updated in the first fragment.
 *
 * A later fragment that arrives before its first fragment has passed (out of order, or in the
 * same batch behind it) is held in the table's preallocated pool and put back through this stage,
 * as an originated packet, when the first fragment resolves; a full pool, an entry's deadline
 * (a few seconds) or a first fragment that was dropped drops it, counted by reason. This stage is
 * added after conntrack-confirm so that, within one run, a first fragment passes the whole path
 * before the later fragments of the same batch are looked at: in-order fragments are never copied.
 *
 * What is refused (RFC 1858, and what a NAT needs): a first fragment too short to hold the L4
 * fields NAT rewrites (TCP 20 bytes, UDP and ICMP 8), and a later TCP fragment overlapping the
 * 20-byte TCP header (offset 1 or 2), which would let a receiver's reassembly overwrite translated
 * ports. Other overlaps and duplicates pass as they came, as through any router; they cannot
 * corrupt the table (a duplicate may end an entry early: a fragment after it then times out).
 *
 * Two instances share the table: one after conntrack-in (prerouting path), one after
 * conntrack-out (local output); `via` tells which, so a held fragment resumes where it was.
 * Fragments ferry makes itself (ip4-fragment, after NAT) never come here.
 */

import { CT_RELATED } from '../../control/config/types.js';
import type { Conntrack } from '../conntrack/conntrack.js';
import {
  FRAG_DROPPED,
  FRAG_PENDING,
  FRAG_RESOLVED,
  FRAG_WAITING,
  type FragSink,
  type FragTable,
  HOLD_OK,
  HOLD_TOO_BIG,
} from '../conntrack/frag-table.js';
import type { DropCounters } from '../pipeline/drop-reasons.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { u16, u32 } from '../wire/bytes.js';
import { ETHERTYPE_IPV4 } from '../wire/ethernet.js';
import type { RouterContext } from './router-context.js';

const TCP = 6;
const UDP = 17;
const ICMP = 1;

/** `via` of the prerouting-path instance and of the local-output one. */
export const FRAG_VIA_PREROUTING = 0;
export const FRAG_VIA_OUTPUT = 1;

const EV_FIRST = 1;
const EV_DUPLICATE_FIRST = 2;
const EV_APPLIED = 3;
const EV_HELD = 4;

export class Ip4FragTrack extends Stage implements FragSink {
  readonly name: string;
  next!: Stage;
  private readonly frags: FragTable;
  private readonly drops: DropCounters;
  private readonly tableFull: number;
  private readonly holdFull: number;
  private readonly tooBig: number;
  private readonly timedOut: number;
  private readonly firstDropped: number;
  private readonly flowGone: number;
  private readonly firstTooShort: number;
  private readonly overlapsTcp: number;
  private readonly noRoom: number;

  constructor(
    pipe: Pipeline,
    private readonly ctx: RouterContext,
    private readonly ct: Conntrack,
    private readonly via: number,
    name = 'ip4-frag-track',
  ) {
    super();
    this.name = name;
    this.frags = ct.frags;
    this.drops = pipe.drops;
    this.tableFull = pipe.drops.register('frag-table-full');
    this.holdFull = pipe.drops.register('frag-hold-full');
    this.tooBig = pipe.drops.register('frag-hold-too-big');
    this.timedOut = pipe.drops.register('frag-timeout');
    this.firstDropped = pipe.drops.register('frag-first-dropped');
    this.flowGone = pipe.drops.register('frag-flow-gone');
    this.firstTooShort = pipe.drops.register('frag-first-too-short');
    this.overlapsTcp = pipe.drops.register('frag-overlaps-tcp-header');
    this.noRoom = pipe.drops.register('frag-release-no-room');
    ct.frags.sinks[via] = this;
  }

  /**
   * conntrack-in: slot s is a first fragment (offset 0, MF) it has classified. Registers it so
   * its later fragments can take its outcome; false when it was dropped.
   */
  first(pipe: Pipeline, s: number, nowMs: number): boolean {
    const d = pipe.batch.data;
    const m = pipe.meta;
    const frags = this.frags;
    const l3 = m.l3Off[s]!;
    const proto = d[l3 + 9]!;
    const payload = m.l3Len[s]! - (d[l3]! & 15) * 4;
    frags.slotEntry[s] = -1;
    if (payload < (proto === TCP ? 20 : proto === UDP || proto === ICMP ? 8 : 0)) {
      pipe.drop(s, this.firstTooShort);
      return false;
    }
    const src = u32(d, l3 + 12) | 0;
    const dst = u32(d, l3 + 16) | 0;
    const id = u16(d, l3 + 4);
    let e = frags.find(src, dst, proto, id);
    if (e === -1) {
      e = frags.create(src, dst, proto, id, FRAG_PENDING, nowMs);
      if (e < 0) {
        pipe.drop(s, this.tableFull);
        return false;
      }
    } else if (frags.state[e] === FRAG_PENDING || frags.state[e] === FRAG_RESOLVED) {
      // A duplicate first fragment: classified on its own, as any packet with ports.
      pipe.trace(s, this, EV_DUPLICATE_FIRST, id);
      return true;
    }
    // New, WAITING (later fragments came first), or DROPPED: a first fragment sent again gets
    // another chance, as its datagram would after a retransmission.
    frags.register(s, e, payload);
    pipe.trace(s, this, EV_FIRST, id, frags.heldHead[e]! >= 0 ? 1 : 0);
    return true;
  }

  /** Later fragments (from conntrack-in, or put back from the pool). */
  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const d = pipe.batch.data;
    const m = pipe.meta;
    const frags = this.frags;
    const table = this.ct.table;
    const nowMs = Math.round(this.ctx.now * 1000);
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const l3 = m.l3Off[s]!;
      const fo = u16(d, l3 + 6);
      const off8 = fo & 0x1fff;
      const proto = d[l3 + 9]!;
      const len = m.l3Len[s]!;
      if (proto === TCP && off8 < 3) {
        pipe.drop(s, this.overlapsTcp);
        continue;
      }
      const src = u32(d, l3 + 12) | 0;
      const dst = u32(d, l3 + 16) | 0;
      const id = u16(d, l3 + 4);
      let e = frags.find(src, dst, proto, id);
      let created = false;
      if (e === -1) {
        e = frags.create(src, dst, proto, id, FRAG_WAITING, nowMs);
        if (e < 0) {
          pipe.drop(s, this.tableFull);
          continue;
        }
        created = true;
      }
      const state = frags.state[e]!;
      if (state === FRAG_DROPPED) {
        pipe.drop(s, this.firstDropped);
        continue;
      }
      if (state !== FRAG_RESOLVED) {
        const r = frags.hold(e, d, l3, len, m.inPort[s]!, m.outPort[s]!, m.nextHop[s]!, this.via);
        if (r !== HOLD_OK) {
          if (created) frags.remove(e);
          pipe.drop(s, r === HOLD_TOO_BIG ? this.tooBig : this.holdFull);
          continue;
        }
        pipe.trace(s, this, EV_HELD, id, state === FRAG_PENDING ? 1 : 0);
        pipe.consume(s);
        continue;
      }
      // The first fragment's outcome. A flow that went meanwhile (or whose slot now holds another
      // tuple) cannot translate this fragment: better dropped than leaked untranslated.
      const h = frags.handle[e]!;
      const ctState = frags.ctState[e]!;
      if (h >= 0) {
        const f = h >>> 1;
        if (
          !table.isLive(f) ||
          ((ctState & CT_RELATED) === 0 && (table.src(h) !== src >>> 0 || table.dst(h) !== dst >>> 0))
        ) {
          pipe.drop(s, this.flowGone);
          continue;
        }
        m.ctMark[s] = table.getCtMark(f);
        table.account(h, len, nowMs);
      }
      m.ct[s] = h;
      m.ctState[s] = ctState;
      m.mark[s] = frags.mark[e]!;
      pipe.trace(s, this, EV_APPLIED, id, h + 1, ctState);
      frags.passed(e, off8, len - (d[l3]! & 15) * 4, (fo & 0x2000) !== 0);
      pipe.nextId(this.next.id, s);
    }
  }

  /** FragSink: held fragment p goes back into the pipeline here, as an originated packet. */
  release(table: FragTable, p: number): boolean {
    const o = this.ctx.originated;
    const slot = o.alloc(
      this,
      ETHERTYPE_IPV4,
      table.poolInPort[p]!,
      table.poolOutPort[p]!,
      table.poolNextHop[p]!,
    );
    if (slot < 0) {
      this.drops.count(this.noRoom);
      return false;
    }
    const ob = o.batch;
    const out = ob.data;
    const at = ob.offset[slot]!;
    const from = table.poolOffset(p);
    const len = table.poolLen[p]!;
    const pool = table.pool;
    for (let i = 0; i < len; i++) out[at + i] = pool[from + i]!;
    ob.length[slot] = len;
    return true;
  }

  /**
   * Engine timer (engine time `now` in seconds), between runs: entries whose first fragment was
   * dropped turn DROPPED, then entries past their deadline go; what they held is counted.
   */
  tick(now: number): void {
    const swept = this.frags.sweepPending();
    if (swept > 0) this.drops.count(this.firstDropped, swept);
    const expired = this.frags.expire(Math.round(now * 1000));
    if (expired > 0) this.drops.count(this.timedOut, expired);
  }

  override formatTrace = (e: number, id: number, a: number, b: number): string => {
    if (e === EV_FIRST)
      return `first fragment of datagram id ${id}: its outcome will be given to the later ones${a ? ' (some are held)' : ''}`;
    if (e === EV_DUPLICATE_FIRST) return `duplicate first fragment of datagram id ${id}: tracked on its own`;
    if (e === EV_HELD)
      return `fragment of datagram id ${id} held until its first fragment ${a ? 'has passed' : 'arrives'}`;
    // a: handle + 1 (trace words are unsigned), 0 for no flow.
    return a > 0
      ? `fragment of datagram id ${id}: ${(a - 1) & 1 ? 'reply' : 'original'} direction of flow ${(a - 1) >>> 1}, ct state ${stateText(b)}, as its first fragment`
      : `fragment of datagram id ${id}: no flow, ct state ${stateText(b)}, as its first fragment`;
  };
}

function stateText(st: number): string {
  return st & 8 ? 'INVALID' : st & 4 ? 'RELATED' : st & 2 ? 'ESTABLISHED' : st & 1 ? 'NEW' : 'untracked';
}
