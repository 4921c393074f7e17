import { describe, expect, it } from 'vitest';
import { PacketBatch } from '../../../src/dataplane/batch.js';
import { Pipeline } from '../../../src/dataplane/pipeline/pipeline.js';
import { Stage } from '../../../src/dataplane/pipeline/stage.js';
import {
  type ChainProgram,
  Hook,
  VERDICT_ACCEPT,
  VERDICT_DROP,
  VERDICT_REJECT,
} from '../../../src/dataplane/stages/hook.js';
import type { IcmpErrors } from '../../../src/dataplane/stages/icmp-errors.js';

/** What happened, in order: program evaluations, ICMP errors sent, packets passed on. */
type Event = string;

class Sink extends Stage {
  readonly name = 'sink';
  constructor(private readonly log: Event[]) {
    super();
  }
  process(_pipe: Pipeline, slots: Uint16Array, n: number): void {
    for (let k = 0; k < n; k++) this.log.push(`out ${slots[k]}`);
  }
}

/** Verdict by packet length: 1 accept, 2 drop, 3 reject (code 9); logs each evaluation. */
function verdictOf(len: number): number {
  return len === 2 ? VERDICT_DROP : len === 3 ? VERDICT_REJECT | (9 << 8) : VERDICT_ACCEPT;
}

function program(log: Event[], vector: boolean): ChainProgram {
  const run = (pipe: Pipeline, s: number): number => {
    log.push(`eval ${s}`);
    return verdictOf(pipe.batch.length[s]!);
  };
  if (!vector) return { run };
  return {
    run,
    runVector(pipe, slots, from, n, _hook, verdicts) {
      for (let k = from; k < n; k++) {
        const v = run(pipe, slots[k]!);
        verdicts[k] = v;
        if ((v & 0xff) !== VERDICT_ACCEPT) return k;
      }
      return n;
    },
  };
}

function runHook(lengths: number[], vector: boolean): { log: Event[]; drops: Record<string, number> } {
  const log: Event[] = [];
  const pipe = new Pipeline(8);
  const icmp = {
    send: (_p: Pipeline, s: number, type: number, code: number) => {
      log.push(`icmp ${s} ${type}/${code}`);
      return true;
    },
  } as unknown as IcmpErrors;
  const hook = pipe.add(new Hook(pipe, 'forward', icmp));
  hook.next = pipe.add(new Sink(log));
  hook.programs.push(program(log, vector));
  const b = new PacketBatch(8, 8 * 64);
  lengths.forEach((len, i) => {
    b.offset[i] = i * 64;
    b.length[i] = len;
  });
  b.count = lengths.length;
  pipe.run(b, hook);
  return { log, drops: pipe.drops.snapshot() };
}

describe('hook with one vector program', () => {
  it('does what the per-packet loop does, in the same order', () => {
    for (const lengths of [[1, 1, 1], [1, 3, 1, 2, 1], [3, 3, 2, 1], [2], [1, 1, 3]]) {
      expect(runHook(lengths, true)).toEqual(runHook(lengths, false));
    }
    expect(runHook([1, 3, 1, 2, 1], true)).toEqual({
      log: ['eval 0', 'eval 1', 'icmp 1 3/9', 'eval 2', 'eval 3', 'eval 4', 'out 0', 'out 2', 'out 4'],
      drops: { 'forward-drop': 1, 'forward-reject': 1 },
    });
  });
});
