/**
 * What the I/O layer knows about a received packet beyond the PacketBatch fields: a per-slot
 * side table of META_STRIDE u16 values, written by the addon next to the batch's descriptors.
 *
 * The virtio-net fields are filled only on ports opened with `offloads: 'vnet'` (PACKET_VNET_HDR):
 * they say whether the L4 checksum still has to be completed (VIRTIO_NET_HDR_F_NEEDS_CSUM, then
 * the checksum field holds the pseudo-header sum and csumStart/csumOffset locate it) and whether
 * the frame is a GSO super-frame to be cut into gsoSize-byte segments. Passing the same table to
 * `sendBatch` on another vnet port forwards the frame with its offload state intact, so the
 * kernel (or the NIC) completes or segments it on the way out.
 */

/**
 * The frame is a GSO/GRO super-frame: on a vnet port `extra` holds its gso type and size; on any
 * other port it is larger than the MTU because a local sender (a veth peer) kept TSO/GSO on.
 * Kept in the I/O range of flag bits (8..15) so it cannot clash with the pipeline's PKT_* bits.
 */
export const PKT_GSO = 1 << 8;

export const META_STRIDE = 8;
/** sll_pkttype: PACKET_HOST, PACKET_BROADCAST, ... (packet(7)). */
export const META_PKT_TYPE = 0;
/** virtio_net_hdr.flags: 1 NEEDS_CSUM, 2 DATA_VALID. */
export const META_VNET_FLAGS = 1;
/** virtio_net_hdr.gso_type: 0 none, 1 TCPv4, 3 UDP, 4 TCPv6, 0x80 ECN. */
export const META_GSO_TYPE = 2;
export const META_HDR_LEN = 3;
export const META_GSO_SIZE = 4;
/** Offset (from the frame start) where checksumming starts, and where the result goes after it. */
export const META_CSUM_START = 5;
export const META_CSUM_OFFSET = 6;
/** TPID of a VLAN tag the kernel stripped (0x8100, 0x88a8), when PKT_VLAN_VALID. */
export const META_VLAN_TPID = 7;

export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;
export const PACKET_OTHERHOST = 3;
export const PACKET_OUTGOING = 4;

export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
export const VIRTIO_NET_HDR_GSO_UDP = 3;
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;

/** A side table for `capacity` slots. */
export function newPortMeta(capacity: number): Uint16Array {
  return new Uint16Array(capacity * META_STRIDE);
}
