/**
 * A port backed by memory, for tests: `inject` queues frames to be received, `sent` collects
 * copies of what the pipeline transmitted (head + body joined).
 */
import type { PacketBatch } from '../batch.js';
import { HEAD_MAX, type PacketMeta } from '../pipeline/packet-meta.js';
import { newPortStats, type Port, type PortKind } from './port.js';

export class MemoryPort implements Port {
  index = -1;
  readonly stats = newPortStats();
  readonly sent: Uint8Array[] = [];

  constructor(
    readonly name: string,
    readonly l2: boolean,
    public mac = 0,
    public mtu = 1500,
    readonly kind: PortKind = 'memory',
  ) {}

  transmit(batch: PacketBatch, meta: PacketMeta, slots: Uint16Array, n: number): void {
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const h = meta.headLen[s]!;
      const off = batch.offset[s]!;
      const len = batch.length[s]!;
      const out = new Uint8Array(h + len);
      out.set(meta.head.subarray(s * HEAD_MAX, s * HEAD_MAX + h), 0);
      out.set(batch.data.subarray(off, off + len), h);
      this.sent.push(out);
      this.stats.txPackets++;
      this.stats.txBytes += out.length;
    }
  }

  close(): void {}
}
