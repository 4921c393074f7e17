/**
 * Numbers shared by the flow table and the stages that read it: handles, status bits, key packing
 * and the word offsets inside the per-flow protocol and NAT areas. The byte budget per flow is in
 * README.md next to this file.
 */

/**
 * A handle names one direction of one flow: `flow * 2 + dir`. Direction 0 is the original
 * (the packet that created the flow), 1 the reply — netfilter's IP_CT_DIR_ORIGINAL / _REPLY.
 */
export const DIR_ORIGINAL = 0;
export const DIR_REPLY = 1;

export function handleFlow(handle: number): number {
  return handle >>> 1;
}

export function handleDir(handle: number): number {
  return handle & 1;
}

// ---- status bits (one byte per flow) --------------------------------------------------------
// Modelled on netfilter's IPS_* bits; only ASSURED changes what the table itself does.

/** A packet was seen in the reply direction (IPS_SEEN_REPLY). */
export const CT_SEEN_REPLY = 1 << 0;
/**
 * The flow proved itself (TCP: handshake completed; UDP: reply seen) and is protected from
 * early drop when the table is full (IPS_ASSURED; netfilter `early_drop` skips assured entries).
 */
export const CT_ASSURED = 1 << 1;
/** The flow is being torn down; the tracker may still look at it (IPS_DYING). */
export const CT_DYING = 1 << 2;
/** Source NAT applies: original-direction packets get a new source (IPS_SRC_NAT). */
export const CT_NAT_SRC = 1 << 3;
/** Destination NAT applies: original-direction packets get a new destination (IPS_DST_NAT). */
export const CT_NAT_DST = 1 << 4;
/** Bits a caller may set or clear; the top bit is the table's own in-use marker. */
export const CT_STATUS_MASK = 0x7f;
/** Internal: the slot holds a live flow. */
export const CT_IN_USE = 1 << 7;

// ---- key packing --------------------------------------------------------------------------
// An IPv4 key is four u32 words: [src, dst, sport << 16 | dport, proto << 16 | zone].
// The zone (netfilter's conntrack zone, or an ifindex) keeps overlapping address spaces apart.
// For ICMP, as netfilter does, sport carries the echo identifier and dport type << 8 | code.

export const KEY_WORDS_V4 = 4;

export function packPorts(sport: number, dport: number): number {
  return ((sport << 16) | (dport & 0xffff)) >>> 0;
}

export function packProtoZone(proto: number, zone: number): number {
  return ((proto & 0xff) << 16) | (zone & 0xffff);
}

// ---- protocol state area (PROTO_WORDS u32 per flow) ---------------------------------------
// Room for netfilter's TCP window tracking (struct ip_ct_tcp): per direction td_end, td_maxend,
// td_maxwin, td_maxack and the window scale with the per-direction flags; then what the tracker
// remembers about the last packet to count retransmissions (last_seq/ack/end/win and a packed
// word for last_dir, last_index, retrans, last_wscale, last_flags). UDP/ICMP leave it zero.
// Word of direction d: PROTO_WORDS * flow + PROTO_DIR_WORDS * d + TD_*.

export const PROTO_WORDS = 15;
export const PROTO_DIR_WORDS = 5;
/** Highest sequence number sent + length (sender's right edge). */
export const TD_END = 0;
/** Highest acknowledged sequence + receiver window: what the peer may send up to. */
export const TD_MAXEND = 1;
/** Largest window seen from this sender (scaled). */
export const TD_MAXWIN = 2;
/** Highest ACK seen from this sender (RST validity check). */
export const TD_MAXACK = 3;
/** Window scale (bits 0–7) and per-direction tracker flags (bits 8–15). */
export const TD_SCALE_FLAGS = 4;
export const TCP_LAST_SEQ = 10;
export const TCP_LAST_ACK = 11;
export const TCP_LAST_END = 12;
export const TCP_LAST_WIN = 13;
/** last_dir (bit 0), last_index (bits 1–3), retrans count (bits 8–15), last_wscale (16–23), last_flags (24–31). */
export const TCP_LAST_MISC = 14;

// ---- NAT rewrite area (NAT_WORDS u32 per flow) --------------------------------------------
// What a packet of direction d is rewritten to, so the fast path does not derive it from the
// opposite tuple per packet, plus the RFC 1624 checksum adjustments computed once at binding
// time (VPP nat44-ed keeps l3/l4 checksum deltas per flow direction for the same reason).
// Word of direction d: NAT_WORDS * flow + NAT_DIR_WORDS * d + NAT_*.

export const NAT_WORDS = 8;
export const NAT_DIR_WORDS = 4;
export const NAT_SRC = 0;
export const NAT_DST = 1;
/** New sport << 16 | new dport. */
export const NAT_PORTS = 2;
/** IPv4 header checksum adjustment (bits 16–31) and L4 checksum adjustment (bits 0–15). */
export const NAT_CSUM = 3;
