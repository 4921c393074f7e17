/**
 * A compiled ruleset and the loop that evaluates it. Every rule of every chain (base and user) is
 * a fixed record of match fields (see "rule records" in ruleset.ts) followed, in a separate array, by its statements
 * (statement-ops.ts); sets and port bitmasks live in one word pool; counters in typed arrays.
 * Evaluating a packet walks a base chain's rules with a small call stack for `jump` — no
 * allocation, no closures: per rule a few flagged field tests, and statement dispatch only for
 * the rules that match.
 *
 * Chain semantics are nftables' (nft(8), "VERDICT STATEMENTS"): matches in a rule are AND-ed and
 * a failed one skips to the next rule; `accept` ends this base chain (later chains and hooks
 * still run); `drop` and `reject` end everything; `jump` remembers where it was and `return` (or
 * the end of the chain) comes back there; `goto` does not remember, so the end of a chain reached
 * only by goto applies the base chain's policy; at most 16 jumps nest (NFT_JUMP_STACK_SIZE),
 * beyond that the packet is dropped and counted. NAT statements are verdict-like: they record a
 * request in the packet's metadata for the NAT stage and accept.
 */
import { NO_PORT } from '../pipeline/packet-meta.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { Hook } from '../stages/hook.js';
import { VERDICT_ACCEPT, VERDICT_DROP, VERDICT_REJECT, VERDICT_STOLEN } from '../stages/hook.js';
import { u16 } from '../wire/bytes.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from '../wire/ethernet.js';
import { Ipv4View } from '../wire/ipv4.js';
import { Ipv6View } from '../wire/ipv6.js';
import { loadKey32, loadKey128, ranges6Contain, rangesContain } from './range-set.js';
import { RST_SENT, type TcpResetter } from './tcp-reset.js';

// ---- rule records ----
//
// One fixed record of RULE_WORDS words per rule in an Int32Array, rules of a chain side by side.
// The first word says which matches the rule uses (M_* bits) and which of them are negated (the
// same bit shifted by NEG_SHIFT); the loop below tests only the flagged fields, in a fixed order,
// cheapest first — straight-line code with predictable branches rather than a dispatch per match.
// Matches have no side effects, so the order does not change what matches. Set operands are
// offsets in the word pool: range sets (range-set.ts) for addresses and ports, bitmasks of port
// indices for iif/oif. (These constants live in this module because V8 reads another module's
// exports through a live binding on every use; module-local constants cost nothing in the loop.)

export const RULE_WORDS = 16;

/** Word offsets in a rule record. */
export const R_FLAGS = 0;
/** EtherType the rule is bound to by its addresses / NAT target (0x0800 or 0x86dd). */
export const R_FAMILY = 1;
export const R_IIF = 2;
export const R_OIF = 3;
export const R_SRC = 4;
export const R_DST = 5;
export const R_PROTO = 6;
export const R_SPORT = 7;
export const R_DPORT = 8;
export const R_DSCP = 9;
export const R_MARK_MASK = 10;
export const R_MARK_VALUE = 11;
export const R_CTMARK_MASK = 12;
export const R_CTMARK_VALUE = 13;
export const R_CTSTATE = 14;
/** Index of the rule's first statement in the statement code (statement-ops.ts). */
export const R_STMTS = 15;

/** Match-present bits of R_FLAGS. */
export const M_FAMILY = 1 << 0;
export const M_IIF = 1 << 1;
export const M_OIF = 1 << 2;
export const M_MARK = 1 << 3;
export const M_CTMARK = 1 << 4;
export const M_CTSTATE = 1 << 5;
export const M_PROTO = 1 << 6;
export const M_DSCP = 1 << 7;
export const M_SRC4 = 1 << 8;
export const M_DST4 = 1 << 9;
export const M_SRC6 = 1 << 10;
export const M_DST6 = 1 << 11;
export const M_SPORT = 1 << 12;
export const M_DPORT = 1 << 13;

/** A match's negation bit is its M_* bit shifted left by this much. */
export const NEG_SHIFT = 16;
export const N_IIF = M_IIF << NEG_SHIFT;
export const N_OIF = M_OIF << NEG_SHIFT;
export const N_SRC = (M_SRC4 | M_SRC6) << NEG_SHIFT;
export const N_DST = (M_DST4 | M_DST6) << NEG_SHIFT;
export const N_SPORT = M_SPORT << NEG_SHIFT;
export const N_DPORT = M_DPORT << NEG_SHIFT;

