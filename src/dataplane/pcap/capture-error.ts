/**
 * Why a capture file could not be read further. Readers deliver every packet before the fault,
 * then raise one of these; its message names the file, the absolute byte offset and what was
 * expected there, e.g. `capture.pcap: truncated record header at byte 1234: expected 16 bytes, found 7`.
 */

export type CaptureErrorCode =
  /** The first bytes are no pcap or pcapng magic number (or a known format ferry does not read). */
  | 'bad-magic'
  /** The file header names a format version ferry does not read. */
  | 'unsupported-version'
  /** The file ends inside a header, record or block. */
  | 'truncated'
  /** A length field is impossible: captured > original, block length not a multiple of 4, … */
  | 'bad-length'
  /** A length is larger than any sane capture holds (see MAX_CAPTURE_BYTES). */
  | 'too-large'
  /** A pcapng block's trailing total length differs from its leading one. */
  | 'length-mismatch'
  /** A packet names an interface that no IDB of its section declared. */
  | 'unknown-interface'
  /** A pcapng file that does not start with a Section Header Block. */
  | 'no-section-header'
  /** A pcapng option runs past its block or has the wrong size. */
  | 'bad-option';

export class CaptureFormatError extends Error {
  override readonly name = 'CaptureFormatError';

  constructor(
    /** File name as given to the reader (or the label of an in-memory buffer). */
    readonly file: string,
    readonly code: CaptureErrorCode,
    /** What was being read, in words: "truncated record header". */
    readonly what: string,
    /** Absolute byte offset in the file of the faulty structure or field. */
    readonly offset: number,
    /** What the format requires there, in words: "16 bytes", "2.4". */
    readonly expected: string,
    /** What the file holds instead. */
    readonly found: string,
  ) {
    super(`${file}: ${what} at byte ${offset}: expected ${expected}, found ${found}`);
  }
}
