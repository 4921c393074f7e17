/**
 * A netfilter-style hook point (prerouting, input, forward, output, postrouting): runs the rule
 * chains attached to it, in priority order, over each packet. A chain program may change the
 * packet's marks or DSCP, or record a NAT request, and returns a verdict; accept continues down
 * the graph.
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

/**
 * A compiled chain (the classifier produces these). A program decides which packets it evaluates:
 * one it passes over is accepted, neither its rules nor its policy applying — a chain of type nat
 * passes over every packet but a connection's first (classifier/chain-program.ts).
 */
export interface ChainProgram {
  /** Evaluates the packet in slot s; returns VERDICT_* (REJECT | code << 8). */
  run(pipe: Pipeline, s: number, hook: Hook): number;
  /**
   * Optional, the same over a vector: evaluates slots[from..n) in order into verdicts[k], and
   * stops after the first verdict that is not accept, returning its k (n when all accepted).
   */
  runVector?(
    pipe: Pipeline,
    slots: Uint16Array,
    from: number,
    n: number,
    hook: Hook,
    verdicts: Int32Array,
  ): number;
  /** Explains one of the program's trace events. */
  formatTrace?(event: number, a: number, b: number, c: number, d: number): string;
}

export class Hook extends Stage {
  readonly name: string;
  private readonly dropped: number;
  private readonly rejected: number;
  programs: ChainProgram[] = [];
  next!: Stage;
  /** Verdict per vector position (processVector). */
  private readonly verdicts: Int32Array;

  constructor(
    pipe: Pipeline,
    readonly hook: HookName,
    private readonly icmp: IcmpErrors,
  ) {
    super();
    this.name = hook;
    this.dropped = pipe.drops.register(`${hook}-drop`);
    this.rejected = pipe.drops.register(`${hook}-reject`);
    this.verdicts = new Int32Array(pipe.capacity);
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const progs = this.programs;
    if (progs.length === 0) {
      pipe.nextAll(this.next.id, slots, n);
      return;
    }
    const only = progs[0]!;
    if (progs.length === 1 && only.runVector !== undefined) {
      this.processVector(pipe, slots, n, only);
      return;
    }
    outer: for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      for (let p = 0; p < progs.length; p++) {
        const v = progs[p]!.run(pipe, s, this);
        if ((v & 0xff) === VERDICT_ACCEPT) continue;
        this.refuse(pipe, s, v);
        continue outer;
      }
      pipe.nextId(this.next.id, s);
    }
  }

  /** One program that evaluates vectors: verdicts are acted on in packet order, as above. */
  private processVector(pipe: Pipeline, slots: Uint16Array, n: number, prog: ChainProgram): void {
    const verdicts = this.verdicts;
    let refused = 0;
    for (let k = 0; k < n; ) {
      const at = prog.runVector!(pipe, slots, k, n, this, verdicts);
      if (at === n) break;
      this.refuse(pipe, slots[at]!, verdicts[at]!);
      refused++;
      k = at + 1;
    }
    if (refused === 0) {
      pipe.nextAll(this.next.id, slots, n);
      return;
    }
    const next = this.next.id;
    for (let k = 0; k < n; k++) if ((verdicts[k]! & 0xff) === VERDICT_ACCEPT) pipe.nextId(next, slots[k]!);
  }

  /** Acts on a verdict other than accept. */
  private refuse(pipe: Pipeline, s: number, v: number): void {
    const kind = v & 0xff;
    if (kind === VERDICT_STOLEN) {
      pipe.consume(s);
    } else if (kind === VERDICT_REJECT) {
      this.icmp.send(pipe, s, ICMPV4_DEST_UNREACH, v >>> 8);
      pipe.drop(s, this.rejected);
    } else {
      pipe.drop(s, this.dropped);
    }
  }

  /** Programs trace with event = (program index << 16) | their own event code. */
  override formatTrace = (e: number, a: number, b: number, c: number, d: number): string =>
    this.programs[e >>> 16]?.formatTrace?.(e & 0xffff, a, b, c, d) ?? `${this.hook} event ${e & 0xffff}`;
}
