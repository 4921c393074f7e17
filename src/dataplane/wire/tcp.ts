/**
 * TCP segment headers and options (RFC 9293 §3.1), with the options a router cares about:
 * MSS (RFC 9293 §3.7.1), window scale and timestamps (RFC 7323), SACK-permitted and SACK
 * (RFC 2018).
 *
 *   0      2      4      8      12         13     14     16     18     20
 *   | src  | dst  | seq  | ack  | doff:rsv | flags| win  | csum | urg  | options … | payload …
 *
 * TCP has no length field: the segment is whatever the IP layer says (`len`). The checksum
 * covers a pseudo-header the caller computes with `pseudoSumV4` / `pseudoSumV6` (`checksum.ts`).
 */
import { EMPTY, setU16, setU32, u16, u32 } from './bytes.js';
import { checksum, csumReplace16, patch32, rewrite16, verify } from './checksum.js';
import { WireError } from './errors.js';

export const TCP_SRC_PORT = 0;
export const TCP_DST_PORT = 2;
export const TCP_SEQ = 4;
export const TCP_ACK = 8;
/** Data offset (high nibble), three reserved bits, and the AE/NS flag (low bit). */
export const TCP_DATA_OFF = 12;
export const TCP_FLAGS = 13;
export const TCP_WINDOW = 14;
export const TCP_CHECKSUM = 16;
export const TCP_URGENT = 18;
export const TCP_HEADER_LEN = 20;
export const TCP_MAX_HEADER_LEN = 60;
/** IP protocol / IPv6 next-header number, for the pseudo-header. */
export const TCP_PROTO = 6;

export const TCP_FIN = 0x001;
export const TCP_SYN = 0x002;
export const TCP_RST = 0x004;
export const TCP_PSH = 0x008;
export const TCP_ACK_FLAG = 0x010;
export const TCP_URG = 0x020;
export const TCP_ECE = 0x040;
export const TCP_CWR = 0x080;
/** Bit 7 of byte 12: NS in RFC 3540 (historic), AE in Accurate ECN. */
export const TCP_AE = 0x100;

export const TCP_OPT_EOL = 0;
export const TCP_OPT_NOP = 1;
export const TCP_OPT_MSS = 2;
export const TCP_OPT_WSCALE = 3;
export const TCP_OPT_SACK_PERMITTED = 4;
export const TCP_OPT_SACK = 5;
export const TCP_OPT_TIMESTAMPS = 8;

/** Bytes of one SACK block (left and right edge, RFC 2018 §3). */
export const TCP_SACK_BLOCK_LEN = 8;

/** Zero-copy view of one TCP segment. Reuse one instance per stage: `wrap()` re-points it. */
export class TcpView {
  buf: Uint8Array = EMPTY;
  off = 0;
  len = 0;

  // ---- filled by parseOptions() when it returns Ok; reset by wrap() ----
  /** The MSS option's value, or -1 when absent. */
  mss = -1;
  /** Absolute offset of the MSS value (2 bytes), or -1. */
  mssOff = -1;
  /** The window-scale shift as sent, or -1 when absent (RFC 7323 §2.3: receivers use at most 14). */
  wscale = -1;
  sackPermitted = false;
  hasTimestamps = false;
  tsVal = 0;
  tsEcr = 0;
  /** Number of SACK blocks (0 when no SACK option). */
  sackBlocks = 0;
  /** Absolute offset of the first SACK block, or -1. */
  sackOff = -1;
  /** Result of the last parseOptions() since wrap(), or -1 when it has not run. */
  private optionsResult: WireError | -1 = -1;

  /**
   * Points the view at buf[off..off+len); checks the fixed header fits and that the data offset
   * is at least 5 words and inside the segment (RFC 9293 §3.1). Options are walked separately by
   * `parseOptions()`, which forwarding does not need.
   */
  wrap(buf: Uint8Array, off: number, len: number): WireError {
    this.buf = buf;
    this.off = off;
    this.len = len;
    this.mss = -1;
    this.mssOff = -1;
    this.wscale = -1;
    this.sackPermitted = false;
    this.hasTimestamps = false;
    this.tsVal = 0;
    this.tsEcr = 0;
    this.sackBlocks = 0;
    this.sackOff = -1;
    this.optionsResult = -1;
    if (len < TCP_HEADER_LEN || off + len > buf.length) return WireError.Truncated;
    const hl = (buf[off + TCP_DATA_OFF]! >>> 4) * 4;
    if (hl < TCP_HEADER_LEN || hl > len) return WireError.BadHeaderLength;
    return WireError.Ok;
  }

