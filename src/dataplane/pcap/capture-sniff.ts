import { rd32 } from './byte-order.js';
import { CaptureFormatError } from './capture-error.js';
import type { ChunkWindow } from './chunk-window.js';
import {
  BLOCK_CUSTOM_COPY,
  BLOCK_CUSTOM_NOCOPY,
  BLOCK_DSB,
  BLOCK_EPB,
  BLOCK_IDB,
  BLOCK_ISB,
  BLOCK_NRB,
  BLOCK_OPB,
  BLOCK_SHB,
  BLOCK_SPB,
  PCAP_MAGIC_KUZNETZOV,
  PCAP_MAGIC_MICRO,
  PCAP_MAGIC_NANO,
} from './format.js';
import { PcapParser } from './pcap-parser.js';
import { blockName, hex32, PcapngParser } from './pcapng-parser.js';
import type { RecordParser } from './record-parser.js';

/** Bytes the sniffer looks at: every supported format is told apart by its first 32-bit word. */
export const SNIFF_BYTES = 4;

const PCAPNG_BLOCK_TYPES = [
  BLOCK_IDB,
  BLOCK_OPB,
  BLOCK_SPB,
  BLOCK_NRB,
  BLOCK_ISB,
  BLOCK_EPB,
  BLOCK_DSB,
  BLOCK_CUSTOM_COPY,
  BLOCK_CUSTOM_NOCOPY,
];

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/**
 * Picks the parser for a capture from its first four bytes (the window must hold them, or be
 * at EOF): a pcap magic in either byte order (draft-ietf-opsawg-pcap §4), or the pcapng SHB
 * block type (draft-ietf-opsawg-pcapng §4.1). Anything else is refused with a message that
 * names what the bytes look like when ferry recognises them.
 */
export function sniffCapture(file: string, w: ChunkWindow): RecordParser {
  const avail = w.end - w.pos;
  if (avail < SNIFF_BYTES) {
    throw new CaptureFormatError(
      file,
      'truncated',
      'truncated file header',
      w.at(w.pos),
      `a ${SNIFF_BYTES}-byte magic number`,
      `${avail} bytes`,
    );
  }
  const be = rd32(w.buf, w.pos, false);
  const le = swap32(be);
  if (be === BLOCK_SHB) return new PcapngParser(file);
  if (be === PCAP_MAGIC_MICRO || le === PCAP_MAGIC_MICRO)
    return new PcapParser(file, le === PCAP_MAGIC_MICRO, false);
  if (be === PCAP_MAGIC_NANO || le === PCAP_MAGIC_NANO)
    return new PcapParser(file, le === PCAP_MAGIC_NANO, true);
  const found = hex32(be);
  if (PCAPNG_BLOCK_TYPES.includes(be) || PCAPNG_BLOCK_TYPES.includes(le)) {
    const type = PCAPNG_BLOCK_TYPES.includes(be) ? be : le;
    throw new CaptureFormatError(
      file,
      'no-section-header',
      'first pcapng block is not a Section Header Block',
      w.at(w.pos),
      `block type ${hex32(BLOCK_SHB)}`,
      `block type ${hex32(type)} (${blockName(type)})`,
    );
  }
  let what = found;
  if (be === PCAP_MAGIC_KUZNETZOV || le === PCAP_MAGIC_KUZNETZOV) {
    what = `${found} (Kuznetzov's modified pcap, which ferry does not read)`;
  } else if (be >>> 16 === 0x1f8b) {
    what = `${found} (gzip data: decompress the capture first)`;
  }
  throw new CaptureFormatError(
    file,
    'bad-magic',
    'bad magic number',
    w.at(w.pos),
    `a pcap (a1b2c3d4, a1b23c4d, either byte order) or pcapng (0a0d0d0a) magic number`,
    what,
  );
}
