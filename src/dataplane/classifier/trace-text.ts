/**
 * The classifier's trace records in words: which rule of which chain matched and what it did (its
 * text, written at compile time in nft's vocabulary), returns from chains, policies, TCP resets,
 * jumps that nest too deep, and nat chains passed over by packets that start no connection. Rules
 * are numbered from 1 within their chain, as iptables --line-numbers counts them.
 */

import { CT_INVALID } from '../../control/config/types.js';
import { VERDICT_DROP } from '../stages/hook.js';
import { hex } from './describe.js';
import {
  EV_JUMP_TOO_DEEP,
  EV_NAT_NOT_RUN,
  EV_POLICY,
  EV_RETURN,
  EV_RULE,
  EV_TCP_RESET,
  MAX_JUMP_DEPTH,
  type Ruleset,
} from './ruleset.js';
import { RST_OUTCOME_TEXT, RST_SENT } from './tcp-reset.js';

/** A trace record of the ruleset in words. */
export function formatRulesetEvent(
  rs: Ruleset,
  event: number,
  a: number,
  b: number,
  c: number,
  d: number,
): string {
  const name = (i: number): string => rs.chainNames[i] ?? `chain-${i}`;
  switch (event) {
    case EV_RULE: {
      const id = (rs.chainFirstRule[a] ?? 0) + b;
      const comment = rs.ruleComment[id] ? ` "${rs.ruleComment[id]}"` : '';
      const marks = rs.ruleShowsMarks[id] ? ` → mark ${hex(c)}, ct mark ${hex(d)}` : '';
      return `chain ${name(a)} rule ${b + 1}${comment} ${rs.ruleText[id] ?? ''}${marks}`;
    }
    case EV_POLICY: {
      const verdict = b === VERDICT_DROP ? 'drop' : 'accept';
      return c
        ? `chain ${name(a)} policy ${verdict} (no chain left to return to)`
        : `chain ${name(a)} policy ${verdict}`;
    }
    case EV_RETURN:
      return `chain ${name(a)}: ${c ? 'return' : 'end of chain'}, back to chain ${name(b)}`;
    case EV_JUMP_TOO_DEEP:
      return `chain ${name(a)}: jump to ${name(b)} would nest more than ${MAX_JUMP_DEPTH} chains deep: drop`;
    case EV_TCP_RESET:
      return a === RST_SENT
        ? `sent TCP RST (seq ${b >>> 0}, ack ${c >>> 0}); the packet is dropped`
        : `no TCP RST: ${RST_OUTCOME_TEXT[a] ?? a}; the packet is dropped`;
    case EV_NAT_NOT_RUN:
      return b > 0
        ? `chain ${name(a)} not run: flow ${(b - 1) >>> 1}'s NAT was decided at its first packet (nat chains see a connection's first packet only)`
        : `chain ${name(a)} not run: ${c & CT_INVALID ? 'an invalid' : 'an untracked'} packet starts no connection (nat chains see a connection's first packet only)`;
    default:
      return `classifier event ${event}`;
  }
}
