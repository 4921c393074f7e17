import { wr16le, wr32le } from './byte-order.js';
import { type ByteSink, FileSink } from './byte-sink.js';
import { CaptureWriter, checkLinkType, checkSnaplen } from './capture-writer.js';
import {
  BLOCK_EPB,
  BLOCK_IDB,
  BLOCK_SHB,
  BYTE_ORDER_MAGIC,
  EPB_MIN_BYTES,
  LINKTYPE_ETHERNET,
  MAX_CAPTURE_BYTES,
  OPT_ENDOFOPT,
  OPT_IF_NAME,
  OPT_IF_TSRESOL,
  OPT_SHB_USERAPPL,
  PCAPNG_VERSION_MAJOR,
} from './format.js';
import { nanosToWords, words } from './timestamp-scale.js';

export interface PcapngInterfaceSpec {
  /** `if_name` (e.g. the ferry port's name). */
  name?: string;
  /** LINKTYPE_ value (default 1, Ethernet). */
  linkType?: number;
  /** Snapshot length, 0 (no limit) … 262144 (default 262144); longer packets are cut. */
  snaplen?: number;
}

export interface PcapngWriteOptions {
  /** One Interface Description Block per entry; a packet's `port` is its index here. */
  interfaces: readonly PcapngInterfaceSpec[];
  /** `shb_userappl` (default "ferry"). */
  application?: string;
}

/** Timestamps are written in nanoseconds: `if_tsresol` = 9 (draft-ietf-opsawg-pcapng §4.2). */
const TSRESOL_NANOS = 9;
const utf8 = new TextEncoder();

/**
 * pcapng output, little-endian: one Section Header Block, one Interface Description Block per
 * interface (if_name, if_tsresol = 9), then an Enhanced Packet Block per packet (§4.1–§4.3).
 */
export class PcapngWriter extends CaptureWriter {
  private readonly snaplens: number[];

  constructor(sink: ByteSink, options: PcapngWriteOptions) {
    const ifaces = options.interfaces;
    if (ifaces.length === 0 || ifaces.length > 0x10000) {
      throw new RangeError(`a pcapng writer needs 1 to 65536 interfaces, got ${ifaces.length}`);
    }
    const snaplens: number[] = [];
    const blocks: Uint8Array[] = [sectionHeader(options.application ?? 'ferry')];
    for (const spec of ifaces) {
      const linkType = spec.linkType ?? LINKTYPE_ETHERNET;
      const snaplen = spec.snaplen ?? MAX_CAPTURE_BYTES;
      checkLinkType(linkType);
      checkSnaplen(snaplen, true);
      snaplens.push(snaplen === 0 ? MAX_CAPTURE_BYTES : snaplen);
      blocks.push(interfaceDescription(linkType, snaplen, spec.name));
    }
    super(sink, concat(blocks));
    this.snaplens = snaplens;
  }

  /** Creates (or truncates) a pcapng file. */
  static async open(path: string, options: PcapngWriteOptions): Promise<PcapngWriter> {
    return new PcapngWriter(await FileSink.open(path), options);
  }

  protected snaplenOf(iface: number): number {
    return this.snaplens[iface]!;
  }

  protected check(tsSec: number, tsNsec: number, iface: number): void {
    if (!(iface < this.snaplens.length)) {
      throw new RangeError(`interface ${iface} was not declared (the writer has ${this.snaplens.length})`);
    }
    if (!(tsNsec >= 0 && tsNsec < 1e9 && tsNsec % 1 === 0)) {
      throw new RangeError(`tsNsec must be an integer from 0 to 999999999, got ${tsNsec}`);
    }
    if (!(tsSec >= 0 && tsSec % 1 === 0 && nanosToWords(tsSec, tsNsec))) {
      throw new RangeError(
        `pcapng nanosecond timestamps hold whole seconds from 0 to 2^64 / 10^9, got ${tsSec}`,
      );
    }
  }

  protected recordBytes(caplen: number): number {
    return EPB_MIN_BYTES + ((caplen + 3) & ~3);
  }

  protected beginRecord(
    o: number,
    caplen: number,
    wireLength: number,
    tsSec: number,
    tsNsec: number,
    iface: number,
  ): number {
    const b = this.out;
    const len = this.recordBytes(caplen);
    nanosToWords(tsSec, tsNsec);
    wr32le(b, o, BLOCK_EPB);
    wr32le(b, o + 4, len);
    wr32le(b, o + 8, iface);
    // §4.3: the timestamp's upper 32 bits come first, each half in the section's byte order.
    wr32le(b, o + 12, words.hi);
    wr32le(b, o + 16, words.lo);
    wr32le(b, o + 20, caplen);
    wr32le(b, o + 24, wireLength);
    return o + 28;
  }

  protected endRecord(dataEnd: number, caplen: number): number {
    const b = this.out;
    let e = dataEnd;
    // §3.6.2: padding octets are zero.
    for (let pad = (4 - (caplen & 3)) & 3; pad > 0; pad--) b[e++] = 0;
    wr32le(b, e, EPB_MIN_BYTES + ((caplen + 3) & ~3));
    return e + 4;
  }
}

/** A block: type, total length, body, total length (§3.1); `body` is already padded. */
function block(type: number, body: Uint8Array): Uint8Array {
  const b = new Uint8Array(12 + body.length);
  wr32le(b, 0, type);
  wr32le(b, 4, b.length);
  b.set(body, 8);
  wr32le(b, b.length - 4, b.length);
  return b;
}

/** Options list with opt_endofopt, each value padded to 32 bits (§3.5). */
function options(list: ReadonlyArray<readonly [number, Uint8Array]>): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [code, value] of list) {
    if (value.length > 0xffff) throw new RangeError(`option ${code} is longer than 65535 bytes`);
    const o = new Uint8Array(4 + ((value.length + 3) & ~3));
    wr16le(o, 0, code);
    wr16le(o, 2, value.length);
    o.set(value, 4);
    parts.push(o);
  }
  const end = new Uint8Array(4);
  wr16le(end, 0, OPT_ENDOFOPT);
  parts.push(end);
  return concat(parts);
}

function sectionHeader(application: string): Uint8Array {
  const fixed = new Uint8Array(16);
  wr32le(fixed, 0, BYTE_ORDER_MAGIC);
  wr16le(fixed, 4, PCAPNG_VERSION_MAJOR);
  wr16le(fixed, 6, 0);
  // Section Length -1: not specified (§4.1), so readers never rely on it.
  fixed.fill(0xff, 8, 16);
  return block(BLOCK_SHB, concat([fixed, options([[OPT_SHB_USERAPPL, utf8.encode(application)]])]));
}

function interfaceDescription(linkType: number, snaplen: number, name: string | undefined): Uint8Array {
  const fixed = new Uint8Array(8);
  wr16le(fixed, 0, linkType);
  wr32le(fixed, 4, snaplen);
  const opts: [number, Uint8Array][] = [];
  if (name !== undefined) opts.push([OPT_IF_NAME, utf8.encode(name)]);
  opts.push([OPT_IF_TSRESOL, Uint8Array.of(TSRESOL_NANOS)]);
  return block(BLOCK_IDB, concat([fixed, options(opts)]));
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
