/**
 * A port whose transmit side is a capture file (replay writes what each port sends to
 * `OUTDIR/<port>.pcap`: Ethernet for L2 ports, raw IP for L3 ports). Its receive side is the
 * replay driver's business. Transmitted packets (head + body) are staged in a batch of the
 * port's own and written with one awaited `writeBatch` after each engine step.
 */
import { PacketBatch } from '../batch.js';
import { type CaptureWriter, LINKTYPE_ETHERNET, LINKTYPE_RAW, PcapWriter } from '../pcap/index.js';
import { HEAD_MAX, type PacketMeta } from '../pipeline/packet-meta.js';
import { newPortStats, type Port, type PortKind } from './port.js';

const STAGE_SLOTS = 1024;
const STAGE_SLOT_BYTES = 2048;

export class CapturePort implements Port {
  index = -1;
  readonly stats = newPortStats();
  private readonly staged = new PacketBatch(STAGE_SLOTS, STAGE_SLOTS * STAGE_SLOT_BYTES);
  private used = 0;
  /** Packets that did not fit the staging area before the next flush (counted as tx errors). */
  overflow = 0;

  private constructor(
    readonly name: string,
    readonly l2: boolean,
    public mac: number,
    public mtu: number,
    private readonly writer: CaptureWriter | null,
    readonly kind: PortKind = 'pcap',
  ) {}

  /** Opens `path` for what the port transmits (null: count only, write nothing). */
  static async open(
    name: string,
    l2: boolean,
    mac: number,
    mtu: number,
    path: string | null,
  ): Promise<CapturePort> {
    const writer = path
      ? await PcapWriter.open(path, { linkType: l2 ? LINKTYPE_ETHERNET : LINKTYPE_RAW })
      : null;
    return new CapturePort(name, l2, mac, mtu, writer);
  }

  transmit(batch: PacketBatch, meta: PacketMeta, slots: Uint16Array, n: number): void {
    const st = this.staged;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const h = meta.headLen[s]!;
      const len = batch.length[s]!;
      const total = h + len;
      if (st.count === STAGE_SLOTS || this.used + total > st.data.length) {
        this.overflow++;
        this.stats.txErrors++;
        continue;
      }
      const i = st.count++;
      const at = this.used;
      const d = st.data;
      const hb = meta.head;
      for (let j = 0; j < h; j++) d[at + j] = hb[s * HEAD_MAX + j]!;
      d.set(batch.data.subarray(batch.offset[s]!, batch.offset[s]! + len), at + h);
      st.offset[i] = at;
      st.length[i] = total;
      st.wireLength[i] = total;
      st.tsSec[i] = batch.tsSec[s]!;
      st.tsNsec[i] = batch.tsNsec[s]!;
      st.port[i] = 0;
      this.used += total;
      this.stats.txPackets++;
      this.stats.txBytes += total;
    }
  }

  /** Writes what was transmitted since the last flush. */
  async flush(): Promise<void> {
    if (this.staged.count === 0) return;
    if (this.writer) await this.writer.writeBatch(this.staged);
    this.staged.count = 0;
    this.used = 0;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.writer?.close();
  }
}
