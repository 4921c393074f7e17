/**
 * A compiled ruleset and the loop that evaluates it. Every rule of every chain (base and user) is
 * a fixed record of match fields plus a run of statements (both described below, "rule records
 * and statements"); sets and port bitmasks live in one word pool; counters in typed arrays.
 * Evaluating a packet walks a base chain's rules with a small call stack for `jump` — no
 * allocation, no closures: per rule a few flagged field tests, and statement dispatch only for
 * the rules that match.
 *
 * Chain semantics are nftables' (nft(8), "VERDICT STATEMENTS"): matches in a rule are AND-ed and
 * a failed one skips to the next rule; `accept` ends this base chain (later chains and hooks
 * still run); `drop` and `reject` end everything; `jump` remembers where it was and `return` (or
 * the end of the chain) comes back there; `goto` does not remember, so the end of a chain reached
 * only by goto applies the base chain's policy; at most 16 jumps nest (NFT_JUMP_STACK_SIZE),
 * beyond that the packet is dropped and counted.
 *
 * What the classifier leaves to the conntrack and NAT stages (conntrack-in, nat-dst, nat-src,
 * conntrack-confirm), which the engine runs only when some rule needs them:
 * - `ct state` reads PacketMeta.ctState, which conntrack-in sets (a non-first fragment gets its
 *   first fragment's, ip4-frag-track.ts). Without conntrack every packet is
 *   untracked (state 0); as nftables does for its
 *   `untracked` state, no `ct state` set matches such a packet: `ct state established,related
 *   accept` never fires for it, so replies are judged like new packets.
 * - `ct mark` reads and writes PacketMeta.ctMark only: conntrack-in loads it from the flow before
 *   the chains and conntrack-confirm stores it back after them, which is what makes `ct mark set`
 *   / save / restore (CONNMARK) stick to a connection.
 * - NAT statements (masquerade, snat, dnat) translate nothing here. Like nft's, they are
 *   verdict-like: they record the request in PacketMeta.natKind / natAddr / natAddr6 / natPortMin
 *   / natPortMax and accept; nat-dst / nat-src translate a new flow's packet accordingly and
 *   conntrack-confirm binds the translation to the flow.
 * - Base chains of type nat are evaluated for a connection's first packet only, as netfilter's
 *   nat chains are; that choice is made before this loop, in chain-program.ts.
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

// ---- rule records and statements ----
//
// A rule's matches are one fixed record of RuleWord.Words words in an Int32Array, the rules of a
// chain side by side. The flags word says which matches the rule uses (Has bits) and which of
// them are negated (Negated bits); the loop below tests only the flagged fields, in a fixed
// order, cheapest first: straight-line code with predictable branches instead of a dispatch per
// match. Matches have no side effects, so the order does not change what matches. Set operands
// are offsets in the word pool: range sets (range-set.ts) for addresses and ports, bitmasks of
// port indices for iif/oif.
//
// What a matching rule does is a short run of statements (Stmt opcode, operands) in a second
// Int32Array, ending in a verdict or in Stmt.Next (nft's implicit `continue`). Stmt.Trace comes
// right before the verdict, so a trace shows the rule after its statements ran and before
// anything a jump leads to.
//
// These are const enums declared here, next to the loop, because esbuild (tsx, which runs ferry)
// writes their values into the code as literals: V8 then folds them and dispatches the statement
// switch through a jump table. Module-level constants would be read from the module context on
// every use, which costs this loop about a third of its time (measured: bench/classifier.bench.ts).

/** Word offsets in a rule record; `Words` is its size. */
export const enum RuleWord {
  Flags = 0,
  /** EtherType the rule is bound to by its addresses / NAT target (0x0800 or 0x86dd). */
  Family = 1,
  /** Offsets of port bitmasks in the pool. */
  Iif = 2,
  Oif = 3,
  /** Offsets of range sets in the pool. */
  Src = 4,
  Dst = 5,
  Proto = 6,
  Sport = 7,
  Dport = 8,
  Dscp = 9,
  MarkMask = 10,
  MarkValue = 11,
  CtMarkMask = 12,
  CtMarkValue = 13,
  CtState = 14,
  /** Index of the rule's first statement. */
  Stmts = 15,
  Words = 16,
}

