/**
 * A vector of packets, the unit every stage works on (VPP's frame, Snabb's breath).
 *
 * Packet bytes live in one slab; per-packet metadata lives in parallel typed arrays indexed by
 * slot. Nothing is allocated per packet: a batch is created once per port and refilled.
 * Timestamps are split into whole seconds and nanoseconds so pcap/pcapng round-trip exactly.
 */
export class PacketBatch {
  /** Number of valid slots. */
  count = 0;
  /** Bytes of all packets; slot i is data[offset[i] .. offset[i] + length[i]). */
  data: Uint8Array;
  readonly offset: Uint32Array;
  readonly length: Uint32Array;
  /** Original length on the wire (may exceed `length` when a capture was truncated). */
  readonly wireLength: Uint32Array;
  readonly tsSec: Float64Array;
  readonly tsNsec: Uint32Array;
  /** Index of the port (or capture interface) the packet came from / goes to. */
  readonly port: Uint16Array;
  /** Per-packet flags from the I/O layer (see PKT_* below). */
  readonly flags: Uint32Array;

  constructor(
    readonly capacity = 256,
    slabBytes = capacity * 2048,
  ) {
    this.data = new Uint8Array(slabBytes);
    this.offset = new Uint32Array(capacity);
    this.length = new Uint32Array(capacity);
    this.wireLength = new Uint32Array(capacity);
    this.tsSec = new Float64Array(capacity);
    this.tsNsec = new Uint32Array(capacity);
    this.port = new Uint16Array(capacity);
    this.flags = new Uint32Array(capacity);
  }

  /** View of slot i's bytes (allocates a view: for tests and tools, not the fast path). */
  packet(i: number): Uint8Array {
    const o = this.offset[i]!;
    return this.data.subarray(o, o + this.length[i]!);
  }

  clear(): void {
    this.count = 0;
  }
}

/** The kernel left the L4 checksum incomplete (CHECKSUM_PARTIAL, TP_STATUS_CSUMNOTREADY). */
export const PKT_CSUM_NOT_READY = 1 << 0;
/** The kernel already verified the L4 checksum (TP_STATUS_CSUM_VALID). */
export const PKT_CSUM_VALID = 1 << 1;
/** The kernel stripped an 802.1Q tag; its TCI is in the upper 16 bits of flags. */
export const PKT_VLAN_VALID = 1 << 2;
/** The capture truncated the packet (length < wireLength). */
export const PKT_TRUNCATED = 1 << 3;
