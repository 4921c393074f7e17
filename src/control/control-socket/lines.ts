/**
 * Splits a byte stream into text lines, with a bound on how long a line may grow before its
 * newline arrives (so a peer that never sends one cannot make us buffer without end). The pieces
 * of an unfinished line are kept as they came and joined once, when its newline arrives: linear
 * in the line's length however it is chunked.
 */

export interface SplitResult {
  /** Lines completed by the chunk (without newline or CR; blank ones left out). */
  readonly lines: string[];
  /** The unfinished line is longer than the bound: stop reading this stream. */
  readonly overflow: boolean;
}

export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxLine: number) {}

  push(chunk: Buffer): SplitResult {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      this.emit(this.parts.length ? Buffer.concat([...this.parts, piece]) : piece, lines);
      this.parts = [];
      this.size = 0;
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.parts.push(chunk.subarray(start));
      this.size += chunk.length - start;
    }
    return { lines, overflow: this.size > this.maxLine };
  }

  /** What is left when the stream ends (a last line without its newline), or ''. */
  end(): string {
    const out: string[] = [];
    if (this.parts.length) this.emit(Buffer.concat(this.parts), out);
    this.parts = [];
    this.size = 0;
    return out[0] ?? '';
  }

  private emit(bytes: Buffer, out: string[]): void {
    const text = bytes.toString('utf8');
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (line.trim()) out.push(line);
  }
}
