import { type FileHandle, open } from 'node:fs/promises';

/**
 * Where a capture writer's bytes go. `write` may keep nothing: the writer reuses its buffer as
 * soon as the returned promise settles.
 */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** A file opened for writing (created or truncated). */
export class FileSink implements ByteSink {
  private constructor(private readonly fh: FileHandle) {}

  static async open(path: string): Promise<FileSink> {
    return new FileSink(await open(path, 'w'));
  }

  async write(bytes: Uint8Array): Promise<void> {
    for (let off = 0; off < bytes.length; ) {
      const { bytesWritten } = await this.fh.write(bytes, off, bytes.length - off);
      off += bytesWritten;
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** Collects the bytes in memory (tests, and benches that replay what they wrote). */
export class MemorySink implements ByteSink {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  async write(bytes: Uint8Array): Promise<void> {
    this.chunks.push(bytes.slice());
    this.size += bytes.length;
  }

  async close(): Promise<void> {}

  /** Everything written so far, as one array. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}
