/**
 * Ethernet II frames (IEEE 802.3 §3.2.6) with up to two VLAN tags: 802.1Q (TPID 0x8100) and
 * 802.1ad service tags (TPID 0x88a8, also the pre-standard 0x9100) in front of it.
 *
 *   0      6      12            12+4*n     14+4*n
 *   | dst  | src  | [TPID TCI]* | EtherType | payload …
 *
 * The FCS is not part of what AF_PACKET or pcap hand us, so it is not modelled.
 */
import { EMPTY, setU16, u16, u48 } from './bytes.js';
import { WireError } from './errors.js';

export const ETH_DST = 0;
export const ETH_SRC = 6;
export const ETH_TYPE = 12;
export const ETH_HEADER_LEN = 14;
export const VLAN_TAG_LEN = 4;
/** Tags we walk before giving up (QinQ = 2). */
export const MAX_VLAN_TAGS = 2;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERTYPE_QINQ_OLD = 0x9100;
export const ETHERTYPE_IPV6 = 0x86dd;

function isTagTpid(t: number): boolean {
  return t === ETHERTYPE_VLAN || t === ETHERTYPE_QINQ || t === ETHERTYPE_QINQ_OLD;
}

/** Zero-copy view of one Ethernet frame. Reuse one instance per stage: `wrap()` re-points it. */
export class EthernetView {
  buf: Uint8Array = EMPTY;
  off = 0;
  len = 0;
  /** Number of VLAN tags between the source MAC and the EtherType (0..MAX_VLAN_TAGS). */
  tags = 0;

  /** Points the view at buf[off..off+len); checks the header (and any tags) fit. */
  wrap(buf: Uint8Array, off: number, len: number): WireError {
    this.buf = buf;
    this.off = off;
    this.len = len;
    this.tags = 0;
    if (len < ETH_HEADER_LEN || off + len > buf.length) return WireError.Truncated;
    let t = u16(buf, off + ETH_TYPE);
    while (isTagTpid(t)) {
      if (this.tags === MAX_VLAN_TAGS) return WireError.TooDeep;
      this.tags++;
      if (len < ETH_HEADER_LEN + this.tags * VLAN_TAG_LEN) return WireError.Truncated;
      t = u16(buf, off + ETH_TYPE + this.tags * VLAN_TAG_LEN);
    }
    return WireError.Ok;
  }

  /** Destination MAC as a 48-bit number (exact in a double). */
  get dst(): number {
    return u48(this.buf, this.off);
  }

  get src(): number {
    return u48(this.buf, this.off + ETH_SRC);
  }

  /** I/G bit of the destination: broadcast or multicast. */
  get isMulticastDst(): boolean {
    return (this.buf[this.off]! & 1) === 1;
  }

  get isBroadcastDst(): boolean {
    const b = this.buf;
    const o = this.off;
    return (b[o]! & b[o + 1]! & b[o + 2]! & b[o + 3]! & b[o + 4]! & b[o + 5]!) === 0xff;
  }

  /** The EtherType after any VLAN tags. */
  get etherType(): number {
    return u16(this.buf, this.off + ETH_TYPE + this.tags * VLAN_TAG_LEN);
  }

  set etherType(v: number) {
    setU16(this.buf, this.off + ETH_TYPE + this.tags * VLAN_TAG_LEN, v);
  }

  /** TPID of tag i (0 = outermost). */
  tagTpid(i: number): number {
    return u16(this.buf, this.off + ETH_TYPE + i * VLAN_TAG_LEN);
  }

  /** Full TCI (PCP:3 DEI:1 VID:12) of tag i. */
  tagTci(i: number): number {
    return u16(this.buf, this.off + ETH_TYPE + i * VLAN_TAG_LEN + 2);
  }

  tagVid(i: number): number {
    return this.tagTci(i) & 0x0fff;
  }

  tagPcp(i: number): number {
    return this.tagTci(i) >>> 13;
  }

  tagDei(i: number): number {
    return (this.tagTci(i) >>> 12) & 1;
  }

  setTagTci(i: number, tci: number): void {
    setU16(this.buf, this.off + ETH_TYPE + i * VLAN_TAG_LEN + 2, tci);
  }

  /** Offset within the frame where the payload (the L3 header) starts. */
  get headerLen(): number {
    return ETH_HEADER_LEN + this.tags * VLAN_TAG_LEN;
  }

  /** Absolute offset of the payload in `buf`. */
  get payloadOff(): number {
    return this.off + this.headerLen;
  }

  get payloadLen(): number {
    return this.len - this.headerLen;
  }
}

export interface VlanTag {
  tpid: number;
  pcp: number;
  dei: number;
  vid: number;
}

/** Plain representation of an Ethernet header (for building frames and for tests). */
export interface EthernetRepr {
  dst: Uint8Array;
  src: Uint8Array;
  /** Outermost first. */
  vlans: VlanTag[];
  etherType: number;
}

export function parseEthernet(v: EthernetView): EthernetRepr {
  const vlans: VlanTag[] = [];
  for (let i = 0; i < v.tags; i++) {
    vlans.push({ tpid: v.tagTpid(i), pcp: v.tagPcp(i), dei: v.tagDei(i), vid: v.tagVid(i) });
  }
  return {
    dst: v.buf.slice(v.off, v.off + 6),
    src: v.buf.slice(v.off + 6, v.off + 12),
    vlans,
    etherType: v.etherType,
  };
}

export function ethernetHeaderLen(r: EthernetRepr): number {
  return ETH_HEADER_LEN + r.vlans.length * VLAN_TAG_LEN;
}

/** Writes the header into buf at off; returns its length. The caller writes the payload after it. */
export function emitEthernet(r: EthernetRepr, buf: Uint8Array, off: number): number {
  const n = ethernetHeaderLen(r);
  if (off + n > buf.length) throw new RangeError(`ethernet header needs ${n} bytes at ${off}`);
  buf.set(r.dst.subarray(0, 6), off);
  buf.set(r.src.subarray(0, 6), off + 6);
  let o = off + ETH_TYPE;
  for (const t of r.vlans) {
    setU16(buf, o, t.tpid);
    setU16(buf, o + 2, ((t.pcp & 7) << 13) | ((t.dei & 1) << 12) | (t.vid & 0xfff));
    o += VLAN_TAG_LEN;
  }
  setU16(buf, o, r.etherType);
  return n;
}
