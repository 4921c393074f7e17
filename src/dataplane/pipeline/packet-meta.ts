/**
 * Per-packet metadata that travels with a packet through the stages of one pipeline run
 * (Click's annotations, VPP's buffer opaque). Structure-of-arrays indexed by batch slot, so a
 * run allocates nothing. Each entry stage initialises the fields it owns for every packet it
 * admits; later stages only read what an earlier stage wrote.
 */
export const NO_PORT = 0xffff;
/**
 * Bytes a stage may prepend to a packet (a new Ethernet header for a packet from a TUN, an
 * L2TPv3 + IP + Ethernet encapsulation). They live beside the batch, not in it, so RX memory needs
 * no headroom: ports transmit `head` followed by the packet's bytes in the batch (a gather write).
 */
export const HEAD_MAX = 96;
/** u16 values per slot of `PacketMeta.txOffload`: the port side table's layout (port-meta.ts META_STRIDE). */
export const TX_OFFLOAD_STRIDE = 8;

/**
 * NAT requests a chain records for the NAT stage (`PacketMeta.natKind`): the classifier decides,
 * the conntrack/NAT stage translates and binds the translation to the flow.
 */
export const NAT_NONE = 0;
export const NAT_MASQUERADE = 1;
export const NAT_SNAT = 2;
export const NAT_DNAT = 3;

/** `PacketMeta.vnetFlags`: virtio-net header flags (port-meta.ts VIRTIO_NET_HDR_F_*). */
export const OFFLOAD_NEEDS_CSUM = 1;
export const OFFLOAD_DATA_VALID = 2;

/** True when slot `s` carries a partial L4 checksum (CHECKSUM_PARTIAL: the field holds the pseudo-header sum). */
export function partialCsum(m: PacketMeta, s: number): boolean {
  return (m.vnetFlags[s]! & OFFLOAD_NEEDS_CSUM) !== 0;
}

export class PacketMeta {
  /** Port the packet arrived on (NO_PORT for locally generated packets). */
  readonly inPort: Uint16Array;
  /** Port chosen by routing / bridging (NO_PORT until decided). */
  readonly outPort: Uint16Array;
  /** Offset in the batch slab of the L2 header (or of L3 on an L3 port); may move backwards into headroom. */
  readonly l2Off: Uint32Array;
  /** Offset of the network header. */
  readonly l3Off: Uint32Array;
  /** Offset of the transport header (0 when none / not yet parsed). */
  readonly l4Off: Uint32Array;
  /** Bytes from l3Off to the end of the IP packet (IP total length, excluding L2 padding). */
  readonly l3Len: Uint32Array;
  /** EtherType of the network layer (0x0800, 0x86dd, 0x0806) — also set for packets from L3 ports. */
  readonly etherType: Uint16Array;
  /** Firewall mark (iptables MARK / nft meta mark). */
  readonly mark: Uint32Array;
  /** Connection mark copied from / to conntrack (CONNMARK). */
  readonly ctMark: Uint32Array;
  /** Conntrack state bits of the packet (CT_NEW 1, CT_ESTABLISHED 2, CT_RELATED 4, CT_INVALID 8); 0 = untracked. */
  readonly ctState: Uint8Array;
  /** NAT requested by a chain (NAT_*); NAT_NONE when none. */
  readonly natKind: Uint8Array;
  /** IPv4 address to translate to (snat/dnat; 0 for masquerade: the egress port's address). */
  readonly natAddr: Uint32Array;
  /** IPv6 address to translate to, 16 bytes per slot (when the request is for an IPv6 packet). */
  readonly natAddr6: Uint8Array;
  /** Port range to translate to, inclusive; 0..0 keeps the packet's port. */
  readonly natPortMin: Uint16Array;
  readonly natPortMax: Uint16Array;
  /** Conntrack handle (flow × 2 + direction), -1 when untracked. */
  readonly ct: Int32Array;
  /** Next hop IPv4 address chosen by routing (0 = the destination itself, on-link). */
  readonly nextHop: Uint32Array;
  /** Routing table id and policy rule index that decided, for traces. */
  readonly table: Uint32Array;
  readonly rule: Int32Array;
  /** Drop reason id (DropCounters) when the packet was dropped. */
  readonly dropReason: Uint16Array;
  /** Trace flag: non-zero when this packet is being traced (its trace id). */
  readonly traceId: Uint32Array;
  /** Prepended bytes per slot: head[slot * HEAD_MAX .. + headLen[slot]). */
  readonly head: Uint8Array;
  readonly headLen: Uint8Array;
  /**
   * The offload descriptor a vnet port received with the packet (virtio-net header, port-meta.ts),
   * 0 everywhere for packets without one (other ports, packets the router made). NEEDS_CSUM: the
   * L4 checksum field holds the pseudo-header sum, completed on the way out (CHECKSUM_PARTIAL).
   * gsoType ≠ 0: a super-frame the egress device cuts into gsoSize-byte segments.
   * csumStart and hdrLen are counted from the start of the frame as received (l2Off); eth-output
   * moves them to the transmitted frame's layout (a TUN has no Ethernet header).
   */
  readonly vnetFlags: Uint8Array;
  readonly gsoType: Uint8Array;
  readonly gsoSize: Uint16Array;
  readonly hdrLen: Uint16Array;
  readonly csumStart: Uint16Array;
  readonly csumOffset: Uint16Array;
  /** The virtio-net header per slot as a vnet port transmits it (port-meta.ts layout), written by eth-output. */
  readonly txOffload: Uint16Array;

