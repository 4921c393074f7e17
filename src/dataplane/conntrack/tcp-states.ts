/**
 * TCP connection states and transitions with netfilter's state names (nf_conntrack_proto_tcp),
 * which follow the RFC 6146 §3.5.2 / RFC 7857 §2 session life cycle: a SYN opens, both
 * directions' FINs close, a RST closes at once. The table is written out here per direction and
 * packet class; `TCP_IV` = the packet is INVALID, `TCP_IG` = accepted without changing state
 * (a retransmitted or stray packet that proves nothing).
 */
export const TCP_NONE = 0;
export const TCP_SYN_SENT = 1;
export const TCP_SYN_RECV = 2;
export const TCP_ESTABLISHED = 3;
export const TCP_FIN_WAIT = 4;
export const TCP_CLOSE_WAIT = 5;
export const TCP_LAST_ACK = 6;
export const TCP_TIME_WAIT = 7;
export const TCP_CLOSE = 8;
/** Simultaneous open: each side sent a SYN (RFC 9293 §3.5 figure 8; RFC 5382 REQ-2). */
export const TCP_SYN_SENT2 = 9;
export const TCP_IV = 10;
export const TCP_IG = 11;

export const TCP_STATE_NAMES = [
  'NONE',
  'SYN_SENT',
  'SYN_RECV',
  'ESTABLISHED',
  'FIN_WAIT',
  'CLOSE_WAIT',
  'LAST_ACK',
  'TIME_WAIT',
  'CLOSE',
  'SYN_SENT2',
] as const;

/** Packet classes (the table's rows). */
export const PKT_SYN = 0;
export const PKT_SYNACK = 1;
export const PKT_FIN = 2;
export const PKT_ACK = 3;
export const PKT_RST = 4;
export const PKT_NONE = 5;

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;
const URG = 0x20;

/**
 * Class of a segment by its flags. PSH, ECE, CWR and AE do not change the class. Combinations
 * a TCP never sends (SYN+FIN, SYN+RST, no flag at all, FIN without ACK…) are PKT_NONE: INVALID,
 * as in netfilter's tcp_valid_flags.
 */
export function tcpPacketClass(flags: number): number {
  const f = flags & (FIN | SYN | RST | ACK | URG);
  if (f & RST) return (f & ~(RST | ACK)) === 0 ? PKT_RST : PKT_NONE;
  if (f & SYN) {
    if (f & FIN) return PKT_NONE;
    return f & ACK ? PKT_SYNACK : PKT_SYN;
  }
  if (f & FIN) return f & ACK ? PKT_FIN : PKT_NONE;
  return f & ACK ? PKT_ACK : PKT_NONE;
}

const S = {
  NO: TCP_NONE,
  SS: TCP_SYN_SENT,
  SR: TCP_SYN_RECV,
  ES: TCP_ESTABLISHED,
  FW: TCP_FIN_WAIT,
  CW: TCP_CLOSE_WAIT,
  LA: TCP_LAST_ACK,
  TW: TCP_TIME_WAIT,
  CL: TCP_CLOSE,
  S2: TCP_SYN_SENT2,
  IV: TCP_IV,
  IG: TCP_IG,
};

// Columns: NONE SYN_SENT SYN_RECV ESTABLISHED FIN_WAIT CLOSE_WAIT LAST_ACK TIME_WAIT CLOSE SYN_SENT2
const ORIGINAL: number[][] = [
  // SYN: opens; in TIME_WAIT/CLOSE it reopens (RFC 9293 §3.10.7.4: a SYN may reopen TIME-WAIT).
  [S.SS, S.SS, S.IG, S.IG, S.IG, S.IG, S.IG, S.SS, S.SS, S.S2],
  // SYN/ACK from the originator exists only in a simultaneous open.
  [S.IV, S.IV, S.IG, S.IV, S.IV, S.IV, S.IV, S.IV, S.IV, S.SR],
  // FIN
  [S.IV, S.IV, S.FW, S.FW, S.LA, S.LA, S.LA, S.TW, S.CL, S.IV],
  // ACK: with no flow it is a mid-stream pickup (netfilter's tcp_loose); in SYN_SENT the
  // originator cannot acknowledge what it has not received.
  [S.ES, S.IV, S.ES, S.ES, S.CW, S.CW, S.TW, S.TW, S.CL, S.IV],
  // RST
  [S.IV, S.CL, S.CL, S.CL, S.CL, S.CL, S.CL, S.CL, S.CL, S.CL],
  [S.IV, S.IV, S.IV, S.IV, S.IV, S.IV, S.IV, S.IV, S.IV, S.IV],
];

const REPLY: number[][] = [
  // SYN from the responder while ours is outstanding: simultaneous open.
  [S.IV, S.S2, S.IV, S.IV, S.IV, S.IV, S.IV, S.IG, S.IG, S.S2],
  // SYN/ACK answers the SYN; later ones are retransmissions.
  [S.IV, S.SR, S.IG, S.IG, S.IG, S.IG, S.IG, S.IG, S.IG, S.SR],
  // FIN
  [S.IV, S.IV, S.FW, S.FW, S.LA, S.LA, S.LA, S.TW, S.CL, S.IV],
  // ACK: in SYN_RECV it completes a simultaneous open.
  [S.IV, S.IG, S.ES, S.ES, S.CW, S.CW, S.TW, S.TW, S.CL, S.IG],
  // RST
  [S.IV, S.CL, S.CL, S.CL, S.CL, S.CL, S.CL, S.CL, S.CL, S.CL],
  [S.IV, S.IV, S.IV, S.IV, S.IV, S.IV, S.IV, S.IV, S.IV, S.IV],
];

/** TRANSITIONS[(dir * 6 + class) * 10 + state] = next state, TCP_IV or TCP_IG. */
export const TRANSITIONS: Uint8Array = Uint8Array.from([...ORIGINAL.flat(), ...REPLY.flat()]);

export function tcpNextState(dir: number, pktClass: number, state: number): number {
  return TRANSITIONS[(dir * 6 + pktClass) * 10 + state]!;
}
