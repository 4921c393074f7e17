import type { PacketBatch } from '../batch.js';
import type { ByteSink } from './byte-sink.js';
import { MAX_CAPTURE_BYTES } from './format.js';

/** Bytes of records gathered before one sink write. */
const WRITE_AREA_BYTES = 1 << 20;
/** Bytes of batch slab staged at once (at least one maximal packet). */
const STAGE_BYTES = 1 << 20;

/**
 * Buffered, streaming capture output shared by the pcap and pcapng writers: records are encoded
 * into one reusable buffer that goes to the sink when full and on close.
 *
 * Packet bytes move without a per-packet allocation: the slab range holding a run of the batch's
 * packets is staged once at the end of the buffer, then each packet is moved next to its record
 * header with `copyWithin` (a memmove inside the buffer).
 *
 * Calls must not overlap: await each `writeBatch`/`writePacket` before the next.
 */
export abstract class CaptureWriter {
  /** Records written so far. */
  packetsWritten = 0;
  /** Bytes handed to the sink so far (header included). */
  bytesWritten = 0;
  /** Write area [0, WRITE_AREA_BYTES) then the staging area. */
  protected readonly out = new Uint8Array(WRITE_AREA_BYTES + STAGE_BYTES);
  private used = 0;
  private header: Uint8Array | null;
  private closing: Promise<void> | null = null;

  protected constructor(
    private readonly sink: ByteSink,
    header: Uint8Array,
  ) {
    this.header = header;
  }

  /** Largest captured length an interface keeps; longer packets are cut to it. */
  protected abstract snaplenOf(iface: number): number;
  /** Checks a packet's interface and timestamp; throws RangeError when it cannot be written. */
  protected abstract check(tsSec: number, tsNsec: number, iface: number): void;
  /** Size of the record for `caplen` captured bytes. */
  protected abstract recordBytes(caplen: number): number;
  /** Encodes the record header at `o` and returns where the packet bytes go. */
  protected abstract beginRecord(
    o: number,
    caplen: number,
    wireLength: number,
    tsSec: number,
    tsNsec: number,
    iface: number,
  ): number;
  /** Writes what follows the packet bytes (padding, trailer) and returns the end of the record. */
  protected abstract endRecord(dataEnd: number, caplen: number): number;

  /**
   * Appends every packet of the batch (slot order; `port` = interface id). A `wireLength` below
   * the packet's length (e.g. left at 0 by a stage that built the packet) means "not truncated".
   */
  async writeBatch(batch: PacketBatch): Promise<void> {
    this.checkOpen();
    const n = batch.count;
    for (let i = 0; i < n; i++) this.check(batch.tsSec[i]!, batch.tsNsec[i]!, batch.port[i]!);
    const out = this.out;
    let i = 0;
    while (i < n) {
      // Stage the slab range of slots [i, j): as many as fit the staging area.
      let lo = batch.offset[i]!;
      let hi = lo + this.captured(batch, i);
      let j = i + 1;
      for (; j < n; j++) {
        const o = batch.offset[j]!;
        const e = o + this.captured(batch, j);
        const nlo = o < lo ? o : lo;
        const nhi = e > hi ? e : hi;
        if (nhi - nlo > STAGE_BYTES) break;
        lo = nlo;
        hi = nhi;
      }
      if (hi > lo) out.set(batch.data.subarray(lo, hi), WRITE_AREA_BYTES);
      for (; i < j; i++) {
        const caplen = this.captured(batch, i);
        const length = batch.length[i]!;
        const wire = batch.wireLength[i]! > length ? batch.wireLength[i]! : length;
        if (this.used + this.recordBytes(caplen) > WRITE_AREA_BYTES) await this.flush();
        const d = this.beginRecord(
          this.used,
          caplen,
          wire,
          batch.tsSec[i]!,
          batch.tsNsec[i]!,
          batch.port[i]!,
        );
        const s = WRITE_AREA_BYTES + batch.offset[i]! - lo;
        out.copyWithin(d, s, s + caplen);
        this.used = this.endRecord(d + caplen, caplen);
        this.packetsWritten++;
      }
    }
  }

  /** Appends one packet; `wireLength` defaults to its length, `iface` to 0. */
  async writePacket(
    data: Uint8Array,
    tsSec: number,
    tsNsec: number,
    wireLength = data.length,
    iface = 0,
  ): Promise<void> {
    this.checkOpen();
    this.check(tsSec, tsNsec, iface);
    const snaplen = this.snaplenOf(iface);
    const caplen = data.length < snaplen ? data.length : snaplen;
    const wire = wireLength > data.length ? wireLength : data.length;
    if (this.used + this.recordBytes(caplen) > WRITE_AREA_BYTES) await this.flush();
    const d = this.beginRecord(this.used, caplen, wire, tsSec, tsNsec, iface);
    this.out.set(caplen === data.length ? data : data.subarray(0, caplen), d);
    this.used = this.endRecord(d + caplen, caplen);
    this.packetsWritten++;
  }

  /** Hands the buffered records to the sink. */
  async flush(): Promise<void> {
    if (this.header !== null) {
      const h = this.header;
      this.header = null;
      await this.sink.write(h);
      this.bytesWritten += h.length;
    }
    if (this.used === 0) return;
    const n = this.used;
    this.used = 0;
    await this.sink.write(this.out.subarray(0, n));
    this.bytesWritten += n;
  }

  /** Flushes and closes the sink; idempotent (later calls return the same promise). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.flush();
      await this.sink.close();
    })();
    return this.closing;
  }

  private captured(batch: PacketBatch, i: number): number {
    const length = batch.length[i]!;
    const snaplen = this.snaplenOf(batch.port[i]!);
    return length < snaplen ? length : snaplen;
  }

  private checkOpen(): void {
    if (this.closing !== null) throw new Error('capture writer is closed');
  }
}

/** Snapshot length a writer accepts: 1 … MAX_CAPTURE_BYTES (0 too when the format allows it). */
export function checkSnaplen(snaplen: number, allowZero: boolean): void {
  const min = allowZero ? 0 : 1;
  if (!Number.isInteger(snaplen) || snaplen < min || snaplen > MAX_CAPTURE_BYTES) {
    throw new RangeError(`snaplen must be an integer from ${min} to ${MAX_CAPTURE_BYTES}, got ${snaplen}`);
  }
}

/** Link type a writer accepts: a 16-bit LINKTYPE_ value. */
export function checkLinkType(linkType: number): void {
  if (!Number.isInteger(linkType) || linkType < 0 || linkType > 0xffff) {
    throw new RangeError(`linkType must be a 16-bit LINKTYPE_ value, got ${linkType}`);
  }
}
