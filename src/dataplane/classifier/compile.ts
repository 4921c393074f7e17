/**
 * Compiles the config's chains into a Ruleset (every rule a fixed record of match fields plus its
 * statement code: see "rule records and statements" in ruleset.ts) and one BaseChainProgram per
 * base chain, grouped by hook in priority order (lower first, as nftables runs them; equal
 * priorities keep the config's order).
 *
 * Statements keep their order; the rule's trace record (Stmt.Trace) goes after its statements and
 * before its verdict, so a trace shows the marks the rule left and comes before anything a jump
 * leads to. Rule text for traces and `ferry status` is written here, once (describe.ts).
 */
import type {
  Action,
  AddrMatch,
  ChainConfig,
  ChainRule,
  Match,
  PortMatch,
  SetConfig,
} from '../../control/config/types.js';
import { NAT_DNAT, NAT_MASQUERADE, NAT_SNAT } from '../pipeline/packet-meta.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { Stage } from '../pipeline/stage.js';
import { type HookName, VERDICT_ACCEPT, VERDICT_DROP } from '../stages/hook.js';
import type { RouterContext } from '../stages/router-context.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from '../wire/ethernet.js';
import {
  ICMPV4_UNREACH_ADMIN_PROHIBITED,
  ICMPV4_UNREACH_HOST,
  ICMPV4_UNREACH_NET,
  ICMPV4_UNREACH_PORT,
} from '../wire/icmpv4.js';
import { BaseChainProgram } from './chain-program.js';
import { checkRule, reachingHooks, ruleFamily, where } from './check-ruleset.js';
import { actionText, matchText, type Names, showsMarks } from './describe.js';
import { packPorts, packPrefixes4, packPrefixes6 } from './range-set.js';
import { Has, Negated, Ruleset, RuleWord, Stmt } from './ruleset.js';
import { TcpResetter } from './tcp-reset.js';

export interface RulesetDeps {
  /** The engine's pipeline: drop reasons are registered there. */
  readonly pipe: Pipeline;
  /** Port names (for traces), local addresses and the originated batch (TCP RSTs). */
  readonly ctx: RouterContext;
  /** Where originated packets start: local-output routing (ip4-output). */
  readonly output: () => Stage;
}

export const HOOK_NAMES: readonly HookName[] = ['prerouting', 'input', 'forward', 'output', 'postrouting'];

export interface CompiledRuleset {
  readonly ruleset: Ruleset;
  /** Per hook, its base chains in the order they run. */
  readonly hooks: Readonly<Record<HookName, readonly BaseChainProgram[]>>;
}

/** ICMP destination-unreachable codes of `reject with …` (RFC 792, RFC 1812 §5.2.7.1). */
const REJECT_CODES: Readonly<Record<string, number>> = {
  'port-unreachable': ICMPV4_UNREACH_PORT,
  'host-unreachable': ICMPV4_UNREACH_HOST,
  'net-unreachable': ICMPV4_UNREACH_NET,
  'admin-prohibited': ICMPV4_UNREACH_ADMIN_PROHIBITED,
};

const NAT_KINDS = { masquerade: NAT_MASQUERADE, snat: NAT_SNAT, dnat: NAT_DNAT } as const;

/** Builds the word pool: set ranges and port bitmasks, each stored once. */
class Pool {
  readonly words: number[] = [];
  private readonly named = new Map<string, number>();

  add(words: readonly number[], key?: string): number {
    if (key !== undefined) {
      const known = this.named.get(key);
      if (known !== undefined) return known;
    }
    const at = this.words.length;
    this.words.push(...words);
    if (key !== undefined) this.named.set(key, at);
    return at;
  }
}

class Emitter {
  readonly rules: number[] = [];
  readonly stmts: number[] = [];
  readonly pool = new Pool();
  private readonly maskWords: number;

  constructor(
    private readonly sets: readonly SetConfig[],
    portCount: number,
  ) {
    this.maskWords = Math.max(1, Math.ceil(portCount / 32));
  }

  private portMask(ports: readonly number[]): number {
    const w = new Array<number>(this.maskWords).fill(0);
    for (const p of ports) w[p >>> 5] = w[p >>> 5]! | (1 << (p & 31));
    return this.pool.add(w, `ports:${[...ports].sort((a, b) => a - b).join(',')}`);
  }

  private addrSet(m: AddrMatch): number {
    const prefixes = m.set >= 0 ? (this.sets[m.set]?.prefixes ?? m.prefixes) : m.prefixes;
    const words =
      m.family === 4
        ? packPrefixes4(prefixes.filter((p) => p.family === 4))
        : packPrefixes6(prefixes.filter((p) => p.family === 6));
    return this.pool.add(words, m.set >= 0 ? `set:${m.set}` : undefined);
  }