  get srcPort(): number {
    return u16(this.buf, this.off);
  }

  /** Writes the field only; use `setSrcPort` to keep the checksum valid. */
  set srcPort(v: number) {
    setU16(this.buf, this.off, v);
  }

  get dstPort(): number {
    return u16(this.buf, this.off + TCP_DST_PORT);
  }

  /** Writes the field only; use `setDstPort` to keep the checksum valid. */
  set dstPort(v: number) {
    setU16(this.buf, this.off + TCP_DST_PORT, v);
  }

  get seq(): number {
    return u32(this.buf, this.off + TCP_SEQ);
  }

  get ack(): number {
    return u32(this.buf, this.off + TCP_ACK);
  }

  /** Data offset in 32-bit words (5..15). */
  get dataOffset(): number {
    return this.buf[this.off + TCP_DATA_OFF]! >>> 4;
  }

  /** Header length in bytes, options included. */
  get headerLen(): number {
    return (this.buf[this.off + TCP_DATA_OFF]! >>> 4) * 4;
  }

  /** The three reserved bits between the data offset and AE (must be zero on send). */
  get reserved(): number {
    return (this.buf[this.off + TCP_DATA_OFF]! >>> 1) & 7;
  }

  /** All nine flag bits: AE in bit 8, then CWR ECE URG ACK PSH RST SYN FIN (TCP_* constants). */
  get flags(): number {
    const o = this.off;
    return ((this.buf[o + TCP_DATA_OFF]! & 1) << 8) | this.buf[o + TCP_FLAGS]!;
  }

  get flagFin(): boolean {
    return (this.buf[this.off + TCP_FLAGS]! & TCP_FIN) !== 0;
  }

  get flagSyn(): boolean {
    return (this.buf[this.off + TCP_FLAGS]! & TCP_SYN) !== 0;
  }

  get flagRst(): boolean {
    return (this.buf[this.off + TCP_FLAGS]! & TCP_RST) !== 0;
  }

  get flagPsh(): boolean {
    return (this.buf[this.off + TCP_FLAGS]! & TCP_PSH) !== 0;
  }

  get flagAck(): boolean {
    return (this.buf[this.off + TCP_FLAGS]! & TCP_ACK_FLAG) !== 0;
  }

  get flagUrg(): boolean {
    return (this.buf[this.off + TCP_FLAGS]! & TCP_URG) !== 0;
  }

  get flagEce(): boolean {
    return (this.buf[this.off + TCP_FLAGS]! & TCP_ECE) !== 0;
  }

  get flagCwr(): boolean {
    return (this.buf[this.off + TCP_FLAGS]! & TCP_CWR) !== 0;
  }

  get flagAe(): boolean {
    return (this.buf[this.off + TCP_DATA_OFF]! & 1) !== 0;
  }

  get window(): number {
    return u16(this.buf, this.off + TCP_WINDOW);
  }

  get checksum(): number {
    return u16(this.buf, this.off + TCP_CHECKSUM);
  }

  set checksum(v: number) {
    setU16(this.buf, this.off + TCP_CHECKSUM, v);
  }

  get urgentPointer(): number {
    return u16(this.buf, this.off + TCP_URGENT);
  }

  /** Checks the segment against `pseudoSum` (which must include the segment length). */
  verifyChecksum(pseudoSum: number): boolean {
    return verify(this.buf, this.off, this.len, pseudoSum);
  }

  /** Computes and stores the checksum (mandatory for TCP, RFC 9293 §3.1). */
  fillChecksum(pseudoSum: number): void {
    this.checksum = 0;
    this.checksum = checksum(this.buf, this.off, this.len, pseudoSum);
  }

  /** NAT: rewrites the source port and patches the checksum (RFC 1624). */
  setSrcPort(v: number): void {
    rewrite16(this.buf, this.off + TCP_SRC_PORT, v, this.off + TCP_CHECKSUM);
  }

  /** NAT: rewrites the destination port and patches the checksum (RFC 1624). */
  setDstPort(v: number): void {
    rewrite16(this.buf, this.off + TCP_DST_PORT, v, this.off + TCP_CHECKSUM);
  }

