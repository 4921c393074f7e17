/**
 * The ruleset's counters as plain rows, for `ferry status` and metrics: what each `counter`
 * statement counted (packets and IP bytes, as nft's `counter packets N bytes M`), how many packets
 * each base chain's policy decided, and how many were dropped for nesting jumps too deep.
 */
import type { CompiledRuleset } from './compile.js';
import { RuleWord, STMT_SIZE, Stmt } from './ruleset.js';

export interface RuleCounterRow {
  readonly chain: string;
  /** 1-based, as traces number rules. */
  readonly rule: number;
  readonly comment: string | null;
  readonly text: string;
  readonly packets: number;
  readonly bytes: number;
}

export interface PolicyCounterRow {
  readonly chain: string;
  readonly hook: string;
  readonly policy: 'accept' | 'drop';
  readonly packets: number;
}

export interface RulesetCounters {
  readonly rules: RuleCounterRow[];
  readonly policies: PolicyCounterRow[];
  readonly jumpTooDeep: number;
}

/** Rule ids whose statements include a `counter`. */
function countedRules(rules: Int32Array, stmts: Int32Array): number[] {
  const out: number[] = [];
  for (let id = 0; id * RuleWord.Words < rules.length; id++) {
    // Statements end at Stmt.Next or at the first verdict (Stmt.Accept and every opcode after it).
    for (
      let sp = rules[id * RuleWord.Words + RuleWord.Stmts]!;
      stmts[sp] !== Stmt.Next && stmts[sp]! < Stmt.Accept;
      sp += STMT_SIZE[stmts[sp]!]!
    ) {
      if (stmts[sp] === Stmt.Counter) {
        out.push(id);
        break;
      }
    }
  }
  return out;
}

export function rulesetCounters(compiled: CompiledRuleset): RulesetCounters {
  const rs = compiled.ruleset;
  const rules = countedRules(rs.rules, rs.stmts).map((id) => ({
    chain: rs.chainNames[rs.ruleChain[id]!]!,
    rule: rs.ruleIndex[id]! + 1,
    comment: rs.ruleComment[id] ?? null,
    text: rs.ruleText[id]!,
    packets: rs.packets[id]!,
    bytes: rs.bytes[id]!,
  }));
  const policies = Object.values(compiled.hooks).flatMap((progs) =>
    progs.map((p) => ({
      chain: p.name,
      hook: p.hook,
      policy: p.policy === 0 ? ('accept' as const) : ('drop' as const),
      packets: rs.policyPackets[p.chain]!,
    })),
  );
  return { rules, policies, jumpTooDeep: rs.jumpTooDeep };
}