  constructor(readonly capacity: number) {
    this.inPort = new Uint16Array(capacity);
    this.outPort = new Uint16Array(capacity);
    this.l2Off = new Uint32Array(capacity);
    this.l3Off = new Uint32Array(capacity);
    this.l4Off = new Uint32Array(capacity);
    this.l3Len = new Uint32Array(capacity);
    this.etherType = new Uint16Array(capacity);
    this.mark = new Uint32Array(capacity);
    this.ctMark = new Uint32Array(capacity);
    this.ctState = new Uint8Array(capacity);
    this.natKind = new Uint8Array(capacity);
    this.natAddr = new Uint32Array(capacity);
    this.natAddr6 = new Uint8Array(capacity * 16);
    this.natPortMin = new Uint16Array(capacity);
    this.natPortMax = new Uint16Array(capacity);
    this.ct = new Int32Array(capacity);
    this.nextHop = new Uint32Array(capacity);
    this.table = new Uint32Array(capacity);
    this.rule = new Int32Array(capacity);
    this.dropReason = new Uint16Array(capacity);
    this.traceId = new Uint32Array(capacity);
    this.head = new Uint8Array(capacity * HEAD_MAX);
    this.headLen = new Uint8Array(capacity);
    this.vnetFlags = new Uint8Array(capacity);
    this.gsoType = new Uint8Array(capacity);
    this.gsoSize = new Uint16Array(capacity);
    this.hdrLen = new Uint16Array(capacity);
    this.csumStart = new Uint16Array(capacity);
    this.csumOffset = new Uint16Array(capacity);
    this.txOffload = new Uint16Array(capacity * TX_OFFLOAD_STRIDE);
  }

  /**
   * `admit` for slots 0..n-1 at once, from a batch's ports and offsets: the per-slot copies in one
   * loop, the constant resets as fills.
   */
  admitAll(port: Uint16Array, offset: Uint32Array, n: number): void {
    for (let i = 0; i < n; i++) {
      const o = offset[i]!;
      this.inPort[i] = port[i]!;
      this.l2Off[i] = o;
      this.l3Off[i] = o;
    }
    this.outPort.fill(NO_PORT, 0, n);
    this.l4Off.fill(0, 0, n);
    this.l3Len.fill(0, 0, n);
    this.etherType.fill(0, 0, n);
    this.mark.fill(0, 0, n);
    this.ctMark.fill(0, 0, n);
    this.ctState.fill(0, 0, n);
    this.natKind.fill(NAT_NONE, 0, n);
    this.ct.fill(-1, 0, n);
    this.nextHop.fill(0, 0, n);
    this.table.fill(0, 0, n);
    this.rule.fill(-1, 0, n);
    this.dropReason.fill(0, 0, n);
    this.headLen.fill(0, 0, n);
    this.vnetFlags.fill(0, 0, n);
    this.gsoType.fill(0, 0, n);
  }

  /**
   * Copies the offload descriptors of slots 0..n-1 from a vnet port's side table (port-meta.ts
   * layout, `META_STRIDE` u16 per slot).
   */
  offloadsFrom(rxMeta: Uint16Array, n: number): void {
    for (let i = 0; i < n; i++) {
      const x = i * TX_OFFLOAD_STRIDE;
      this.vnetFlags[i] = rxMeta[x + 1]!;
      this.gsoType[i] = rxMeta[x + 2]!;
      this.hdrLen[i] = rxMeta[x + 3]!;
      this.gsoSize[i] = rxMeta[x + 4]!;
      this.csumStart[i] = rxMeta[x + 5]!;
      this.csumOffset[i] = rxMeta[x + 6]!;
    }
  }

  /** Resets slot i to "just received on port `port`". */
  admit(i: number, port: number, offset: number): void {
    this.inPort[i] = port;
    this.outPort[i] = NO_PORT;
    this.l2Off[i] = offset;
    this.l3Off[i] = offset;
    this.l4Off[i] = 0;
    this.l3Len[i] = 0;
    this.etherType[i] = 0;
    this.mark[i] = 0;
    this.ctMark[i] = 0;
    this.ctState[i] = 0;
    this.natKind[i] = NAT_NONE;
    this.ct[i] = -1;
    this.nextHop[i] = 0;
    this.table[i] = 0;
    this.rule[i] = -1;
    this.dropReason[i] = 0;
    this.headLen[i] = 0;
    this.vnetFlags[i] = 0;
    this.gsoType[i] = 0;
  }
}
