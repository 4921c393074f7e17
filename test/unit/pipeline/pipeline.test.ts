import { describe, expect, it } from 'vitest';
import { PacketBatch } from '../../../src/dataplane/batch.js';
import { Pipeline } from '../../../src/dataplane/pipeline/pipeline.js';
import { Stage } from '../../../src/dataplane/pipeline/stage.js';

/** Routes even-length packets to `evens`, odd to `odds`, drops empty ones. */
class Split extends Stage {
  readonly name = 'split';
  private readonly emptyDrop: number;
  constructor(
    pipe: Pipeline,
    private readonly evens: Stage,
    private readonly odds: Stage,
  ) {
    super();
    this.emptyDrop = pipe.drops.register('empty');
  }
  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const len = pipe.batch.length[s]!;
      if (len === 0) {
        pipe.drop(s, this.emptyDrop);
        continue;
      }
      pipe.trace(s, this, len & 1, len);
      pipe.next(len & 1 ? this.odds : this.evens, s);
    }
  }
  override formatTrace = (event: number, a: number) => `${event ? 'odd' : 'even'} length ${a}`;
}

class Sink extends Stage {
  seen: number[] = [];
  constructor(readonly name: string) {
    super();
  }
  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    for (let k = 0; k < n; k++) {
      this.seen.push(slots[k]!);
      pipe.consume(slots[k]!);
    }
  }
}

/** Sends every packet back to an earlier stage: a mis-wired graph. */
class Bounce extends Stage {
  readonly name = 'bounce';
  target!: Stage;
  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    for (let k = 0; k < n; k++) pipe.next(this.target, slots[k]!);
  }
}

function batchOf(lengths: number[]): PacketBatch {
  const b = new PacketBatch(8, 8 * 64);
  lengths.forEach((len, i) => {
    b.offset[i] = i * 64;
    b.length[i] = len;
    b.port[i] = i % 2;
  });
  b.count = lengths.length;
  return b;
}

describe('pipeline dispatch', () => {
  it('hands each packet to exactly one next stage, one call per stage per batch', () => {
    const pipe = new Pipeline(8);
    const evens = new Sink('evens');
    const odds = new Sink('odds');
    const split = new Split(pipe, evens, odds);
    pipe.add(split);
    pipe.add(evens);
    pipe.add(odds);
    pipe.run(batchOf([60, 61, 0, 64, 99]), split);
    expect(evens.seen).toEqual([0, 3]);
    expect(odds.seen).toEqual([1, 4]);
    expect(pipe.drops.snapshot()).toEqual({ empty: 1 });
    const rt = pipe.runtime();
    expect(rt.map((r) => [r.stage, r.packets, r.calls])).toEqual([
      ['split', 5, 1],
      ['evens', 2, 1],
      ['odds', 2, 1],
    ]);
  });

  it('bounds passes when a stage loops packets back, dropping them as pipeline-loop', () => {
    const pipe = new Pipeline(8);
    const a = new Bounce();
    const b = new Bounce();
    a.target = b;
    b.target = a;
    pipe.add(a);
    pipe.add(b);
    pipe.run(batchOf([60, 60, 60]), a);
    expect(pipe.drops.get('pipeline-loop')).toBe(3);
  });

  it('traces only armed packets and formats records only when drained', () => {
    const pipe = new Pipeline(8);
    const evens = new Sink('evens');
    const odds = new Sink('odds');
    const split = new Split(pipe, evens, odds);
    pipe.add(split);
    pipe.add(evens);
    pipe.add(odds);
    pipe.tracer.arm(2);
    pipe.run(batchOf([0, 61, 64]), split);
    const traced = pipe.drainTrace();
    expect(traced.map((p) => [p.id, p.port, p.length, p.steps.map((s) => `${s.stage}: ${s.text}`)])).toEqual([
      [1, 0, 0, ['split: drop: empty']],
      [2, 1, 61, ['split: odd length 61']],
    ]);
    expect(pipe.drainTrace()).toEqual([]);
  });
});
