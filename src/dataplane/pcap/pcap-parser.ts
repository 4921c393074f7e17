import type { BatchFiller } from './batch-filler.js';
import { rd16, rd32 } from './byte-order.js';
import { CaptureFormatError } from './capture-error.js';
import type { ChunkWindow } from './chunk-window.js';
import {
  type CaptureInterface,
  classifyLinkType,
  MAX_CAPTURE_BYTES,
  PCAP_FILE_HEADER_BYTES,
  PCAP_RECORD_HEADER_BYTES,
  PCAP_VERSION_MAJOR,
  PCAP_VERSION_MINOR,
} from './format.js';
import { Fill, type RecordParser } from './record-parser.js';

/**
 * Classic pcap (draft-ietf-opsawg-pcap): a 24-byte file header, then 16-byte record headers each
 * followed by the captured bytes. The byte order and the timestamp unit come from the magic
 * number, which `sniffCapture` has already read.
 */
export class PcapParser implements RecordParser {
  readonly format = 'pcap' as const;
  readonly interfaces: CaptureInterface[] = [];
  needBytes = 0;
  private headerDone = false;
  /** Timestamp fraction units per second (10^6 or 10^9) and nanoseconds per unit. */
  private readonly unitsPerSecond: number;
  private readonly nanosPerUnit: number;

  constructor(
    private readonly file: string,
    private readonly le: boolean,
    nano: boolean,
  ) {
    this.unitsPerSecond = nano ? 1_000_000_000 : 1_000_000;
    this.nanosPerUnit = nano ? 1 : 1000;
  }

  fill(w: ChunkWindow, out: BatchFiller | null): Fill {
    if (!this.headerDone && !this.readFileHeader(w)) return Fill.NeedMore;
    const buf = w.buf;
    const end = w.end;
    const le = this.le;
    let p = w.pos;
    for (;;) {
      w.pos = p;
      const avail = end - p;
      if (avail < PCAP_RECORD_HEADER_BYTES) {
        if (avail === 0 && w.eof) return Fill.End;
        if (w.eof) {
          throw this.fail('truncated', 'truncated record header', w.at(p), '16 bytes', `${avail}`);
        }
        this.needBytes = PCAP_RECORD_HEADER_BYTES;
        return Fill.NeedMore;
      }
      if (out === null) return Fill.PacketNext;
      if (out.full) return Fill.BatchFull;
      const caplen = rd32(buf, p + 8, le);
      const wireLength = rd32(buf, p + 12, le);
      if (caplen > MAX_CAPTURE_BYTES) {
        throw this.fail(
          'too-large',
          'record captured length',
          w.at(p + 8),
          `at most ${MAX_CAPTURE_BYTES} bytes`,
          `${caplen}`,
        );
      }
      // §5: the captured length is the minimum of the original length and the snapshot length.
      if (caplen > wireLength) {
        throw this.fail(
          'bad-length',
          'record captured length above its original length',
          w.at(p + 8),
          `at most ${wireLength} (the original length)`,
          `${caplen}`,
        );
      }
      const data = p + PCAP_RECORD_HEADER_BYTES;
      if (end - data < caplen) {
        if (w.eof) {
          throw this.fail(
            'truncated',
            'truncated packet data',
            w.at(data),
            `${caplen} bytes`,
            `${end - data}`,
          );
        }
        this.needBytes = PCAP_RECORD_HEADER_BYTES + caplen;
        return Fill.NeedMore;
      }
      let sec = rd32(buf, p, le);
      let frac = rd32(buf, p + 4, le);
      if (frac >= this.unitsPerSecond) {
        // An out-of-range fraction (some writers emit it) carries into the seconds, as its value says.
        const carry = Math.floor(frac / this.unitsPerSecond);
        sec += carry;
        frac -= carry * this.unitsPerSecond;
      }
      if (!out.add(buf, data, caplen, wireLength, sec, frac * this.nanosPerUnit, 0)) return Fill.BatchFull;
      p = data + caplen;
    }
  }

  private readFileHeader(w: ChunkWindow): boolean {
    const avail = w.end - w.pos;
    if (avail < PCAP_FILE_HEADER_BYTES) {
      if (w.eof) {
        throw this.fail('truncated', 'truncated file header', w.at(w.pos), '24 bytes', `${avail}`);
      }
      this.needBytes = PCAP_FILE_HEADER_BYTES;
      return false;
    }
    const b = w.buf;
    const p = w.pos;
    const major = rd16(b, p + 4, this.le);
    const minor = rd16(b, p + 6, this.le);
    if (major !== PCAP_VERSION_MAJOR || minor !== PCAP_VERSION_MINOR) {
      throw this.fail(
        'unsupported-version',
        'unsupported pcap version',
        w.at(p + 4),
        '2.4',
        `${major}.${minor}`,
      );
    }
    const snaplen = rd32(b, p + 16, this.le);
    const linkField = rd32(b, p + 20, this.le);
    // §4: LinkType is the low 16 bits; when the "f" bit (bit 28) is set, the 3 bits above it
    // count the 16-bit words of FCS at the end of every packet.
    const linkType = linkField & 0xffff;
    const fcsBytes = linkField & 0x1000_0000 ? ((linkField >>> 29) & 7) * 2 : 0;
    this.interfaces.push({
      index: 0,
      name: undefined,
      linkType,
      link: classifyLinkType(linkType),
      snaplen,
      tsUnitsPerSecond: this.unitsPerSecond,
      tsresol: this.nanosPerUnit === 1 ? 9 : 6,
      tsOffsetSeconds: 0,
      fcsBytes,
    });
    w.pos = p + PCAP_FILE_HEADER_BYTES;
    this.headerDone = true;
    return true;
  }

  private fail(
    code: CaptureFormatError['code'],
    what: string,
    offset: number,
    expected: string,
    found: string,
  ): CaptureFormatError {
    return new CaptureFormatError(this.file, code, what, offset, expected, found);
  }
}
