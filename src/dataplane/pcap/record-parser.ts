import type { BatchFiller } from './batch-filler.js';
import type { ChunkWindow } from './chunk-window.js';
import type { CaptureFormat, CaptureInterface } from './format.js';

/** Why a parse pass stopped. */
export enum Fill {
  /** The batch has no free slot or slab room; call again with a fresh batch. */
  BatchFull = 0,
  /** The window needs `needBytes` contiguous bytes from `pos` (the window is not at EOF). */
  NeedMore = 1,
  /** Clean end of file. */
  End = 2,
  /** A new pcapng section starts: interface ids change meaning, so the batch ends here. */
  SectionBreak = 3,
  /** Priming (no batch given) stopped before the first packet record. */
  PacketNext = 4,
}

/**
 * A capture format's record parser. `fill` parses whole records out of the window into the
 * batch until one of the `Fill` reasons stops it, advancing `window.pos` past what it consumed.
 * Bad input raises a CaptureFormatError after the packets before it were added to the batch.
 */
export interface RecordParser {
  readonly format: CaptureFormat;
  /** Interfaces of the current section (pcap: the single implicit one). */
  readonly interfaces: readonly CaptureInterface[];
  /** After `NeedMore`: how many contiguous bytes from `window.pos` the parser needs. */
  readonly needBytes: number;
  /** Parses into `out`; with `out === null` only reads headers and stops at the first packet. */
  fill(window: ChunkWindow, out: BatchFiller | null): Fill;
}

/** One parse pass that copies the pending packet run into the batch even when the parser throws. */
export function fillFrom(parser: RecordParser, window: ChunkWindow, out: BatchFiller | null): Fill {
  try {
    return parser.fill(window, out);
  } finally {
    out?.flush();
  }
}