/** nftables' jump stack depth (NFT_JUMP_STACK_SIZE). */
export const MAX_JUMP_DEPTH = 16;

// Trace events (the low 16 bits of the hook's event; the program's slot is in the high bits).
/** a chain, b rule index, c mark, d ct mark (after the rule's statements). */
export const EV_RULE = 1;
/** a base chain, b verdict (VERDICT_ACCEPT / VERDICT_DROP), c 1 when reached by `return` or the end of a goto'd chain. */
export const EV_POLICY = 2;
/** a chain left, b chain resumed, c 1 for an explicit `return`, 0 for the end of the chain. */
export const EV_RETURN = 3;
/** a chain, b the chain it tried to jump to. */
export const EV_JUMP_TOO_DEEP = 4;
/** a RST_* outcome, b seq, c ack. */
export const EV_TCP_RESET = 5;

/** What a base chain's program hands to the evaluation loop. */
export interface BaseChainContext {
  readonly chain: number;
  /** VERDICT_ACCEPT or VERDICT_DROP. */
  readonly policy: number;
  /** At the output hook there is no input port (nftables' `iif` sees none for local packets). */
  readonly noInputPort: boolean;
  /** Index of the program in its hook's list: the high 16 bits of its trace events. */
  slot: number;
  readonly tcpResetDrop: number;
  readonly jumpTooDeepDrop: number;
}

export interface RulesetTables {
  /** RULE_WORDS words per rule, rules of a chain side by side, chains in index order. */
  readonly rules: Int32Array;
  /** Statement code of every rule. */
  readonly stmts: Int32Array;
  readonly pool: Int32Array;
  readonly portCount: number;
  readonly chainNames: readonly string[];
  /** Per chain: its first rule and one past its last (ruleset-wide rule ids). */
  readonly chainFirstRule: Int32Array;
  readonly chainEndRule: Int32Array;
  /** Per rule: its chain, its index in the chain, its text, its comment, whether a trace shows the marks. */
  readonly ruleChain: Int32Array;
  readonly ruleIndex: Int32Array;
  readonly ruleText: readonly string[];
  readonly ruleComment: readonly (string | null)[];
  readonly ruleShowsMarks: Uint8Array;
}

export class Ruleset {
  readonly rules: Int32Array;
  readonly stmts: Int32Array;
  readonly pool: Int32Array;
  readonly portCount: number;
  readonly chainNames: readonly string[];
  readonly chainFirstRule: Int32Array;
  readonly chainEndRule: Int32Array;
  readonly ruleChain: Int32Array;
  readonly ruleIndex: Int32Array;
  readonly ruleText: readonly string[];
  readonly ruleComment: readonly (string | null)[];
  readonly ruleShowsMarks: Uint8Array;
  /** Per rule: packets and bytes (IP length) counted by its `counter` statement. */
  readonly packets: Float64Array;
  readonly bytes: Float64Array;
  /** Per chain: packets that took the base chain's policy. */
  readonly policyPackets: Float64Array;
  /** Packets dropped because jumps nested deeper than MAX_JUMP_DEPTH. */
  jumpTooDeep = 0;

  /** Where each pending `jump` resumes: the chain and the rule after the jump. */
  private readonly stackChain = new Int32Array(MAX_JUMP_DEPTH);
  private readonly stackRule = new Int32Array(MAX_JUMP_DEPTH);
  private readonly key6 = new Int32Array(4);
  private readonly ip4 = new Ipv4View();
  private readonly ip6 = new Ipv6View();
  /** Transport facts of the packet being evaluated, decoded on first use (decodeL4). */
  private l4Proto = -1;
  private portsAt = -1;

