/**
 * What a rule does once it matches: a short run of statement instructions (opcode, operands) in
 * one Int32Array shared by the ruleset, ending in a verdict or in S_NEXT ("continue with the next
 * rule", nft's implicit `continue`). S_TRACE comes right before the verdict (or S_NEXT), so a
 * trace records the rule after its statements ran and before anything a jump leads to.
 *
 * The case labels in ruleset.ts are these numbers written out: V8 builds a jump table only for
 * literal case labels (a test checks that they agree).
 */

/** []: no verdict; evaluation continues with the next rule. */
export const S_NEXT = 0;
/** []: count the packet and its IP bytes against the rule. */
export const S_COUNTER = 1;
/** [keep, value]: meta mark = (mark & keep) | value, keep = ~mask. */
export const S_MARK_SET = 2;
/** [keep, value]: ct mark = (ct mark & keep) | value. */
export const S_CTMARK_SET = 3;
/** []: ct mark = meta mark (CONNMARK --save-mark). */
export const S_CTMARK_SAVE = 4;
/** []: meta mark = ct mark (CONNMARK --restore-mark). */
export const S_CTMARK_RESTORE = 5;
/** [dscp]: rewrite the DSCP, keeping ECN (IPv4: checksum patched). */
export const S_DSCP_SET = 6;
/** []: the rule matched: record it for a traced packet. */
export const S_TRACE = 7;
export const S_ACCEPT = 8;
export const S_DROP = 9;
/** [icmpCode]: drop, and the hook answers with ICMP destination unreachable. */
export const S_REJECT = 10;
/** []: drop and answer a TCP segment with a RST. */
export const S_TCP_RESET = 11;
export const S_RETURN = 12;
/** [chain] */
export const S_JUMP = 13;
/** [chain] */
export const S_GOTO = 14;
/** [natKind, addr, portMin, portMax]: record an IPv4 NAT request, then accept. */
export const S_NAT4 = 15;
/** [natKind, poolOff, portMin, portMax]: record an IPv6 NAT request (address: 4 words in the pool), then accept. */
export const S_NAT6 = 16;

/** Words per statement, opcode included. */
export const S_SIZE: readonly number[] = [1, 1, 3, 3, 1, 1, 2, 1, 1, 1, 2, 1, 1, 2, 2, 5, 5];