  /** NAT: patches the checksum for an IPv4 pseudo-header address that changed from `oldAddr` to `newAddr`. */
  patchAddress32(oldAddr: number, newAddr: number): void {
    patch32(this.buf, this.off + TCP_CHECKSUM, oldAddr, newAddr);
  }

  /** Absolute offset of the first option byte. */
  get optionsOff(): number {
    return this.off + TCP_HEADER_LEN;
  }

  get optionsLen(): number {
    return this.headerLen - TCP_HEADER_LEN;
  }

  /** Absolute offset of the payload in `buf`. */
  get payloadOff(): number {
    return this.off + this.headerLen;
  }

  get payloadLen(): number {
    return this.len - this.headerLen;
  }

  /**
   * Walks the options (RFC 9293 §3.2) and fills `mss`, `wscale`, `sackPermitted`, timestamps and
   * the SACK fields. Unknown kinds are skipped by their length; a missing or short length byte,
   * an option running past the header, or a known kind with the wrong length is `BadOption`.
   * Allocates nothing. Bytes after an End-of-Option-List are padding and are not inspected.
   */
  parseOptions(): WireError {
    if (this.optionsResult !== -1) return this.optionsResult;
    const r = this.walkOptions();
    this.optionsResult = r;
    return r;
  }

  private walkOptions(): WireError {
    const b = this.buf;
    const end = this.off + this.headerLen;
    let p = this.off + TCP_HEADER_LEN;
    while (p < end) {
      const kind = b[p]!;
      if (kind === TCP_OPT_EOL) break;
      if (kind === TCP_OPT_NOP) {
        p++;
        continue;
      }
      if (p + 1 >= end) return WireError.BadOption;
      const n = b[p + 1]!;
      if (n < 2 || p + n > end) return WireError.BadOption;
      switch (kind) {
        case TCP_OPT_MSS:
          if (n !== 4) return WireError.BadOption;
          this.mss = u16(b, p + 2);
          this.mssOff = p + 2;
          break;
        case TCP_OPT_WSCALE:
          if (n !== 3) return WireError.BadOption;
          this.wscale = b[p + 2]!;
          break;
        case TCP_OPT_SACK_PERMITTED:
          if (n !== 2) return WireError.BadOption;
          this.sackPermitted = true;
          break;
        case TCP_OPT_SACK:
          // RFC 2018 §3: 2 + 8n bytes, at least one block.
          if (n < 2 + TCP_SACK_BLOCK_LEN || (n - 2) % TCP_SACK_BLOCK_LEN !== 0) return WireError.BadOption;
          this.sackBlocks = (n - 2) / TCP_SACK_BLOCK_LEN;
          this.sackOff = p + 2;
          break;
        case TCP_OPT_TIMESTAMPS:
          if (n !== 10) return WireError.BadOption;
          this.hasTimestamps = true;
          this.tsVal = u32(b, p + 2);
          this.tsEcr = u32(b, p + 6);
          break;
      }
      p += n;
    }
    return WireError.Ok;
  }

  /** Left edge of SACK block i (after parseOptions(), i < sackBlocks). */
  sackLeft(i: number): number {
    return u32(this.buf, this.sackOff + i * TCP_SACK_BLOCK_LEN);
  }

  /** Right edge of SACK block i (one past the last byte received). */
  sackRight(i: number): number {
    return u32(this.buf, this.sackOff + i * TCP_SACK_BLOCK_LEN + 4);
  }

  /**
   * MSS clamping (a router rewriting the MSS it forwards down to what its path can carry):
   * lowers an MSS option larger than `max` to `max` in place and patches the checksum.
   * Returns true when it changed something. Walks the options if `parseOptions()` has not run;
   * a segment with malformed options is left alone (false). RFC 9293 §3.7.1 allows the option
   * only on SYN segments; which segments to clamp is the caller's choice.
   */
  clampMss(max: number): boolean {
    if (this.parseOptions() !== WireError.Ok || this.mssOff < 0 || this.mss <= max) return false;
    const b = this.buf;
    const at = this.mssOff;
    const csumAt = this.off + TCP_CHECKSUM;
    // The checksum sums 16-bit words aligned to the header start. A value at an odd offset
    // straddles two words and contributes its bytes swapped (RFC 1071 §2(B), byte-order
    // independence), so the RFC 1624 update uses the swapped old and new values.
    const odd = ((at - this.off) & 1) === 1;
    const oldV = odd ? swap16(this.mss) : this.mss;
    const newV = odd ? swap16(max) : max;
    setU16(b, csumAt, csumReplace16(u16(b, csumAt), oldV, newV));
    setU16(b, at, max);
    this.mss = max;
    return true;
  }
}