  private portSet(m: PortMatch): number {
    const ranges = m.set >= 0 ? (this.sets[m.set]?.ports ?? m.ranges) : m.ranges;
    return this.pool.add(packPorts(ranges), m.set >= 0 ? `set:${m.set}` : undefined);
  }

  /** Appends the rule's match record; `family` binds it to IPv4 or IPv6 (0: either). */
  rule(m: Match, family: 0 | 4 | 6): void {
    const w = new Array<number>(RuleWord.Words).fill(0);
    let f = 0;
    if (family !== 0) {
      f |= Has.Family;
      w[RuleWord.Family] = family === 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
    }
    if (m.iif) {
      f |= Has.Iif | (m.iif.negate ? Negated.Iif : 0);
      w[RuleWord.Iif] = this.portMask(m.iif.ports);
    }
    if (m.oif) {
      f |= Has.Oif | (m.oif.negate ? Negated.Oif : 0);
      w[RuleWord.Oif] = this.portMask(m.oif.ports);
    }
    if (m.mark) {
      f |= Has.Mark;
      w[RuleWord.MarkMask] = m.mark.mask | 0;
      w[RuleWord.MarkValue] = m.mark.value | 0;
    }
    if (m.ctMark) {
      f |= Has.CtMark;
      w[RuleWord.CtMarkMask] = m.ctMark.mask | 0;
      w[RuleWord.CtMarkValue] = m.ctMark.value | 0;
    }
    if (m.ctState !== 0) {
      f |= Has.CtState;
      w[RuleWord.CtState] = m.ctState;
    }
    if (m.proto >= 0) {
      f |= Has.Proto;
      w[RuleWord.Proto] = m.proto;
    }
    if (m.dscp >= 0) {
      f |= Has.Dscp;
      w[RuleWord.Dscp] = m.dscp;
    }
    if (m.src) {
      f |= (m.src.family === 4 ? Has.Src4 : Has.Src6) | (m.src.negate ? Negated.Src : 0);
      w[RuleWord.Src] = this.addrSet(m.src);
    }
    if (m.dst) {
      f |= (m.dst.family === 4 ? Has.Dst4 : Has.Dst6) | (m.dst.negate ? Negated.Dst : 0);
      w[RuleWord.Dst] = this.addrSet(m.dst);
    }
    if (m.sport) {
      f |= Has.Sport | (m.sport.negate ? Negated.Sport : 0);
      w[RuleWord.Sport] = this.portSet(m.sport);
    }
    if (m.dport) {
      f |= Has.Dport | (m.dport.negate ? Negated.Dport : 0);
      w[RuleWord.Dport] = this.portSet(m.dport);
    }
    w[RuleWord.Flags] = f;
    w[RuleWord.Stmts] = this.stmts.length;
    this.rules.push(...w);
  }

  private emit(...words: number[]): void {
    this.stmts.push(...words);
  }

  /** Emits one statement; returns true when it was the rule's verdict. */
  action(a: Action): boolean {
    switch (a.kind) {
      case 'counter':
        this.emit(Stmt.Counter);
        return false;
      case 'mark':
        this.emit(Stmt.MarkSet, ~a.mask | 0, a.value | 0);
        return false;
      case 'ct-mark':
        if (a.op === 'set') this.emit(Stmt.CtMarkSet, ~a.mask | 0, a.value | 0);
        else this.emit(a.op === 'save' ? Stmt.CtMarkSave : Stmt.CtMarkRestore);
        return false;
      case 'dscp':
        this.emit(Stmt.DscpSet, a.value & 0x3f);
        return false;
      case 'accept':
        this.verdict(Stmt.Accept);
        return true;
      case 'drop':
        this.verdict(Stmt.Drop);
        return true;
      case 'return':
        this.verdict(Stmt.Return);
        return true;
      case 'reject':
        if (a.with === 'tcp-reset') this.verdict(Stmt.TcpReset);
        else this.verdict(Stmt.Reject, REJECT_CODES[a.with]!);
        return true;
      case 'jump':
        this.verdict(Stmt.Jump, a.chain);
        return true;
      case 'goto':
        this.verdict(Stmt.Goto, a.chain);
        return true;
      case 'masquerade':
        this.verdict(Stmt.Nat4, NAT_MASQUERADE, 0, 0, 0);
        return true;
      case 'snat':
      case 'dnat': {
        const min = a.ports?.min ?? 0;
        const max = a.ports?.max ?? 0;
        if (a.addr.family === 4) {
          this.verdict(Stmt.Nat4, NAT_KINDS[a.kind], a.addr.addr | 0, min, max);
        } else {
          const b = a.addr.addr;
          const words: number[] = [];
          for (let w = 0; w < 4; w++)
            words.push((b[4 * w]! << 24) | (b[4 * w + 1]! << 16) | (b[4 * w + 2]! << 8) | b[4 * w + 3]!);
          this.verdict(Stmt.Nat6, NAT_KINDS[a.kind], this.pool.add(words), min, max);
        }
        return true;
      }
    }
  }

