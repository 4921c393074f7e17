/** A port that counts what it is given and keeps nothing (benchmarks; a sink for unwanted output). */
import type { PacketBatch } from '../batch.js';
import type { PacketMeta } from '../pipeline/packet-meta.js';
import { newPortStats, type Port, type PortKind } from './port.js';

export class DiscardPort implements Port {
  index = -1;
  readonly stats = newPortStats();

  constructor(
    readonly name: string,
    readonly l2: boolean,
    public mac = 0,
    public mtu = 1500,
    readonly kind: PortKind = 'memory',
  ) {}

  transmit(batch: PacketBatch, meta: PacketMeta, slots: Uint16Array, n: number): void {
    let bytes = 0;
    for (let k = 0; k < n; k++) bytes += batch.length[slots[k]!]! + meta.headLen[slots[k]!]!;
    this.stats.txPackets += n;
    this.stats.txBytes += bytes;
  }

  close(): void {}
}
