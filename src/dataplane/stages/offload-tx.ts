/**
 * Offload descriptors on the way out (offloads 'vnet', PacketMeta.vnetFlags/gsoType/...): the
 * virtio-net header a port transmits, and the software completion of a partial checksum
 * (CHECKSUM_PARTIAL) for packets that leave where no device will complete it.
 */
import { OFFLOAD_NEEDS_CSUM, type PacketMeta, TX_OFFLOAD_STRIDE } from '../pipeline/packet-meta.js';
import { setU16 } from '../wire/bytes.js';
import { fold, sum16 } from '../wire/checksum.js';

/** Writes slot s's offload descriptor for its frame as transmitted (head + body). */
export function writeTxOffload(m: PacketMeta, s: number, bodyOff: number): void {
  const x = s * TX_OFFLOAD_STRIDE;
  const t = m.txOffload;
  const flags = m.vnetFlags[s]! & OFFLOAD_NEEDS_CSUM;
  const gso = m.gsoType[s]!;
  if (flags === 0 && gso === 0) {
    t.fill(0, x, x + TX_OFFLOAD_STRIDE);
    return;
  }
  // L3 header position in the received frame vs in the transmitted one.
  const shift = m.headLen[s]! + (m.l3Off[s]! - bodyOff) - (m.l3Off[s]! - m.l2Off[s]!);
  const hdrLen = m.hdrLen[s]!;
  t[x] = 0;
  t[x + 1] = flags;
  t[x + 2] = gso;
  t[x + 3] = hdrLen === 0 ? 0 : hdrLen + shift;
  t[x + 4] = m.gsoSize[s]!;
  t[x + 5] = flags === 0 ? 0 : m.csumStart[s]! + shift;
  t[x + 6] = flags === 0 ? 0 : m.csumOffset[s]!;
  t[x + 7] = 0;
}

/**
 * Completes a partial checksum in place: the one's-complement sum from csum_start to the end of the
 * IP packet (the field holds the pseudo-header sum, so it is included), complemented; a result of
 * 0 is sent as 0xffff (CSUM_MANGLED_0: UDP's "no checksum").
 */
export function completeCsum(d: Uint8Array, m: PacketMeta, s: number): void {
  const start = m.l2Off[s]! + m.csumStart[s]!;
  completeCsumAt(d, start, m.l3Off[s]! + m.l3Len[s]!, m.csumOffset[s]!);
  m.vnetFlags[s] = m.vnetFlags[s]! & ~OFFLOAD_NEEDS_CSUM;
}

/** `completeCsum` on a copy of the packet: sums d[start..end), writes at start + csumOffset. */
export function completeCsumAt(d: Uint8Array, start: number, end: number, csumOffset: number): void {
  const c = ~fold(sum16(d, start, end - start)) & 0xffff;
  setU16(d, start + csumOffset, c === 0 ? 0xffff : c);
}
