import { describe, expect, it } from 'vitest';
import { PacketBatch } from '../../../src/dataplane/batch.js';
import { PacketMeta } from '../../../src/dataplane/pipeline/packet-meta.js';
import { Pipeline } from '../../../src/dataplane/pipeline/pipeline.js';
import { Stage } from '../../../src/dataplane/pipeline/stage.js';

/** Records the vectors it is given. */
class Sink extends Stage {
  readonly vectors: number[][] = [];
  constructor(readonly name: string) {
    super();
  }
  process(_pipe: Pipeline, slots: Uint16Array, n: number): void {
    this.vectors.push(Array.from(slots.subarray(0, n)));
  }
}

/** Keeps the slots whose packet length is odd, compacted in place, and hands them on at once. */
class OddOnly extends Stage {
  readonly name = 'odd-only';
  next!: Stage;
  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    let w = 0;
    for (let k = 0; k < n; k++) if (pipe.batch.length[slots[k]!]! & 1) slots[w++] = slots[k]!;
    pipe.nextAll(this.next.id, slots, w);
  }
}

/** Sends slot 0 straight to `to` (ahead of the others), the rest to `next`. */
class FirstAhead extends Stage {
  readonly name = 'first-ahead';
  next!: Stage;
  to!: Stage;
  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    for (let k = 0; k < n; k++) pipe.nextId(slots[k] === 0 ? this.to.id : this.next.id, slots[k]!);
  }
}

function batchOf(lengths: number[]): PacketBatch {
  const b = new PacketBatch(lengths.length, lengths.length * 64);
  lengths.forEach((len, i) => {
    b.offset[i] = i * 64;
    b.length[i] = len;
  });
  b.count = lengths.length;
  return b;
}

describe('Pipeline.nextAll', () => {
  it('hands a compacted vector on whole, in order, and keeps working batch after batch', () => {
    const pipe = new Pipeline(8);
    const odd = pipe.add(new OddOnly());
    const sink = pipe.add(new Sink('sink'));
    odd.next = sink;
    pipe.run(batchOf([1, 2, 3, 5, 4, 7]), odd);
    pipe.run(batchOf([2, 1, 1]), odd);
    pipe.run(batchOf([2, 4]), odd);
    pipe.run(batchOf([9, 9, 9, 9, 9, 9, 9, 9]), odd);
    // A vector with nothing left is not a call: the dispatcher skips empty queues.
    expect(sink.vectors).toEqual([
      [0, 2, 3, 5],
      [1, 2],
      [0, 1, 2, 3, 4, 5, 6, 7],
    ]);
  });

  it('appends behind what the next stage already holds', () => {
    const pipe = new Pipeline(8);
    const first = pipe.add(new FirstAhead());
    const odd = pipe.add(new OddOnly());
    const sink = pipe.add(new Sink('sink'));
    first.next = odd;
    first.to = sink;
    odd.next = sink;
    pipe.run(batchOf([1, 3, 4, 5]), first);
    // Slot 0 reached the sink first; odd-only's vector is appended after it, not swapped over it.
    expect(sink.vectors).toEqual([[0, 1, 3]]);
  });
});

describe('PacketMeta.admitAll', () => {
  it('leaves every slot as admit() does', () => {
    const n = 5;
    const port = Uint16Array.from([3, 1, 4, 1, 5]);
    const offset = Uint32Array.from([0, 2048, 4096, 6144, 8192]);
    const a = new PacketMeta(8);
    const b = new PacketMeta(8);
    for (const m of [a, b]) {
      // Leftovers from an earlier run, which admission must clear.
      for (const [k, v] of Object.entries(m))
        if (
          v instanceof Uint8Array ||
          v instanceof Uint16Array ||
          v instanceof Uint32Array ||
          v instanceof Int32Array
        )
          (m as unknown as Record<string, typeof v>)[k]!.fill(7);
    }
    for (let i = 0; i < n; i++) a.admit(i, port[i]!, offset[i]!);
    b.admitAll(port, offset, n);
    for (const [k, v] of Object.entries(a)) {
      if (ArrayBuffer.isView(v))
        expect(Array.from(v as Uint8Array), k).toEqual(
          Array.from((b as unknown as Record<string, Uint8Array>)[k]!),
        );
    }
  });
});
