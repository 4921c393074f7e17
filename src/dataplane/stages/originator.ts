/**
 * Packets the router makes itself: ARP requests and replies it cannot build in place, ICMP errors,
 * packets released from the neighbour queue. They are written into a batch of their own and run
 * through the pipeline after the batch that caused them, each from the stage it names
 * (`entry`): an ICMP error starts at routing, an ARP request at the output port.
 *
 * Two originator batches alternate so that packets made while running originated packets
 * (an ARP request for the destination of an echo reply) are run next, for a bounded number of
 * rounds.
 */
import { PacketBatch } from '../batch.js';
import { NO_PORT } from '../pipeline/packet-meta.js';
import type { Stage } from '../pipeline/stage.js';

export const ORIGINATED_SLOT_BYTES = 2048;

export class OriginatedBatch {
  readonly batch: PacketBatch;
  /** Stage each slot starts at. */
  readonly entry: Int16Array;
  /** Port the packet relates to (arrival port of the packet it answers, NO_PORT if none). */
  readonly inPort: Uint16Array;
  /** Egress port when already decided (ARP, neighbour queue), else NO_PORT. */
  readonly outPort: Uint16Array;
  /** Next hop when already decided. */
  readonly nextHop: Uint32Array;
  /** Network-layer EtherType of the packet (0x0800 for IP, 0x0806 for ARP frames). */
  readonly etherType: Uint16Array;
  /** Packets that found no free slot. */
  overflows = 0;

  constructor(readonly capacity = 256) {
    this.batch = new PacketBatch(capacity, capacity * ORIGINATED_SLOT_BYTES);
    for (let i = 0; i < capacity; i++) this.batch.offset[i] = i * ORIGINATED_SLOT_BYTES;
    this.entry = new Int16Array(capacity);
    this.inPort = new Uint16Array(capacity);
    this.outPort = new Uint16Array(capacity);
    this.nextHop = new Uint32Array(capacity);
    this.etherType = new Uint16Array(capacity);
  }

  /**
   * Reserves a slot starting at `entry`; the caller writes up to ORIGINATED_SLOT_BYTES at
   * `batch.offset[slot]` and sets `batch.length[slot]`. Returns -1 when full (counted).
   */
  alloc(entry: Stage, etherType: number, inPort = NO_PORT, outPort = NO_PORT, nextHop = 0): number {
    const b = this.batch;
    if (b.count === this.capacity) {
      this.overflows++;
      return -1;
    }
    const s = b.count++;
    b.offset[s] = s * ORIGINATED_SLOT_BYTES;
    b.length[s] = 0;
    b.port[s] = NO_PORT; // the trace shows originated packets as the router's own
    this.entry[s] = entry.id;
    this.inPort[s] = inPort;
    this.outPort[s] = outPort;
    this.nextHop[s] = nextHop;
    this.etherType[s] = etherType;
    return s;
  }

  clear(): void {
    this.batch.count = 0;
  }
}
