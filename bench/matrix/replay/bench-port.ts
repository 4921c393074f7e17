/**
 * A memory port for the replay benchmark: while `recording` it keeps a copy of every frame it is
 * given (the flow set-up reads ferry's NAT mappings and MACs from them); otherwise it only counts,
 * allocating nothing, like a NIC's TX that costs the router nothing measurable.
 */
import type { PacketBatch } from '../../../src/dataplane/batch.js';
import { HEAD_MAX, type PacketMeta } from '../../../src/dataplane/pipeline/packet-meta.js';
import { newPortStats, type Port, type PortKind } from '../../../src/dataplane/ports/port.js';

export class BenchPort implements Port {
  index = -1;
  readonly stats = newPortStats();
  recording = true;
  readonly sent: Uint8Array[] = [];

  constructor(
    readonly name: string,
    readonly l2: boolean,
    public mac: number,
    readonly kind: PortKind,
    public mtu = 1500,
  ) {}

  transmit(batch: PacketBatch, meta: PacketMeta, slots: Uint16Array, n: number): void {
    let bytes = 0;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const h = meta.headLen[s]!;
      bytes += h + batch.length[s]!;
      if (this.recording) {
        const off = batch.offset[s]!;
        const out = new Uint8Array(h + batch.length[s]!);
        out.set(meta.head.subarray(s * HEAD_MAX, s * HEAD_MAX + h), 0);
        out.set(batch.data.subarray(off, off + batch.length[s]!), h);
        this.sent.push(out);
      }
    }
    this.stats.txPackets += n;
    this.stats.txBytes += bytes;
  }

  /** Takes what was recorded since the last call. */
  take(): Uint8Array[] {
    return this.sent.splice(0);
  }

  close(): void {}
}