  constructor(
    t: RulesetTables,
    private readonly resetter: TcpResetter,
  ) {
    this.rules = t.rules;
    this.stmts = t.stmts;
    this.pool = t.pool;
    this.portCount = t.portCount;
    this.chainNames = t.chainNames;
    this.chainFirstRule = t.chainFirstRule;
    this.chainEndRule = t.chainEndRule;
    this.ruleChain = t.ruleChain;
    this.ruleIndex = t.ruleIndex;
    this.ruleText = t.ruleText;
    this.ruleComment = t.ruleComment;
    this.ruleShowsMarks = t.ruleShowsMarks;
    this.packets = new Float64Array(t.ruleChain.length);
    this.bytes = new Float64Array(t.ruleChain.length);
    this.policyPackets = new Float64Array(t.chainNames.length);
  }

  /** Evaluates the packet in slot s from a base chain; returns a VERDICT_* word. */
  run(pipe: Pipeline, s: number, hook: Hook, base: BaseChainContext): number {
    const R = this.rules;
    const S = this.stmts;
    const pool = this.pool;
    const m = pipe.meta;
    const d = pipe.batch.data;
    const l3 = m.l3Off[s]!;
    const et = m.etherType[s]!;
    const traced = m.traceId[s] !== 0;
    const ev = base.slot << 16;
    let chain = base.chain;
    let r = this.chainFirstRule[chain]!;
    let end = this.chainEndRule[chain]!;
    let depth = 0;
    let l4Known = false;
    for (;;) {
      if (r === end) {
        // The end of a chain is an implicit return: back to the rule after the last jump, or the policy.
        if (depth > 0) {
          depth--;
          if (traced) pipe.trace(s, hook, ev | EV_RETURN, chain, this.stackChain[depth]!, 0);
          chain = this.stackChain[depth]!;
          r = this.stackRule[depth]!;
          end = this.chainEndRule[chain]!;
          continue;
        }
        return this.policy(pipe, s, hook, base, chain !== base.chain);
      }
      const o = r * RULE_WORDS;
      const f = R[o]!;
      const id = r;
      r++;

      // ---- matches: all must hold; a failed one moves on to the next rule ----
      if (f !== 0) {
        if ((f & M_FAMILY) !== 0 && et !== R[o + R_FAMILY]) continue;
        if ((f & M_IIF) !== 0) {
          const p = base.noInputPort ? NO_PORT : m.inPort[s]!;
          const hit = p < this.portCount && ((pool[R[o + R_IIF]! + (p >>> 5)]! >>> (p & 31)) & 1) !== 0;
          if (hit === ((f & N_IIF) !== 0)) continue;
        }
        if ((f & M_OIF) !== 0) {
          const p = m.outPort[s]!;
          const hit = p < this.portCount && ((pool[R[o + R_OIF]! + (p >>> 5)]! >>> (p & 31)) & 1) !== 0;
          if (hit === ((f & N_OIF) !== 0)) continue;
        }
        if ((f & M_MARK) !== 0 && (m.mark[s]! & R[o + R_MARK_MASK]!) !== R[o + R_MARK_VALUE]) continue;
        if ((f & M_CTMARK) !== 0 && (m.ctMark[s]! & R[o + R_CTMARK_MASK]!) !== R[o + R_CTMARK_VALUE])
          continue;
        // State 0 is "untracked": no state bit, so no `ct state` set matches it (nftables gives such
        // packets a separate `untracked` state; `ct state established,related` does not match them).
        if ((f & M_CTSTATE) !== 0 && (m.ctState[s]! & R[o + R_CTSTATE]!) === 0) continue;
        if ((f & (M_PROTO | M_SPORT | M_DPORT)) !== 0 && !l4Known) l4Known = this.decodeL4(pipe, s);
        if ((f & M_PROTO) !== 0 && this.l4Proto !== R[o + R_PROTO]) continue;
        if ((f & M_DSCP) !== 0 && this.dscpOf(et, d, l3) !== R[o + R_DSCP]) continue;
        if (
          (f & M_SRC4) !== 0 &&
          rangesContain(pool, R[o + R_SRC]!, loadKey32(d, l3 + 12)) === ((f & N_SRC) !== 0)
        )
          continue;
        if (
          (f & M_DST4) !== 0 &&
          rangesContain(pool, R[o + R_DST]!, loadKey32(d, l3 + 16)) === ((f & N_DST) !== 0)
        )
          continue;
        if ((f & M_SRC6) !== 0) {
          loadKey128(d, l3 + 8, this.key6);
          if (ranges6Contain(pool, R[o + R_SRC]!, this.key6) === ((f & N_SRC) !== 0)) continue;
        }
        if ((f & M_DST6) !== 0) {
          loadKey128(d, l3 + 24, this.key6);
          if (ranges6Contain(pool, R[o + R_DST]!, this.key6) === ((f & N_DST) !== 0)) continue;
        }
        if ((f & (M_SPORT | M_DPORT)) !== 0) {
          const at = this.portsAt;
          // No transport header here (a non-first fragment, a truncated one): a port match cannot be
          // evaluated, so the rule does not match, negated or not — nftables' NFT_BREAK.
          if (at < 0) continue;
          if (
            (f & M_SPORT) !== 0 &&
            rangesContain(pool, R[o + R_SPORT]!, u16(d, at)) === ((f & N_SPORT) !== 0)
          )
            continue;
          if (
            (f & M_DPORT) !== 0 &&
            rangesContain(pool, R[o + R_DPORT]!, u16(d, at + 2)) === ((f & N_DPORT) !== 0)
          )
            continue;
        }
      }

      // ---- the rule matched: its statements, ending in a verdict or S_NEXT ----
      let sp = R[o + R_STMTS]!;
      statements: for (;;) {
        // Literal labels (statement-ops.ts values) so that V8 dispatches through a jump table.
        switch (S[sp]) {
          case 0: // S_NEXT
            break statements;
          case 1: // S_COUNTER
            this.packets[id]!++;
            this.bytes[id]! += m.l3Len[s]!;
            sp += 1;
            break;
          case 2: // S_MARK_SET
            m.mark[s] = (m.mark[s]! & S[sp + 1]!) | S[sp + 2]!;
            sp += 3;
            break;
          case 3: // S_CTMARK_SET
            m.ctMark[s] = (m.ctMark[s]! & S[sp + 1]!) | S[sp + 2]!;
            sp += 3;
            break;
          case 4: // S_CTMARK_SAVE
            m.ctMark[s] = m.mark[s]!;
            sp += 1;
            break;
          case 5: // S_CTMARK_RESTORE
            m.mark[s] = m.ctMark[s]!;
            sp += 1;
            break;
          case 6: // S_DSCP_SET
            this.setDscp(pipe, s, S[sp + 1]!);
            sp += 2;
            break;
          case 7: // S_TRACE
            if (traced)
              pipe.trace(s, hook, ev | EV_RULE, chain, this.ruleIndex[id]!, m.mark[s]!, m.ctMark[s]!);
            sp += 1;
            break;
          case 8: // S_ACCEPT
            return VERDICT_ACCEPT;
          case 9: // S_DROP
            return VERDICT_DROP;
          case 10: // S_REJECT
            return VERDICT_REJECT | (S[sp + 1]! << 8);
          case 11: {
            // S_TCP_RESET
            const outcome = this.resetter.send(pipe, s);
            if (traced) {
              const sent = outcome === RST_SENT;
              pipe.trace(
                s,
                hook,
                ev | EV_TCP_RESET,
                outcome,
                sent ? this.resetter.lastSeq : 0,
                sent ? this.resetter.lastAck : 0,
              );
            }
            pipe.drop(s, base.tcpResetDrop);
            return VERDICT_STOLEN;
          }
          case 12: // S_RETURN
            if (depth === 0) return this.policy(pipe, s, hook, base, true);
            depth--;
            if (traced) pipe.trace(s, hook, ev | EV_RETURN, chain, this.stackChain[depth]!, 1);
            chain = this.stackChain[depth]!;
            r = this.stackRule[depth]!;
            end = this.chainEndRule[chain]!;
            break statements;
          case 13: {
            // S_JUMP
            const target = S[sp + 1]!;
            if (depth === MAX_JUMP_DEPTH) {
              if (traced) pipe.trace(s, hook, ev | EV_JUMP_TOO_DEEP, chain, target);
              this.jumpTooDeep++;
              pipe.drop(s, base.jumpTooDeepDrop);
              return VERDICT_STOLEN;
            }
            // A verdict ends its rule, so the place to come back to is the next rule (r).
            this.stackChain[depth] = chain;
            this.stackRule[depth] = r;
            depth++;
            chain = target;
            r = this.chainFirstRule[chain]!;
            end = this.chainEndRule[chain]!;
            break statements;
          }
          case 14: // S_GOTO
            chain = S[sp + 1]!;
            r = this.chainFirstRule[chain]!;
            end = this.chainEndRule[chain]!;
            break statements;
          case 15: // S_NAT4
            m.natKind[s] = S[sp + 1]!;
            m.natAddr[s] = S[sp + 2]!;
            m.natPortMin[s] = S[sp + 3]!;
            m.natPortMax[s] = S[sp + 4]!;
            return VERDICT_ACCEPT;
          case 16: {
            // S_NAT6
            m.natKind[s] = S[sp + 1]!;
            const a = S[sp + 2]!;
            const at = s * 16;
            for (let w = 0; w < 4; w++) {
              const v = pool[a + w]!;
              m.natAddr6[at + 4 * w] = v >>> 24;
              m.natAddr6[at + 4 * w + 1] = v >>> 16;
              m.natAddr6[at + 4 * w + 2] = v >>> 8;
              m.natAddr6[at + 4 * w + 3] = v;
            }
            m.natPortMin[s] = S[sp + 3]!;
            m.natPortMax[s] = S[sp + 4]!;
            return VERDICT_ACCEPT;
          }
          default:
            throw new Error(`classifier: bad statement ${S[sp]} at ${sp}`);
        }
      }
    }
  }