function swap16(v: number): number {
  return ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
}

/** One TCP option as carried in a `TcpRepr`, in wire order. */
export type TcpOption =
  | { kind: 'nop' }
  /** End of option list; `padding` is every byte after it up to the header end (zeros when well formed). */
  | { kind: 'eol'; padding: Uint8Array }
  | { kind: 'mss'; value: number }
  | { kind: 'wscale'; shift: number }
  | { kind: 'sack-permitted' }
  /** Blocks as [left, right] sequence-number pairs. */
  | { kind: 'sack'; blocks: Array<[number, number]> }
  | { kind: 'timestamps'; tsVal: number; tsEcr: number }
  /** A kind this module does not decode; `data` is what follows the kind and length bytes. */
  | { kind: 'unknown'; type: number; data: Uint8Array }
  /** Bytes from the first malformed option to the header end, carried through unchanged. */
  | { kind: 'malformed'; bytes: Uint8Array };

/** Plain representation of a TCP segment (for building segments, traces and tests). */
export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Nine flag bits (TCP_* constants, TCP_AE included). */
  flags: number;
  /** The three reserved header bits (zero on send). */
  reserved: number;
  window: number;
  urgentPointer: number;
  options: TcpOption[];
  payload: Uint8Array;
}

/** Decodes the options area buf[start..end) into a list; never throws. */
function parseOptionList(b: Uint8Array, start: number, end: number): TcpOption[] {
  const out: TcpOption[] = [];
  let p = start;
  while (p < end) {
    const kind = b[p]!;
    if (kind === TCP_OPT_EOL) {
      out.push({ kind: 'eol', padding: b.slice(p + 1, end) });
      return out;
    }
    if (kind === TCP_OPT_NOP) {
      out.push({ kind: 'nop' });
      p++;
      continue;
    }
    const opt = p + 1 < end ? decodeOption(b, p, end) : null;
    if (opt === null) {
      out.push({ kind: 'malformed', bytes: b.slice(p, end) });
      return out;
    }
    out.push(opt);
    p += b[p + 1]!;
  }
  return out;
}

/** The option at p (kind and length bytes present), or null when malformed. */
function decodeOption(b: Uint8Array, p: number, end: number): TcpOption | null {
  const kind = b[p]!;
  const n = b[p + 1]!;
  if (n < 2 || p + n > end) return null;
  switch (kind) {
    case TCP_OPT_MSS:
      return n === 4 ? { kind: 'mss', value: u16(b, p + 2) } : null;
    case TCP_OPT_WSCALE:
      return n === 3 ? { kind: 'wscale', shift: b[p + 2]! } : null;
    case TCP_OPT_SACK_PERMITTED:
      return n === 2 ? { kind: 'sack-permitted' } : null;
    case TCP_OPT_SACK: {
      if (n < 2 + TCP_SACK_BLOCK_LEN || (n - 2) % TCP_SACK_BLOCK_LEN !== 0) return null;
      const blocks: Array<[number, number]> = [];
      for (let q = p + 2; q < p + n; q += TCP_SACK_BLOCK_LEN) blocks.push([u32(b, q), u32(b, q + 4)]);
      return { kind: 'sack', blocks };
    }
    case TCP_OPT_TIMESTAMPS:
      return n === 10 ? { kind: 'timestamps', tsVal: u32(b, p + 2), tsEcr: u32(b, p + 6) } : null;
    default:
      return { kind: 'unknown', type: kind, data: b.slice(p + 2, p + n) };
  }
}

export function parseTcp(v: TcpView): TcpRepr {
  return {
    srcPort: v.srcPort,
    dstPort: v.dstPort,
    seq: v.seq,
    ack: v.ack,
    flags: v.flags,
    reserved: v.reserved,
    window: v.window,
    urgentPointer: v.urgentPointer,
    options: parseOptionList(v.buf, v.optionsOff, v.payloadOff),
    payload: v.buf.slice(v.payloadOff, v.payloadOff + v.payloadLen),
  };
}