  /** No verdict: trace, then continue with the next rule. */
  next(): void {
    this.emit(Stmt.Trace, Stmt.Next);
  }

  /** A verdict: the rule's trace record first, then the verdict. */
  private verdict(...words: number[]): void {
    this.emit(Stmt.Trace, ...words);
  }
}

/**
 * Compiles `chains` (and the `sets` they refer to) for a router with `portCount` ports.
 * Throws RulesetError, naming the chain and rule, for what could not run (check-ruleset.ts).
 */
export function compileRuleset(
  chains: readonly ChainConfig[],
  sets: readonly SetConfig[],
  portCount: number,
  deps: RulesetDeps,
): CompiledRuleset {
  const hooksOf = reachingHooks(chains);
  chains.forEach((c, i) => {
    c.rules.forEach((_, k) => {
      checkRule(c, k, hooksOf[i]!, sets, portCount);
    });
  });

  const names: Names = {
    port: (i) => deps.ctx.ports[i]?.name ?? `port${i}`,
    chain: (i) => chains[i]?.name ?? `chain-${i}`,
    sets,
  };
  const e = new Emitter(sets, portCount);
  const chainFirstRule: number[] = [];
  const chainEndRule: number[] = [];
  const ruleChain: number[] = [];
  const ruleIndex: number[] = [];
  const ruleText: string[] = [];
  const ruleComment: (string | null)[] = [];
  const ruleShowsMarks: number[] = [];

  for (const c of chains) {
    chainFirstRule.push(ruleChain.length);
    c.rules.forEach((rule: ChainRule, k) => {
      ruleChain.push(c.index);
      ruleIndex.push(k);
      const statements =
        rule.actions.length === 0 ? 'continue' : rule.actions.map((a) => actionText(a, names)).join(', ');
      ruleText.push(`(${matchText(rule.match, names)}): ${statements}`);
      ruleComment.push(rule.comment);
      ruleShowsMarks.push(showsMarks(rule.actions) ? 1 : 0);
      // Addresses and NAT targets bind a rule to one family, as `ip saddr` / `ip6 daddr` carry
      // nft's implicit `meta nfproto` dependency.
      e.rule(rule.match, ruleFamily(rule, where(c, k)));
      let ended = false;
      for (const a of rule.actions) ended = e.action(a) || ended;
      if (!ended) e.next();
    });
    chainEndRule.push(ruleChain.length);
  }

  const resetter = new TcpResetter(deps.ctx, deps.output);
  const ruleset = new Ruleset(
    {
      rules: Int32Array.from(e.rules),
      stmts: Int32Array.from(e.stmts),
      pool: Int32Array.from(e.pool.words),
      portCount,
      chainNames: chains.map((c) => c.name),
      chainFirstRule: Int32Array.from(chainFirstRule),
      chainEndRule: Int32Array.from(chainEndRule),
      ruleChain: Int32Array.from(ruleChain),
      ruleIndex: Int32Array.from(ruleIndex),
      ruleText,
      ruleComment,
      ruleShowsMarks: Uint8Array.from(ruleShowsMarks),
    },
    resetter,
  );

  const jumpTooDeepDrop = deps.pipe.drops.register('chain-jump-too-deep');
  const hooks = {} as Record<HookName, BaseChainProgram[]>;
  for (const h of HOOK_NAMES) hooks[h] = [];
  for (const c of chains) {
    if (c.hook === null) continue;
    hooks[c.hook].push(
      new BaseChainProgram(ruleset, {
        name: c.name,
        hook: c.hook,
        priority: c.priority,
        chain: c.index,
        policy: c.policy === 'drop' ? VERDICT_DROP : VERDICT_ACCEPT,
        firstPacketOnly: c.type === 'nat',
        // The hook counts ICMP rejects as `<hook>-reject`; TCP resets are counted there too.
        tcpResetDrop: deps.pipe.drops.register(`${c.hook}-reject`),
        jumpTooDeepDrop,
      }),
    );
  }
  for (const h of HOOK_NAMES) hooks[h].sort((a, b) => a.priority - b.priority);
  return { ruleset, hooks };
}