/** Bits of the flags word: the matches a rule uses. */
export const enum Has {
  Family = 1 << 0,
  Iif = 1 << 1,
  Oif = 1 << 2,
  Mark = 1 << 3,
  CtMark = 1 << 4,
  CtState = 1 << 5,
  Proto = 1 << 6,
  Dscp = 1 << 7,
  Src4 = 1 << 8,
  Dst4 = 1 << 9,
  Src6 = 1 << 10,
  Dst6 = 1 << 11,
  Sport = 1 << 12,
  Dport = 1 << 13,
}

/** Bits of the flags word: the negated matches (`!= …`). */
export const enum Negated {
  Iif = 1 << 16,
  Oif = 1 << 17,
  Src = 1 << 18,
  Dst = 1 << 19,
  Sport = 1 << 20,
  Dport = 1 << 21,
}

/** Statement opcodes; the comment gives the operands that follow. */
export const enum Stmt {
  /** []: no verdict; evaluation continues with the next rule. */
  Next = 0,
  /** []: count the packet and its IP bytes against the rule. */
  Counter = 1,
  /** [keep, value]: meta mark = (mark & keep) | value, keep = ~mask. */
  MarkSet = 2,
  /** [keep, value]: ct mark = (ct mark & keep) | value. */
  CtMarkSet = 3,
  /** []: ct mark = meta mark (iptables CONNMARK --save-mark). */
  CtMarkSave = 4,
  /** []: meta mark = ct mark (CONNMARK --restore-mark). */
  CtMarkRestore = 5,
  /** [dscp]: rewrite the DSCP, keeping ECN (IPv4: header checksum patched). */
  DscpSet = 6,
  /** []: the rule matched: record it for a traced packet. */
  Trace = 7,
  // Verdicts: every opcode from here on ends the rule.
  Accept = 8,
  Drop = 9,
  /** [icmpCode]: drop, and the hook answers with ICMP destination unreachable. */
  Reject = 10,
  /** []: drop and answer a TCP segment with a RST. */
  TcpReset = 11,
  Return = 12,
  /** [chain] */
  Jump = 13,
  /** [chain] */
  Goto = 14,
  /** [natKind, addr, portMin, portMax]: record an IPv4 NAT request, then accept. */
  Nat4 = 15,
  /** [natKind, poolOff, portMin, portMax]: record an IPv6 NAT request (address: 4 words in the pool), then accept. */
  Nat6 = 16,
}

