/** IPv4 fragmentation and reassembly for the fragment tests, with ferry's own IPv4 codec. */
import { verify } from '../../../src/dataplane/wire/checksum.js';
import {
  emitIpv4,
  IPV4_FLAG_MF,
  Ipv4View,
  ipv4HeaderLen,
  parseIpv4,
} from '../../../src/dataplane/wire/ipv4.js';

/** The IPv4 header of p, after checking its checksum (the payload of a fragment has no L4 to check). */
export function ipv4(p: Uint8Array): Ipv4View {
  const v = new Ipv4View();
  if (v.wrap(p, 0, p.length) !== 0) throw new Error('not an IPv4 packet');
  if (!verify(p, 0, v.headerLen)) throw new Error('bad IP header checksum');
  return v;
}

/**
 * Cuts the IPv4 datagram `pkt` (not a fragment) into fragments of at most `chunk` payload bytes
 * (rounded down to 8), or at the given payload offsets (multiples of 8, increasing) when `cuts`
 * is an array, as RFC 791 §3.2 does: same id, MF on all but the last.
 */
export function fragment(pkt: Uint8Array, cuts: number | number[]): Uint8Array[] {
  const r = parseIpv4(ipv4(pkt));
  const hl = ipv4HeaderLen(r);
  const payload = pkt.subarray(hl, hl + r.payloadLen);
  const at: number[] = [];
  if (typeof cuts === 'number') for (let o = 0; o < payload.length; o += cuts & ~7) at.push(o);
  else at.push(0, ...cuts);
  return at.map((o, i) => piece(r, payload, o, i + 1 < at.length ? at[i + 1]! : payload.length));
}

/** One fragment of the datagram with header `r`: payload bytes [from, to). */
export function piece(
  r: ReturnType<typeof parseIpv4>,
  payload: Uint8Array,
  from: number,
  to: number,
): Uint8Array {
  const last = to >= payload.length;
  const f = { ...r, fragOffset: from, payloadLen: to - from, flags: last ? r.flags : r.flags | IPV4_FLAG_MF };
  const out = new Uint8Array(ipv4HeaderLen(f) + f.payloadLen);
  const n = emitIpv4(f, out, 0);
  out.set(payload.subarray(from, to), n);
  return out;
}

/**
 * Reassembles fragments (any order; every header checksum checked, all of one datagram) into the
 * datagram, so its L4 checksum can be verified against the addresses it left with.
 */
export function reassemble(frags: Uint8Array[]): Uint8Array {
  const views = frags.map((f) => ({ f, v: ipv4(f) }));
  const first = views.find((x) => x.v.fragOffset === 0);
  if (!first) throw new Error('no first fragment');
  const key = (v: Ipv4View) => `${v.src} ${v.dst} ${v.protocol} ${v.id}`;
  let total = -1;
  for (const { v } of views) {
    if (key(v) !== key(first.v)) throw new Error(`fragment of another datagram: ${key(v)}`);
    if (!v.moreFragments) total = v.fragOffset + v.payloadLen;
  }
  if (total < 0) throw new Error('no last fragment');
  const r = parseIpv4(first.v);
  const hl = ipv4HeaderLen(r);
  const out = new Uint8Array(hl + total);
  const covered = new Uint8Array(total);
  emitIpv4({ ...r, flags: r.flags & ~IPV4_FLAG_MF, fragOffset: 0, payloadLen: total }, out, 0);
  for (const { f, v } of views) {
    out.set(f.subarray(v.headerLen, v.headerLen + v.payloadLen), hl + v.fragOffset);
    covered.fill(1, v.fragOffset, v.fragOffset + v.payloadLen);
  }
  if (covered.includes(0)) throw new Error('a hole in the datagram');
  return out;
}
