/**
 * The bytes of a capture a parser can see right now: `buf[pos, end)` holds the file bytes from
 * offset `base + pos` on. A file reader refills it chunk by chunk; an in-memory reader points it
 * at the whole buffer once, with `eof` already set. Parsers advance `pos` past whole records
 * only, so a record never has to be parsed twice.
 */
export class ChunkWindow {
  /** First unconsumed byte. */
  pos = 0;

  constructor(
    public buf: Uint8Array,
    /** End of the valid bytes in `buf`. */
    public end: number,
    /** True when no bytes follow `end`: a parser that needs more has found a truncation. */
    public eof: boolean,
    /** Absolute file offset of `buf[0]`. */
    public base = 0,
  ) {}

  /** Absolute file offset of `buf[i]` (for error messages). */
  at(i: number): number {
    return this.base + i;
  }
}
