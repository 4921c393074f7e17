import type { BatchFiller } from './batch-filler.js';
import { rd16, rd32, rdI64 } from './byte-order.js';
import { type CaptureErrorCode, CaptureFormatError } from './capture-error.js';
import type { ChunkWindow } from './chunk-window.js';
import {
  BLOCK_DSB,
  BLOCK_EPB,
  BLOCK_IDB,
  BLOCK_ISB,
  BLOCK_MIN_BYTES,
  BLOCK_NRB,
  BLOCK_OPB,
  BLOCK_SHB,
  BLOCK_SPB,
  BYTE_ORDER_MAGIC,
  type CaptureInterface,
  classifyLinkType,
  EPB_MIN_BYTES,
  IDB_MIN_BYTES,
  MAX_CAPTURE_BYTES,
  OPB_MIN_BYTES,
  OPT_ENDOFOPT,
  OPT_IF_NAME,
  OPT_IF_TSOFFSET,
  OPT_IF_TSRESOL,
  PCAPNG_VERSION_MAJOR,
  SHB_MIN_BYTES,
  SPB_MIN_BYTES,
} from './format.js';
import { Fill, type RecordParser } from './record-parser.js';
import { TimestampScale } from './timestamp-scale.js';

/**
 * Largest block the parser holds in its window to parse (SHB, IDB, packet blocks): a maximal
 * packet plus generous room for options. Other block types are skipped by streaming past them,
 * whatever their length.
 */
export const MAX_PARSED_BLOCK_BYTES = 4 * 1024 * 1024;

/** Interface ids index `PacketBatch.port` (16 bits). */
const MAX_INTERFACES = 0x10000;

/** `if_tsresol` when the option is absent: microseconds (draft-ietf-opsawg-pcapng §4.2). */
const DEFAULT_TSRESOL = 6;

const utf8 = new TextDecoder();

const BLOCK_NAMES: ReadonlyMap<number, string> = new Map([
  [BLOCK_SHB, 'Section Header Block'],
  [BLOCK_IDB, 'Interface Description Block'],
  [BLOCK_OPB, 'Packet Block'],
  [BLOCK_SPB, 'Simple Packet Block'],
  [BLOCK_NRB, 'Name Resolution Block'],
  [BLOCK_ISB, 'Interface Statistics Block'],
  [BLOCK_EPB, 'Enhanced Packet Block'],
  [BLOCK_DSB, 'Decryption Secrets Block'],
]);

export function blockName(type: number): string {
  return BLOCK_NAMES.get(type) ?? `block of type ${hex32(type)}`;
}

export function hex32(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}

/**
 * pcapng (draft-ietf-opsawg-pcapng): a sequence of sections, each a Section Header Block that
 * fixes the byte order, its Interface Description Blocks, and packet blocks that name an
 * interface. Every block is type, total length, body, total length again (§3.1).
 */
export class PcapngParser implements RecordParser {
  readonly format = 'pcapng' as const;
  interfaces: CaptureInterface[] = [];
  needBytes = 0;
  /** Sections started so far (1 after the first SHB). */
  sections = 0;
  private le = true;
  private scales: TimestampScale[] = [];
  /** Streaming skip of a block too long for the window: bytes of its body still to pass. */
  private skipLeft = 0;
  /** Absolute offset and length of the block being skipped; skipLength 0 when none. */
  private skipStart = 0;
  private skipLength = 0;
  private skipType = 0;

  constructor(private readonly file: string) {}

