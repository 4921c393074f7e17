/**
 * `reject with tcp-reset`: answers the offending TCP segment with a RST that seems to come from
 * the host it was addressed to, as Linux's nf_send_reset does for nft/iptables REJECT. The RST is
 * written into the originated batch and enters the graph at ip4-output like the router's other
 * packets; the offending packet itself is dropped by the caller.
 *
 * Sequence numbers follow RFC 9293 §3.10.7.1 (a segment arriving for a connection that does not
 * exist): if the segment carries ACK, the RST is <SEQ=SEG.ACK><CTL=RST>; otherwise it is
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, where SEG.LEN counts the payload plus one for SYN
 * and one for FIN. No RST answers a RST (same section: "An incoming segment containing a RST is
 * discarded"), a non-TCP packet, a fragment, a segment whose checksum is wrong (Linux checks it:
 * a corrupt segment's ports and sequence numbers cannot be trusted), or a packet to or from a
 * broadcast/multicast address.
 */
import { PKT_CSUM_NOT_READY, PKT_CSUM_VALID } from '../batch.js';
import { NO_PORT } from '../pipeline/packet-meta.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { Stage } from '../pipeline/stage.js';
import type { RouterContext } from '../stages/router-context.js';
import { setU16, setU32, u16, u32 } from '../wire/bytes.js';
import { checksum, pseudoSumV4, verify } from '../wire/checksum.js';
import { ETHERTYPE_IPV4 } from '../wire/ethernet.js';
import { IP_PROTO_TCP, IPV4_FLAG_DF, IPV4_HEADER_LEN } from '../wire/ipv4.js';
import {
  TCP_ACK,
  TCP_ACK_FLAG,
  TCP_CHECKSUM,
  TCP_DATA_OFF,
  TCP_FIN,
  TCP_FLAGS,
  TCP_HEADER_LEN,
  TCP_RST,
  TCP_SEQ,
  TCP_SYN,
} from '../wire/tcp.js';

export const RST_SENT = 0;
export const RST_NOT_TCP = 1;
export const RST_FRAGMENT = 2;
export const RST_TRUNCATED = 3;
export const RST_IS_RST = 4;
export const RST_BAD_CHECKSUM = 5;
export const RST_BROADCAST = 6;
export const RST_NO_ROOM = 7;

/** Why no RST was sent, for traces (indexed by RST_* outcome). */
export const RST_OUTCOME_TEXT: readonly string[] = [
  'sent',
  'not TCP',
  'a fragment (the whole segment is needed to answer it)',
  'truncated TCP header',
  'the segment is itself a RST (RFC 9293 §3.10.7.1: a RST is never answered)',
  'bad TCP checksum',
  'to or from a broadcast/multicast address',
  'no room in the originated batch',
];

const RST_LEN = IPV4_HEADER_LEN + TCP_HEADER_LEN;

export class TcpResetter {
  /** Sequence and acknowledgment numbers of the last RST sent (for traces). */
  lastSeq = 0;
  lastAck = 0;
  sent = 0;

  constructor(
    private readonly ctx: RouterContext,
    /** Where originated packets start: local-output routing (ip4-output). */
    private readonly entry: () => Stage,
  ) {}

  /** Answers the IPv4 packet in slot s with a RST when it may; returns an RST_* outcome. */
  send(pipe: Pipeline, s: number): number {
    const b = pipe.batch;
    const m = pipe.meta;
    const d = b.data;
    const l3 = m.l3Off[s]!;
    if (d[l3 + 9] !== IP_PROTO_TCP) return RST_NOT_TCP;
    if ((u16(d, l3 + 6) & 0x3fff) !== 0) return RST_FRAGMENT;
    const l4 = m.l4Off[s]!;
    const segLen = l3 + m.l3Len[s]! - l4;
    if (segLen < TCP_HEADER_LEN) return RST_TRUNCATED;
    const hl = (d[l4 + TCP_DATA_OFF]! >>> 4) * 4;
    if (hl < TCP_HEADER_LEN || hl > segLen) return RST_TRUNCATED;
    const flags = d[l4 + TCP_FLAGS]!;
    if ((flags & TCP_RST) !== 0) return RST_IS_RST;
    const src = u32(d, l3 + 12);
    const dst = u32(d, l3 + 16);
    if (src === 0 || src >>> 28 >= 14 || dst >>> 28 >= 14 || this.ctx.local.isBroadcast(dst))
      return RST_BROADCAST;
    // Trust what the kernel already checked (or will fill in) for us; verify otherwise.
    if (
      (b.flags[s]! & (PKT_CSUM_VALID | PKT_CSUM_NOT_READY)) === 0 &&
      !verify(d, l4, segLen, pseudoSumV4(src, dst, IP_PROTO_TCP, segLen))
    )
      return RST_BAD_CHECKSUM;

    const o = this.ctx.originated;
    const slot = o.alloc(this.entry(), ETHERTYPE_IPV4, NO_PORT);
    if (slot < 0) return RST_NO_ROOM;
    let seq = 0;
    let ack = 0;
    let outFlags = TCP_RST;
    if ((flags & TCP_ACK_FLAG) !== 0) {
      seq = u32(d, l4 + TCP_ACK);
    } else {
      const segLenSeq = segLen - hl + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0);
      ack = (u32(d, l4 + TCP_SEQ) + segLenSeq) >>> 0;
      outFlags |= TCP_ACK_FLAG;
    }
    const ob = o.batch;
    const out = ob.data;
    const at = ob.offset[slot]!;
    // IPv4: no options, TOS 0, id 0 with DF set (an atomic datagram, RFC 6864), TTL 64.
    out[at] = 0x45;
    out[at + 1] = 0;
    setU16(out, at + 2, RST_LEN);
    setU16(out, at + 4, 0);
    setU16(out, at + 6, IPV4_FLAG_DF);
    out[at + 8] = 64;
    out[at + 9] = IP_PROTO_TCP;
    setU16(out, at + 10, 0);
    setU32(out, at + 12, dst);
    setU32(out, at + 16, src);
    setU16(out, at + 10, checksum(out, at, IPV4_HEADER_LEN));
    // TCP: ports swapped, no options, window 0, no urgent data.
    const t = at + IPV4_HEADER_LEN;
    setU16(out, t, u16(d, l4 + 2));
    setU16(out, t + 2, u16(d, l4));
    setU32(out, t + TCP_SEQ, seq);
    setU32(out, t + TCP_ACK, ack);
    out[t + TCP_DATA_OFF] = (TCP_HEADER_LEN / 4) << 4;
    out[t + TCP_FLAGS] = outFlags;
    setU32(out, t + 14, 0); // window and checksum
    setU16(out, t + 18, 0);
    setU16(
      out,
      t + TCP_CHECKSUM,
      checksum(out, t, TCP_HEADER_LEN, pseudoSumV4(dst, src, IP_PROTO_TCP, TCP_HEADER_LEN)),
    );
    ob.length[slot] = RST_LEN;
    this.lastSeq = seq;
    this.lastAck = ack;
    this.sent++;
    return RST_SENT;
  }
}