/** Words per statement, opcode included, indexed by Stmt. */
export const STMT_SIZE: readonly number[] = [1, 1, 3, 3, 1, 1, 2, 1, 1, 1, 2, 1, 1, 2, 2, 5, 5];

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
/** A nat chain not evaluated, the packet starting no connection (chain-program.ts): a chain, b meta.ct + 1 (0: no flow), c ct state. */
export const EV_NAT_NOT_RUN = 6;

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
  /** RuleWord.Words words per rule, rules of a chain side by side, chains in index order. */
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
  /** `run`'s one-packet vector. */
  private readonly oneSlot = new Uint16Array(1);
  private readonly oneVerdict = new Int32Array(1);
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
    this.oneSlot[0] = s;
    this.runVector(pipe, this.oneSlot, 0, 1, hook, base, this.oneVerdict);
    return this.oneVerdict[0]!;
  }

  /**
   * Evaluates slots[from..n) in order from a base chain, writing each packet's VERDICT_* word to
   * verdicts[k], and stops after the first packet whose verdict is not accept: returns its k, or n
   * when all were accepted. The caller acts on that verdict before evaluating the rest, so what the
   * packets cause (a RST the chain sends, an ICMP error the hook sends) happens in packet order,
   * as with `run` per packet; what is per packet here is only the rule walk.
   */
  runVector(
    pipe: Pipeline,
    slots: Uint16Array,
    from: number,
    n: number,
    hook: Hook,
    base: BaseChainContext,
    verdicts: Int32Array,
  ): number {
    const R = this.rules;
    const S = this.stmts;
    const pool = this.pool;
    const m = pipe.meta;
    const d = pipe.batch.data;
    const ev = base.slot << 16;
    const baseChain = base.chain;
    const baseFirst = this.chainFirstRule[baseChain]!;
    const baseEnd = this.chainEndRule[baseChain]!;
    for (let k = from; k < n; k++) {
      const s = slots[k]!;
      let v: number = VERDICT_ACCEPT;
      const l3 = m.l3Off[s]!;
      const et = m.etherType[s]!;
      const traced = m.traceId[s] !== 0;
      let chain = baseChain;
      let r = baseFirst;
      let end = baseEnd;
      let depth = 0;
      let l4Known = false;
      evaluation: for (;;) {
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
          v = this.policy(pipe, s, hook, base, chain !== base.chain);
          break;
        }
        const o = r * RuleWord.Words;
        const f = R[o]!;
        const id = r;
        r++;

        // ---- matches: all must hold; a failed one moves on to the next rule ----
        if (f !== 0) {
          if ((f & Has.Family) !== 0 && et !== R[o + RuleWord.Family]) continue;
          if ((f & Has.Iif) !== 0) {
            const p = base.noInputPort ? NO_PORT : m.inPort[s]!;
            const hit =
              p < this.portCount && ((pool[R[o + RuleWord.Iif]! + (p >>> 5)]! >>> (p & 31)) & 1) !== 0;
            if (hit === ((f & Negated.Iif) !== 0)) continue;
          }
          if ((f & Has.Oif) !== 0) {
            const p = m.outPort[s]!;
            const hit =
              p < this.portCount && ((pool[R[o + RuleWord.Oif]! + (p >>> 5)]! >>> (p & 31)) & 1) !== 0;
            if (hit === ((f & Negated.Oif) !== 0)) continue;
          }
          if ((f & Has.Mark) !== 0 && (m.mark[s]! & R[o + RuleWord.MarkMask]!) !== R[o + RuleWord.MarkValue])
            continue;
          if (
            (f & Has.CtMark) !== 0 &&
            (m.ctMark[s]! & R[o + RuleWord.CtMarkMask]!) !== R[o + RuleWord.CtMarkValue]
          )
            continue;
          // State 0 is "untracked": no state bit, so no `ct state` set matches it (nftables gives such
          // packets a separate `untracked` state; `ct state established,related` does not match them).
          if ((f & Has.CtState) !== 0 && (m.ctState[s]! & R[o + RuleWord.CtState]!) === 0) continue;
          if ((f & (Has.Proto | Has.Sport | Has.Dport)) !== 0 && !l4Known) l4Known = this.decodeL4(pipe, s);
          if ((f & Has.Proto) !== 0 && this.l4Proto !== R[o + RuleWord.Proto]) continue;
          if ((f & Has.Dscp) !== 0 && this.dscpOf(et, d, l3) !== R[o + RuleWord.Dscp]) continue;
          if (
            (f & Has.Src4) !== 0 &&
            rangesContain(pool, R[o + RuleWord.Src]!, loadKey32(d, l3 + 12)) === ((f & Negated.Src) !== 0)
          )
            continue;
          if (
            (f & Has.Dst4) !== 0 &&
            rangesContain(pool, R[o + RuleWord.Dst]!, loadKey32(d, l3 + 16)) === ((f & Negated.Dst) !== 0)
          )
            continue;
          if ((f & Has.Src6) !== 0) {
            loadKey128(d, l3 + 8, this.key6);
            if (ranges6Contain(pool, R[o + RuleWord.Src]!, this.key6) === ((f & Negated.Src) !== 0)) continue;
          }
          if ((f & Has.Dst6) !== 0) {
            loadKey128(d, l3 + 24, this.key6);
            if (ranges6Contain(pool, R[o + RuleWord.Dst]!, this.key6) === ((f & Negated.Dst) !== 0)) continue;
          }
          if ((f & (Has.Sport | Has.Dport)) !== 0) {
            const at = this.portsAt;
            // No transport header here (a non-first fragment, a truncated one): a port match cannot be
            // evaluated, so the rule does not match, negated or not — nftables' NFT_BREAK.
            if (at < 0) continue;
            if (
              (f & Has.Sport) !== 0 &&
              rangesContain(pool, R[o + RuleWord.Sport]!, u16(d, at)) === ((f & Negated.Sport) !== 0)
            )
              continue;
            if (
              (f & Has.Dport) !== 0 &&
              rangesContain(pool, R[o + RuleWord.Dport]!, u16(d, at + 2)) === ((f & Negated.Dport) !== 0)
            )
              continue;
          }
        }

        // ---- the rule matched: its statements, ending in a verdict or S_NEXT ----
        let sp = R[o + RuleWord.Stmts]!;
        statements: for (;;) {
          switch (S[sp]) {
            case Stmt.Next:
              break statements;
            case Stmt.Counter:
              this.packets[id]!++;
              this.bytes[id]! += m.l3Len[s]!;
              sp += 1;
              break;
            case Stmt.MarkSet:
              m.mark[s] = (m.mark[s]! & S[sp + 1]!) | S[sp + 2]!;
              sp += 3;
              break;
            case Stmt.CtMarkSet:
              m.ctMark[s] = (m.ctMark[s]! & S[sp + 1]!) | S[sp + 2]!;
              sp += 3;
              break;
            case Stmt.CtMarkSave:
              m.ctMark[s] = m.mark[s]!;
              sp += 1;
              break;
            case Stmt.CtMarkRestore:
              m.mark[s] = m.ctMark[s]!;
              sp += 1;
              break;
            case Stmt.DscpSet:
              this.setDscp(pipe, s, S[sp + 1]!);
              sp += 2;
              break;
            case Stmt.Trace:
              if (traced)
                pipe.trace(s, hook, ev | EV_RULE, chain, this.ruleIndex[id]!, m.mark[s]!, m.ctMark[s]!);
              sp += 1;
              break;
            case Stmt.Accept: {
              v = VERDICT_ACCEPT;
              break evaluation;
            }
            case Stmt.Drop: {
              v = VERDICT_DROP;
              break evaluation;
            }
            case Stmt.Reject: {
              v = VERDICT_REJECT | (S[sp + 1]! << 8);
              break evaluation;
            }
            case Stmt.TcpReset: {
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
              v = VERDICT_STOLEN;
              break evaluation;
            }
            case Stmt.Return:
              if (depth === 0) {
                v = this.policy(pipe, s, hook, base, true);
                break evaluation;
              }
              depth--;
              if (traced) pipe.trace(s, hook, ev | EV_RETURN, chain, this.stackChain[depth]!, 1);
              chain = this.stackChain[depth]!;
              r = this.stackRule[depth]!;
              end = this.chainEndRule[chain]!;
              break statements;
            case Stmt.Jump: {
              const target = S[sp + 1]!;
              if (depth === MAX_JUMP_DEPTH) {
                if (traced) pipe.trace(s, hook, ev | EV_JUMP_TOO_DEEP, chain, target);
                this.jumpTooDeep++;
                pipe.drop(s, base.jumpTooDeepDrop);
                v = VERDICT_STOLEN;
                break evaluation;
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
            case Stmt.Goto:
              chain = S[sp + 1]!;
              r = this.chainFirstRule[chain]!;
              end = this.chainEndRule[chain]!;
              break statements;
            case Stmt.Nat4:
              m.natKind[s] = S[sp + 1]!;
              m.natAddr[s] = S[sp + 2]!;
              m.natPortMin[s] = S[sp + 3]!;
              m.natPortMax[s] = S[sp + 4]!;
              {
                v = VERDICT_ACCEPT;
                break evaluation;
              }
            case Stmt.Nat6: {
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
              v = VERDICT_ACCEPT;
              break evaluation;
            }
            default:
              throw new Error(`classifier: bad statement ${S[sp]} at ${sp}`);
          }
        }
      }
      verdicts[k] = v;
      if ((v & 0xff) !== VERDICT_ACCEPT) return k;
    }
    return n;
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
