/**
 * A netfilter-style hook point (prerouting, input, forward, output, postrouting): runs the rule
 * chains attached to it, in priority order, over each packet. A chain program may change the
 * packet's marks, DSCP or addresses and returns a verdict; accept continues down the graph.
 * With no chain attached the hook is a plain pass-through.
 */
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { ICMPV4_DEST_UNREACH } from '../wire/icmpv4.js';
import type { IcmpErrors } from './icmp-errors.js';

export const VERDICT_ACCEPT = 0;
export const VERDICT_DROP = 1;
/** Reject: drop and answer with ICMP destination unreachable, code in bits 8..15. */
export const VERDICT_REJECT = 2;
/** Consumed by the program (e.g. sent elsewhere); nothing more to do here. */
export const VERDICT_STOLEN = 3;

export type HookName = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';

/** A compiled chain (the classifier produces these). */
export interface ChainProgram {
  /** Evaluates the packet in slot s; returns VERDICT_* (REJECT | code << 8). */
  run(pipe: Pipeline, s: number, hook: Hook): number;
  /** Explains one of the program's trace events. */
  formatTrace?(event: number, a: number, b: number, c: number, d: number): string;
}

export class Hook extends Stage {
  readonly name: string;
  private readonly dropped: number;
  private readonly rejected: number;
  programs: ChainProgram[] = [];
  next!: Stage;

  constructor(
    pipe: Pipeline,
    readonly hook: HookName,
    private readonly icmp: IcmpErrors,
  ) {
    super();
    this.name = hook;
    this.dropped = pipe.drops.register(`${hook}-drop`);
    this.rejected = pipe.drops.register(`${hook}-reject`);
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const progs = this.programs;
    if (progs.length === 0) {
      for (let k = 0; k < n; k++) pipe.nextId(this.next.id, slots[k]!);
      return;
    }
    outer: for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      for (let p = 0; p < progs.length; p++) {
        const v = progs[p]!.run(pipe, s, this);
        const kind = v & 0xff;
        if (kind === VERDICT_ACCEPT) continue;
        if (kind === VERDICT_STOLEN) {
          pipe.consume(s);
        } else if (kind === VERDICT_REJECT) {
          this.icmp.send(pipe, s, ICMPV4_DEST_UNREACH, v >>> 8);
          pipe.drop(s, this.rejected);
        } else {
          pipe.drop(s, this.dropped);
        }
        continue outer;
      }
      pipe.nextId(this.next.id, s);
    }
  }

  /** Programs trace with event = (program index << 16) | their own event code. */
  override formatTrace = (e: number, a: number, b: number, c: number, d: number): string =>
    this.programs[e >>> 16]?.formatTrace?.(e & 0xffff, a, b, c, d) ?? `${this.hook} event ${e & 0xffff}`;
}
