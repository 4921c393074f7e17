/**
 * A port is where packets enter and leave ferry: an AF_PACKET socket on a NIC or veth, a TUN or
 * TAP device, a pcap file in replay, or memory in tests. The pipeline only sees this interface.
 *
 * Transmit is one call per batch: for each slot, the port sends the slot's prepended head bytes
 * (PacketMeta.head) followed by the packet bytes in the batch (batch.offset/length).
 */
import type { PacketBatch } from '../batch.js';
import type { PacketMeta } from '../pipeline/packet-meta.js';

export type PortKind = 'afpacket' | 'tun' | 'tap' | 'host' | 'pcap' | 'memory';

export interface PortStats {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  /** Frames the port could not send (ring full, EAGAIN beyond retries, write errors). */
  txErrors: number;
}

export function newPortStats(): PortStats {
  return { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, txErrors: 0 };
}

export interface Port {
  readonly name: string;
  /** Position in the engine's port list; what batch.port[] and meta.inPort[] hold. */
  index: number;
  readonly kind: PortKind;
  /** True when frames carry an Ethernet header (afpacket, tap, host, pcap with link type 1). */
  readonly l2: boolean;
  /** The port's MAC as a 48-bit number (0 on L3 ports). */
  mac: number;
  mtu: number;
  readonly stats: PortStats;
  /**
   * True when the port counts what it receives itself (the native ports: in the addon, where
   * `stats` is a snapshot read across the JS/native boundary into a new object). The engine
   * counts received packets into `stats` only on ports without it.
   */
  readonly countsRx?: boolean;
  /**
   * Offload descriptors (virtio-net header) of the batch the port just received, in port-meta.ts
   * layout, on ports that receive them (AF_PACKET `offloads: 'vnet'`); absent/null otherwise.
   */
  readonly rxOffload?: Uint16Array | null;
  /** True when transmit writes `PacketMeta.txOffload` as the virtio-net header of each frame. */
  readonly txOffload?: boolean;
  /** Sends slots[0..n) of batch. Must not keep references to batch memory after returning. */
  transmit(batch: PacketBatch, meta: PacketMeta, slots: Uint16Array, n: number): void;
  close(): Promise<void> | void;
}
