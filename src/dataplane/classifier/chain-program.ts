/**
 * One base chain as the hook sees it: a `ChainProgram` that evaluates the shared ruleset from
 * this chain's first rule with this chain's policy. User chains have no program of their own;
 * they are reached through jump/goto inside the ruleset.
 */

import type { Pipeline } from '../pipeline/pipeline.js';
import type { ChainProgram, Hook, HookName } from '../stages/hook.js';
import type { BaseChainContext, Ruleset } from './ruleset.js';
import { formatRulesetEvent } from './trace-text.js';

export interface BaseChainSpec {
  readonly name: string;
  readonly hook: HookName;
  readonly priority: number;
  readonly chain: number;
  readonly policy: number;
  readonly tcpResetDrop: number;
  readonly jumpTooDeepDrop: number;
}

export class BaseChainProgram implements ChainProgram, BaseChainContext {
  readonly name: string;
  readonly hook: HookName;
  readonly priority: number;
  readonly chain: number;
  readonly policy: number;
  readonly noInputPort: boolean;
  readonly tcpResetDrop: number;
  readonly jumpTooDeepDrop: number;
  /** Position in the hook's program list (set when attached). */
  slot = 0;

  constructor(
    /** The shared ruleset (its counters are read by `ferry status` and /metrics). */
    readonly ruleset: Ruleset,
    spec: BaseChainSpec,
  ) {
    this.name = spec.name;
    this.hook = spec.hook;
    this.priority = spec.priority;
    this.chain = spec.chain;
    this.policy = spec.policy;
    // Packets at the output hook are the router's own: like Linux's LOCAL_OUT, they have no input device.
    this.noInputPort = spec.hook === 'output';
    this.tcpResetDrop = spec.tcpResetDrop;
    this.jumpTooDeepDrop = spec.jumpTooDeepDrop;
  }

  run(pipe: Pipeline, s: number, hook: Hook): number {
    return this.ruleset.run(pipe, s, hook, this);
  }

  runVector(
    pipe: Pipeline,
    slots: Uint16Array,
    from: number,
    n: number,
    hook: Hook,
    verdicts: Int32Array,
  ): number {
    return this.ruleset.runVector(pipe, slots, from, n, hook, this, verdicts);
  }

  formatTrace(event: number, a: number, b: number, c: number, d: number): string {
    return formatRulesetEvent(this.ruleset, event, a, b, c, d);
  }
}
