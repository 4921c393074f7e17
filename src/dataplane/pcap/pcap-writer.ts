import { wr16le, wr32le } from './byte-order.js';
import { type ByteSink, FileSink } from './byte-sink.js';
import { CaptureWriter, checkLinkType, checkSnaplen } from './capture-writer.js';
import {
  LINKTYPE_ETHERNET,
  MAX_CAPTURE_BYTES,
  PCAP_FILE_HEADER_BYTES,
  PCAP_MAGIC_MICRO,
  PCAP_MAGIC_NANO,
  PCAP_RECORD_HEADER_BYTES,
  PCAP_VERSION_MAJOR,
  PCAP_VERSION_MINOR,
} from './format.js';

export interface PcapWriteOptions {
  /** LINKTYPE_ value of every packet (default 1, Ethernet). */
  linkType?: number;
  /** Snapshot length, 1 … 262144 (default 262144); longer packets are cut to it. */
  snaplen?: number;
  /** Timestamp resolution (default 'ns': ferry's timestamps round-trip exactly; 'us' truncates). */
  resolution?: 'ns' | 'us';
}

const TWO_32 = 0x1_0000_0000;

/** Classic pcap output, little-endian (draft-ietf-opsawg-pcap §4, §5). */
export class PcapWriter extends CaptureWriter {
  private readonly snaplen: number;
  private readonly nanosPerUnit: number;

  constructor(sink: ByteSink, options: PcapWriteOptions = {}) {
    const linkType = options.linkType ?? LINKTYPE_ETHERNET;
    const snaplen = options.snaplen ?? MAX_CAPTURE_BYTES;
    const nano = (options.resolution ?? 'ns') === 'ns';
    checkLinkType(linkType);
    checkSnaplen(snaplen, false);
    const h = new Uint8Array(PCAP_FILE_HEADER_BYTES);
    wr32le(h, 0, nano ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO);
    wr16le(h, 4, PCAP_VERSION_MAJOR);
    wr16le(h, 6, PCAP_VERSION_MINOR);
    // Reserved1/Reserved2 (bytes 8-15) stay zero (§4).
    wr32le(h, 16, snaplen);
    wr32le(h, 20, linkType);
    super(sink, h);
    this.snaplen = snaplen;
    this.nanosPerUnit = nano ? 1 : 1000;
  }

  /** Creates (or truncates) a pcap file. */
  static async open(path: string, options: PcapWriteOptions = {}): Promise<PcapWriter> {
    return new PcapWriter(await FileSink.open(path), options);
  }

  protected snaplenOf(): number {
    return this.snaplen;
  }

  protected check(tsSec: number, tsNsec: number, iface: number): void {
    if (!(tsSec >= 0 && tsSec < TWO_32 && tsSec % 1 === 0)) {
      throw new RangeError(`pcap timestamps hold whole seconds from 0 to 2^32 - 1, got ${tsSec}`);
    }
    if (!(tsNsec >= 0 && tsNsec < 1e9 && tsNsec % 1 === 0)) {
      throw new RangeError(`tsNsec must be an integer from 0 to 999999999, got ${tsNsec}`);
    }
    if (iface !== 0) throw new RangeError(`a pcap file has a single interface (0), got interface ${iface}`);
  }

  protected recordBytes(caplen: number): number {
    return PCAP_RECORD_HEADER_BYTES + caplen;
  }

  protected beginRecord(
    o: number,
    caplen: number,
    wireLength: number,
    tsSec: number,
    tsNsec: number,
  ): number {
    const b = this.out;
    wr32le(b, o, tsSec);
    wr32le(b, o + 4, this.nanosPerUnit === 1 ? tsNsec : Math.floor(tsNsec / 1000));
    wr32le(b, o + 8, caplen);
    wr32le(b, o + 12, wireLength);
    return o + PCAP_RECORD_HEADER_BYTES;
  }

  protected endRecord(dataEnd: number): number {
    return dataEnd;
  }
}