  /** No chain left to return to: the base chain's policy decides. */
  private policy(pipe: Pipeline, s: number, hook: Hook, base: BaseChainContext, viaReturn: boolean): number {
    this.policyPackets[base.chain]!++;
    if (pipe.meta.traceId[s] !== 0)
      pipe.trace(s, hook, (base.slot << 16) | EV_POLICY, base.chain, base.policy, viaReturn ? 1 : 0);
    return base.policy;
  }

  /** Protocol and where the ports are, for IPv4 and IPv6 alike; sets l4Proto / portsAt. */
  private decodeL4(pipe: Pipeline, s: number): boolean {
    const m = pipe.meta;
    const b = pipe.batch;
    const d = b.data;
    const l3 = m.l3Off[s]!;
    const et = m.etherType[s]!;
    this.l4Proto = -1;
    this.portsAt = -1;
    if (et === ETHERTYPE_IPV4) {
      this.l4Proto = d[l3 + 9]!;
      const l4 = l3 + (d[l3]! & 15) * 4;
      // Only the first fragment (offset 0) carries the transport header (RFC 791 §2.3).
      if ((u16(d, l3 + 6) & 0x1fff) === 0 && l4 + 4 <= l3 + m.l3Len[s]!) this.portsAt = l4;
    } else if (et === ETHERTYPE_IPV6) {
      const ip = this.ip6;
      if (ip.wrap(d, l3, b.offset[s]! + b.length[s]! - l3) !== 0) return true;
      this.l4Proto = ip.upperProtocol;
      const first = !ip.isFragment || ip.fragOffset === 0;
      if (first && ip.upperOff + 4 <= l3 + 40 + ip.payloadLen) this.portsAt = ip.upperOff;
    }
    return true;
  }

  private dscpOf(et: number, d: Uint8Array, l3: number): number {
    if (et === ETHERTYPE_IPV4) return d[l3 + 1]! >>> 2;
    if (et === ETHERTYPE_IPV6) return ((d[l3]! & 0x0f) << 2) | (d[l3 + 1]! >>> 6);
    return -1;
  }

  /** DSCP rewrite keeping ECN; IPv4's header checksum gets an RFC 1624 update (IPv6 has none). */
  private setDscp(pipe: Pipeline, s: number, v: number): void {
    const m = pipe.meta;
    const b = pipe.batch;
    const l3 = m.l3Off[s]!;
    const avail = b.offset[s]! + b.length[s]! - l3;
    const et = m.etherType[s]!;
    if (et === ETHERTYPE_IPV4) {
      if (this.ip4.wrap(b.data, l3, avail) === 0) this.ip4.dscp = v;
    } else if (et === ETHERTYPE_IPV6) {
      if (this.ip6.wrap(b.data, l3, avail) === 0) this.ip6.dscp = v;
    }
  }
}
