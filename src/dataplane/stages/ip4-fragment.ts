/**
 * ip4-fragment: cuts IPv4 packets larger than the egress MTU into fragments (RFC 791 §3.2), after
 * the postrouting hook as Linux does. The payload is cut in multiples of 8 bytes; the first
 * fragment keeps all options, later ones only options with the "copied" bit; MF is set on all but
 * the last (which keeps the original's MF, for re-fragmenting a fragment). Fragments are new
 * packets and continue, already routed, at eth-output. (DF packets never get here: ip4-forward
 * answered them with "fragmentation needed".)
 */
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { setU16, u16 } from '../wire/bytes.js';
import { checksum } from '../wire/checksum.js';
import { ETHERTYPE_IPV4 } from '../wire/ethernet.js';
import { ORIGINATED_SLOT_BYTES } from './originator.js';
import type { RouterContext } from './router-context.js';

const EV_FRAGMENTED = 1;

export class Ip4Fragment extends Stage {
  readonly name = 'ip4-fragment';
  private readonly fragFailed: number;
  private readonly gsoNoOffload: number;
  /** Options copied into non-first fragments (at most 40 bytes of options exist). */
  private readonly copied = new Uint8Array(40);
  fragmentedPackets = 0;
  fragmentsMade = 0;
  next!: Stage;
  /** Where fragments continue: eth-output. */
  fragmentsTo!: Stage;

  constructor(
    pipe: Pipeline,
    private readonly ctx: RouterContext,
  ) {
    super();
    this.fragFailed = pipe.drops.register('ip4-fragmentation-failed');
    this.gsoNoOffload = pipe.drops.register('ip4-gso-port-without-offload');
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const m = pipe.meta;
    const mtus = this.ctx.portMtu;
    let fit = 0;
    while (fit < n && m.l3Len[slots[fit]!]! <= mtus[m.outPort[slots[fit]!]!]!) fit++;
    if (fit === n) {
      pipe.nextAll(this.next.id, slots, n);
      return;
    }
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const mtu = mtus[m.outPort[s]!]!;
      if (m.l3Len[s]! <= mtu) {
        pipe.nextId(this.next.id, s);
        continue;
      }
      if (m.gsoType[s] !== 0) {
        // A super-frame is segmented by the egress device, never fragmented here (ip4-forward
        // passes one only when its segments fit an offloading port).
        if (this.ctx.portOffload[m.outPort[s]!] === 1) pipe.nextId(this.next.id, s);
        else pipe.drop(s, this.gsoNoOffload);
        continue;
      }
      const pieces = this.fragment(pipe, s, mtu);
      pipe.trace(s, this, EV_FRAGMENTED, pieces, mtu);
      if (pieces === 0) {
        pipe.drop(s, this.fragFailed);
        continue;
      }
      this.fragmentedPackets++;
      this.fragmentsMade += pieces;
      pipe.consume(s);
    }
  }

  /**
   * RFC 791 §3.2 fragmentation into originated packets that continue at `fragmentsTo`: payload
   * cut in multiples of 8 bytes; the first fragment keeps all options, later ones only options
   * with the "copied" bit; MF set on all but the last (and kept if the original had it).
   * Returns the number of fragments, 0 when they did not fit.
   */
  private fragment(pipe: Pipeline, s: number, mtu: number): number {
    const src = pipe.batch.data;
    const m = pipe.meta;
    const l3 = m.l3Off[s]!;
    const hl = (src[l3]! & 15) * 4;
    const total = m.l3Len[s]!;
    const origFlags = u16(src, l3 + 6);
    const origOffset8 = origFlags & 0x1fff;
    const origMf = origFlags & 0x2000;
    // Options that must be copied into every fragment (type bit 7), padded to 4 bytes.
    const copied = this.copied;
    let nCopied = 0;
    for (let o = l3 + 20; o < l3 + hl; ) {
      const t = src[o]!;
      if (t === 0) break;
      if (t === 1) {
        o++;
        continue;
      }
      const len = src[o + 1]!;
      if (t & 0x80) for (let i = 0; i < len; i++) copied[nCopied++] = src[o + i]!;
      o += len;
    }
    while (nCopied % 4) copied[nCopied++] = 0;
    const laterHl = 20 + nCopied;
    const orig = this.ctx.originated;
    let pos = 0;
    let count = 0;
    const payload = total - hl;
    while (pos < payload) {
      const thisHl = pos === 0 ? hl : laterHl;
      let chunk = Math.min(payload - pos, (mtu - thisHl) & ~7);
      if (chunk <= 0 || thisHl + chunk > ORIGINATED_SLOT_BYTES) return 0;
      const last = pos + chunk >= payload;
      if (last) chunk = payload - pos;
      const slot = orig.alloc(this.fragmentsTo, ETHERTYPE_IPV4, m.inPort[s]!, m.outPort[s]!, m.nextHop[s]!);
      if (slot < 0) return 0;
      const ob = orig.batch;
      const out = ob.data;
      const at = ob.offset[slot]!;
      for (let i = 0; i < 20; i++) out[at + i] = src[l3 + i]!;
      if (pos === 0) for (let i = 20; i < hl; i++) out[at + i] = src[l3 + i]!;
      else for (let i = 0; i < nCopied; i++) out[at + 20 + i] = copied[i]!;
      out[at] = 0x40 | (thisHl >> 2);
      setU16(out, at + 2, thisHl + chunk);
      const mf = last ? origMf : 0x2000;
      setU16(out, at + 6, (origFlags & 0x8000) | mf | (origOffset8 + (pos >> 3)));
      setU16(out, at + 10, 0);
      setU16(out, at + 10, checksum(out, at, thisHl));
      for (let i = 0; i < chunk; i++) out[at + thisHl + i] = src[l3 + hl + pos + i]!;
      ob.length[slot] = thisHl + chunk;
      pos += chunk;
      count++;
    }
    return count;
  }

  override formatTrace = (_e: number, pieces: number, mtu: number): string =>
    pieces
      ? `too big for mtu ${mtu}: cut into ${pieces} fragments`
      : `too big for mtu ${mtu} and could not be fragmented`;
}
