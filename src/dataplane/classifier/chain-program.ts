/**
 * One base chain as the hook sees it: a `ChainProgram` that evaluates the shared ruleset from
 * this chain's first rule with this chain's policy. User chains have no program of their own;
 * they are reached through jump/goto inside the ruleset.
 *
 * A chain of type nat sees only the first packet of each connection, as in netfilter: its nat
 * hooks (nf_nat_inet_fn) run the nat chains only while the conntrack entry is new and its NAT
 * for that hook's direction is not yet set up (`nf_nat_initialized`), and the first packet sets
 * it up at every nat hook it passes — with a "null binding" when no rule asked for NAT. Every
 * later packet of the flow, replies and RELATED ICMP errors included, is translated from the
 * binding stored in the conntrack entry (here: the flow's keys and CT_NAT_* bits, applied by
 * nat-dst / nat-src) without consulting the chains; packets without a conntrack entry (invalid,
 * untracked) are never NATed. So a nat chain's counters count connections, and a changed nat
 * chain affects new connections only. In ferry the first packet of a connection is the one
 * conntrack-in proposed a flow for (ct state NEW, `meta.ct` still −1 until conntrack-confirm
 * inserts it) — the same condition under which nat-dst / nat-src carry out a chain's NAT request;
 * once the flow is confirmed, with or without a translation, that confirmation is its binding.
 */

import { CT_NEW } from '../../control/config/types.js';
import type { PacketMeta } from '../pipeline/packet-meta.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { type ChainProgram, type Hook, type HookName, VERDICT_ACCEPT } from '../stages/hook.js';
import { type BaseChainContext, EV_NAT_NOT_RUN, type Ruleset } from './ruleset.js';
import { formatRulesetEvent } from './trace-text.js';

export interface BaseChainSpec {
  readonly name: string;
  readonly hook: HookName;
  readonly priority: number;
  readonly chain: number;
  readonly policy: number;
  /** A chain of type nat: evaluated for a connection's first packet only (see above). */
  readonly firstPacketOnly: boolean;
  readonly tcpResetDrop: number;
  readonly jumpTooDeepDrop: number;
}

/** Whether slot s carries the first packet of a connection: a proposed flow, not yet confirmed. */
function startsFlow(m: PacketMeta, s: number): boolean {
  return m.ct[s]! < 0 && m.ctState[s] === CT_NEW;
}

export class BaseChainProgram implements ChainProgram, BaseChainContext {
  readonly name: string;
  readonly hook: HookName;
  readonly priority: number;
  readonly chain: number;
  readonly policy: number;
  readonly firstPacketOnly: boolean;
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
    this.firstPacketOnly = spec.firstPacketOnly;
    // Packets at the output hook are the router's own: like Linux's LOCAL_OUT, they have no input device.
    this.noInputPort = spec.hook === 'output';
    this.tcpResetDrop = spec.tcpResetDrop;
    this.jumpTooDeepDrop = spec.jumpTooDeepDrop;
  }

  run(pipe: Pipeline, s: number, hook: Hook): number {
    if (this.firstPacketOnly && !startsFlow(pipe.meta, s)) return this.notRun(pipe, s, hook);
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
    if (!this.firstPacketOnly) return this.ruleset.runVector(pipe, slots, from, n, hook, this, verdicts);
    // A nat chain: packets of confirmed flows are accepted untouched; each run of consecutive
    // first packets is evaluated as one sub-vector, stopping where the ruleset stops.
    const m = pipe.meta;
    const ct = m.ct;
    const state = m.ctState;
    const traced = m.traceId;
    let k = from;
    while (k < n) {
      for (; k < n; k++) {
        const s = slots[k]!;
        // startsFlow, over arrays read once per vector (this loop is the per-packet cost of the chain).
        if (ct[s]! < 0 && state[s] === CT_NEW) break;
        verdicts[k] = VERDICT_ACCEPT;
        if (traced[s] !== 0) this.traceNotRun(pipe, s, hook);
      }
      if (k === n) break;
      let end = k + 1;
      while (end < n && startsFlow(m, slots[end]!)) end++;
      const at = this.ruleset.runVector(pipe, slots, k, end, hook, this, verdicts);
      if (at < end) return at;
      k = end;
    }
    return n;
  }

  /** A nat chain passing over a packet that starts no connection: accepted, and said so in a trace. */
  private notRun(pipe: Pipeline, s: number, hook: Hook): number {
    if (pipe.meta.traceId[s] !== 0) this.traceNotRun(pipe, s, hook);
    return VERDICT_ACCEPT;
  }

  private traceNotRun(pipe: Pipeline, s: number, hook: Hook): void {
    const m = pipe.meta;
    pipe.trace(s, hook, (this.slot << 16) | EV_NAT_NOT_RUN, this.chain, m.ct[s]! + 1, m.ctState[s]!);
  }

  formatTrace(event: number, a: number, b: number, c: number, d: number): string {
    return formatRulesetEvent(this.ruleset, event, a, b, c, d);
  }
}