  fill(w: ChunkWindow, out: BatchFiller | null): Fill {
    for (;;) {
      if (this.skipLength !== 0 && !this.continueSkip(w)) return Fill.NeedMore;
      const buf = w.buf;
      const p = w.pos;
      const avail = w.end - p;
      if (avail < 8) {
        if (avail === 0 && w.eof) return Fill.End;
        if (w.eof) throw this.fail('truncated', 'truncated block header', w.at(p), '8 bytes', `${avail}`);
        this.needBytes = 8;
        return Fill.NeedMore;
      }
      const type = rd32(buf, p, this.le);
      let le = this.le;
      if (type === BLOCK_SHB) {
        // The SHB type reads the same in both orders; a new section ends the current batch.
        if (out !== null && out.count > 0) return Fill.SectionBreak;
        if (avail < 12) {
          if (w.eof) {
            throw this.fail(
              'truncated',
              'truncated Section Header Block',
              w.at(p),
              'at least 28 bytes',
              `${avail}`,
            );
          }
          this.needBytes = 12;
          return Fill.NeedMore;
        }
        // §4.1: the byte-order magic tells the order of every number in the section.
        const magic = rd32(buf, p + 8, false);
        if (magic === BYTE_ORDER_MAGIC) le = false;
        else if (rd32(buf, p + 8, true) === BYTE_ORDER_MAGIC) le = true;
        else {
          throw this.fail(
            'bad-magic',
            'bad Section Header Block byte-order magic',
            w.at(p + 8),
            '1a2b3c4d in either byte order',
            hex32(magic),
          );
        }
      } else if (this.sections === 0) {
        throw this.fail(
          'no-section-header',
          'first pcapng block is not a Section Header Block',
          w.at(p),
          `block type ${hex32(BLOCK_SHB)}`,
          `block type ${hex32(type)} (${blockName(type)})`,
        );
      }
      const len = rd32(buf, p + 4, le);
      // §3.1: Block Total Length is a multiple of 4 and covers type, length and trailer.
      if (len < BLOCK_MIN_BYTES || len % 4 !== 0) {
        throw this.fail(
          'bad-length',
          `${blockName(type)} total length`,
          w.at(p + 4),
          'a multiple of 4, at least 12',
          `${len}`,
        );
      }
      const minLen = minBlockBytes(type);
      if (minLen === 0) {
        // A block ferry does not interpret (NRB, ISB, DSB, custom, …): skip it by its length.
        if (avail >= len) {
          this.checkTrailer(w, p, len, type, le);
          w.pos = p + len;
        } else {
          this.startSkip(w, p, len, type);
        }
        continue;
      }
      if (len < minLen) {
        throw this.fail(
          'bad-length',
          `${blockName(type)} total length`,
          w.at(p + 4),
          `at least ${minLen} bytes`,
          `${len}`,
        );
      }
      if (len > MAX_PARSED_BLOCK_BYTES) {
        throw this.fail(
          'too-large',
          `${blockName(type)} total length`,
          w.at(p + 4),
          `at most ${MAX_PARSED_BLOCK_BYTES} bytes`,
          `${len}`,
        );
      }
      const isPacket = type === BLOCK_EPB || type === BLOCK_SPB || type === BLOCK_OPB;
      if (isPacket) {
        if (out === null) return Fill.PacketNext;
        if (out.full) return Fill.BatchFull;
      }
      if (avail < len) {
        this.needBytes = len;
        return this.needOrTruncated(w, p, len, type);
      }
      this.checkTrailer(w, p, len, type, le);
      switch (type) {
        case BLOCK_SHB:
          this.readSectionHeader(w, p, le);
          break;
        case BLOCK_IDB:
          this.readInterface(w, p, len);
          break;
        case BLOCK_SPB:
          if (!this.readSimplePacket(w, p, len, out!)) return Fill.BatchFull;
          break;
        default:
          if (!this.readPacket(w, p, len, type, out!)) return Fill.BatchFull;
          break;
      }
      w.pos = p + len;
    }
  }

  private needOrTruncated(w: ChunkWindow, p: number, len: number, type: number): Fill {
    if (w.eof) {
      throw this.fail('truncated', `truncated ${blockName(type)}`, w.at(p), `${len} bytes`, `${w.end - p}`);
    }
    return Fill.NeedMore;
  }

  private checkTrailer(w: ChunkWindow, p: number, len: number, type: number, le: boolean): void {
    const trailer = rd32(w.buf, p + len - 4, le);
    if (trailer !== len) {
      throw this.fail(
        'length-mismatch',
        `${blockName(type)} trailing total length`,
        w.at(p + len - 4),
        `${len} (the leading total length at byte ${w.at(p + 4)})`,
        `${trailer}`,
      );
    }
  }

  /**
   * Passes over a block that is not all in the window (it may be far larger than the chunk
   * buffer) without holding it: consume its body as it streams by, then check its trailer.
   */
  private startSkip(w: ChunkWindow, p: number, len: number, type: number): void {
    this.skipStart = w.at(p);
    this.skipLength = len;
    this.skipType = type;
    this.skipLeft = len - 4;
  }