/** Wire size of one option. */
function optionLen(o: TcpOption): number {
  switch (o.kind) {
    case 'nop':
      return 1;
    case 'eol':
      return 1 + o.padding.length;
    case 'mss':
      return 4;
    case 'wscale':
      return 3;
    case 'sack-permitted':
      return 2;
    case 'sack':
      return 2 + TCP_SACK_BLOCK_LEN * o.blocks.length;
    case 'timestamps':
      return 10;
    case 'unknown':
      return 2 + o.data.length;
    case 'malformed':
      return o.bytes.length;
  }
}

/** Header length for the repr: 20 plus the options, padded with zeros to a multiple of 4. */
export function tcpHeaderLen(r: TcpRepr): number {
  let n = 0;
  for (const o of r.options) n += optionLen(o);
  return TCP_HEADER_LEN + ((n + 3) & ~3);
}

/** Segment length (header + payload): the value the pseudo-header sum needs. */
export function tcpLen(r: TcpRepr): number {
  return tcpHeaderLen(r) + r.payload.length;
}

function emitOption(o: TcpOption, b: Uint8Array, p: number): number {
  const n = optionLen(o);
  switch (o.kind) {
    case 'nop':
      b[p] = TCP_OPT_NOP;
      return n;
    case 'eol':
      b[p] = TCP_OPT_EOL;
      b.set(o.padding, p + 1);
      return n;
    case 'malformed':
      b.set(o.bytes, p);
      return n;
    case 'mss':
      b[p] = TCP_OPT_MSS;
      setU16(b, p + 2, o.value);
      break;
    case 'wscale':
      b[p] = TCP_OPT_WSCALE;
      b[p + 2] = o.shift;
      break;
    case 'sack-permitted':
      b[p] = TCP_OPT_SACK_PERMITTED;
      break;
    case 'sack':
      b[p] = TCP_OPT_SACK;
      for (let i = 0; i < o.blocks.length; i++) {
        setU32(b, p + 2 + i * TCP_SACK_BLOCK_LEN, o.blocks[i]![0]);
        setU32(b, p + 6 + i * TCP_SACK_BLOCK_LEN, o.blocks[i]![1]);
      }
      break;
    case 'timestamps':
      b[p] = TCP_OPT_TIMESTAMPS;
      setU32(b, p + 2, o.tsVal);
      setU32(b, p + 6, o.tsEcr);
      break;
    case 'unknown':
      b[p] = o.type;
      b.set(o.data, p + 2);
      break;
  }
  b[p + 1] = n;
  return n;
}

/**
 * Writes the whole segment (header, options, zero padding, payload) into buf at off, computes
 * the checksum with `pseudoSum`, and returns the segment length.
 */
export function emitTcp(r: TcpRepr, buf: Uint8Array, off: number, pseudoSum: number): number {
  const hl = tcpHeaderLen(r);
  if (hl > TCP_MAX_HEADER_LEN)
    throw new RangeError(`tcp header of ${hl} bytes exceeds ${TCP_MAX_HEADER_LEN}`);
  const n = hl + r.payload.length;
  if (off + n > buf.length) throw new RangeError(`tcp segment needs ${n} bytes at ${off}`);
  setU16(buf, off + TCP_SRC_PORT, r.srcPort);
  setU16(buf, off + TCP_DST_PORT, r.dstPort);
  setU32(buf, off + TCP_SEQ, r.seq);
  setU32(buf, off + TCP_ACK, r.ack);
  buf[off + TCP_DATA_OFF] = ((hl / 4) << 4) | ((r.reserved & 7) << 1) | ((r.flags >>> 8) & 1);
  buf[off + TCP_FLAGS] = r.flags;
  setU16(buf, off + TCP_WINDOW, r.window);
  setU16(buf, off + TCP_CHECKSUM, 0);
  setU16(buf, off + TCP_URGENT, r.urgentPointer);
  let p = off + TCP_HEADER_LEN;
  for (const o of r.options) p += emitOption(o, buf, p);
  buf.fill(0, p, off + hl);
  buf.set(r.payload, off + hl);
  setU16(buf, off + TCP_CHECKSUM, checksum(buf, off, n, pseudoSum));
  return n;
}