  /** Advances a streaming skip; false when the window must be refilled first. */
  private continueSkip(w: ChunkWindow): boolean {
    if (this.skipLeft > 0) {
      const n = Math.min(this.skipLeft, w.end - w.pos);
      w.pos += n;
      this.skipLeft -= n;
      if (this.skipLeft > 0) return this.skipNeedsMore(w, 1);
    }
    if (w.end - w.pos < 4) return this.skipNeedsMore(w, 4);
    const trailer = rd32(w.buf, w.pos, this.le);
    if (trailer !== this.skipLength) {
      throw this.fail(
        'length-mismatch',
        `${blockName(this.skipType)} trailing total length`,
        w.at(w.pos),
        `${this.skipLength} (the leading total length at byte ${this.skipStart + 4})`,
        `${trailer}`,
      );
    }
    w.pos += 4;
    this.skipLength = 0;
    return true;
  }

  private skipNeedsMore(w: ChunkWindow, need: number): boolean {
    if (w.eof) {
      const found = w.at(w.end) - this.skipStart;
      throw this.fail(
        'truncated',
        `truncated ${blockName(this.skipType)}`,
        this.skipStart,
        `${this.skipLength} bytes`,
        `${found}`,
      );
    }
    this.needBytes = need;
    return false;
  }

  private readSectionHeader(w: ChunkWindow, p: number, le: boolean): void {
    const major = rd16(w.buf, p + 12, le);
    const minor = rd16(w.buf, p + 14, le);
    // §4.1: major version 1. Minor versions 1 and 2 were written by early tools for the same
    // layout, and Wireshark reads them as 1.0, so ferry does too.
    if (major !== PCAPNG_VERSION_MAJOR || minor > 2) {
      throw this.fail(
        'unsupported-version',
        'unsupported pcapng version',
        w.at(p + 12),
        '1.0',
        `${major}.${minor}`,
      );
    }
    // §4.1: interface ids are scoped to their section, so a new section forgets the old ones.
    this.le = le;
    this.sections++;
    this.interfaces = [];
    this.scales = [];
  }

  private readInterface(w: ChunkWindow, p: number, len: number): void {
    const b = w.buf;
    const le = this.le;
    if (this.interfaces.length >= MAX_INTERFACES) {
      throw this.fail(
        'too-large',
        'Interface Description Block count',
        w.at(p),
        `at most ${MAX_INTERFACES} interfaces per section`,
        `${this.interfaces.length + 1}`,
      );
    }
    const linkType = rd16(b, p + 8, le);
    const snaplen = rd32(b, p + 12, le);
    let name: string | undefined;
    let tsresol = DEFAULT_TSRESOL;
    let tsOffsetSeconds = 0;
    const optEnd = p + len - 4;
    for (let o = p + 16; o + 4 <= optEnd; ) {
      const code = rd16(b, o, le);
      const olen = rd16(b, o + 2, le);
      if (code === OPT_ENDOFOPT) break;
      const v = o + 4;
      if (v + olen > optEnd) {
        throw this.fail(
          'bad-option',
          `Interface Description Block option ${code} length`,
          w.at(o + 2),
          `at most ${optEnd - v} bytes`,
          `${olen}`,
        );
      }
      if (code === OPT_IF_NAME) {
        // §3.5: strings are not zero-terminated, but a zero octet ends them.
        let e = v;
        while (e < v + olen && b[e] !== 0) e++;
        name = utf8.decode(b.subarray(v, e));
      } else if (code === OPT_IF_TSRESOL) {
        this.expectOptionLength(w, o, 'if_tsresol', olen, 1);
        tsresol = b[v]!;
      } else if (code === OPT_IF_TSOFFSET) {
        this.expectOptionLength(w, o, 'if_tsoffset', olen, 8);
        tsOffsetSeconds = rdI64(b, v, le);
      }
      o = v + ((olen + 3) & ~3);
    }
    const scale = new TimestampScale(tsresol);
    this.scales.push(scale);
    this.interfaces.push({
      index: this.interfaces.length,
      name,
      linkType,
      link: classifyLinkType(linkType),
      snaplen,
      tsUnitsPerSecond: scale.unitsPerSecond,
      tsresol,
      tsOffsetSeconds,
      fcsBytes: 0,
    });
  }

  private expectOptionLength(w: ChunkWindow, o: number, name: string, olen: number, want: number): void {
    if (olen !== want) {
      throw this.fail('bad-option', `${name} option length`, w.at(o + 2), `${want}`, `${olen}`);
    }
  }

  /** EPB (§4.3) or the obsolete Packet Block (appendix A), which differ only in the id width. */
  private readPacket(w: ChunkWindow, p: number, len: number, type: number, out: BatchFiller): boolean {
    const b = w.buf;
    const le = this.le;
    const iface = type === BLOCK_EPB ? rd32(b, p + 8, le) : rd16(b, p + 8, le);
    if (iface >= this.interfaces.length) throw this.undeclaredInterface(w, p + 8, type, iface);
    const caplen = rd32(b, p + 20, le);
    const wireLength = rd32(b, p + 24, le);
    this.checkCaptured(w, p + 20, type, caplen, wireLength, len - EPB_MIN_BYTES);
    const scale = this.scales[iface]!;
    scale.convert(rd32(b, p + 12, le), rd32(b, p + 16, le));
    const sec = scale.sec + this.interfaces[iface]!.tsOffsetSeconds;
    return out.add(b, p + 28, caplen, wireLength, sec, scale.nsec, iface);
  }

  /** SPB (§4.4): interface 0, no timestamp; captured length = min(original, snaplen). */
  private readSimplePacket(w: ChunkWindow, p: number, len: number, out: BatchFiller): boolean {
    if (this.interfaces.length === 0) throw this.undeclaredInterface(w, p, BLOCK_SPB, 0);
    const wireLength = rd32(w.buf, p + 8, this.le);
    const snaplen = this.interfaces[0]!.snaplen;
    const caplen = snaplen !== 0 && snaplen < wireLength ? snaplen : wireLength;
    this.checkCaptured(w, p + 8, BLOCK_SPB, caplen, wireLength, len - SPB_MIN_BYTES);
    return out.add(w.buf, p + 12, caplen, wireLength, 0, 0, 0);
  }

  private checkCaptured(
    w: ChunkWindow,
    field: number,
    type: number,
    caplen: number,
    wireLength: number,
    room: number,
  ): void {
    const what = `${blockName(type)} captured length`;
    if (caplen > MAX_CAPTURE_BYTES) {
      throw this.fail('too-large', what, w.at(field), `at most ${MAX_CAPTURE_BYTES} bytes`, `${caplen}`);
    }
    if (caplen > room) {
      throw this.fail(
        'bad-length',
        `${what} past the end of its block`,
        w.at(field),
        `at most ${room}`,
        `${caplen}`,
      );
    }
    // §4.3: the captured length is the minimum of the original length and the snapshot length.
    if (caplen > wireLength) {
      throw this.fail(
        'bad-length',
        `${what} above its original length`,
        w.at(field),
        `at most ${wireLength} (the original length)`,
        `${caplen}`,
      );
    }
  }

  private undeclaredInterface(w: ChunkWindow, at: number, type: number, iface: number): CaptureFormatError {
    const n = this.interfaces.length;
    return this.fail(
      'unknown-interface',
      `${blockName(type)} for an undeclared interface`,
      w.at(at),
      n === 0 ? 'an Interface Description Block before it' : `an interface id below ${n}`,
      `${iface}`,
    );
  }

  private fail(
    code: CaptureErrorCode,
    what: string,
    offset: number,
    expected: string,
    found: string,
  ): CaptureFormatError {
    return new CaptureFormatError(this.file, code, what, offset, expected, found);
  }
}

/** Fixed size of the block types ferry parses; 0 for the types it skips. */
function minBlockBytes(type: number): number {
  switch (type) {
    case BLOCK_SHB:
      return SHB_MIN_BYTES;
    case BLOCK_IDB:
      return IDB_MIN_BYTES;
    case BLOCK_EPB:
      return EPB_MIN_BYTES;
    case BLOCK_OPB:
      return OPB_MIN_BYTES;
    case BLOCK_SPB:
      return SPB_MIN_BYTES;
    default:
      return 0;
  }
}
