/**
 * Unsolicited inbound TCP SYNs waiting for their answer (RFC 5382 REQ-4): a NAT receiving a SYN
 * for which it has no mapping MUST NOT respond for at least 6 s; if an outbound SYN for that
 * connection is translated meanwhile (TCP hole punching, simultaneous open) the held SYN is
 * silently dropped, otherwise the NAT SHOULD answer it with ICMP port unreachable.
 *
 * A small bounded table in preallocated memory: per held SYN its tuple, arrival port, deadline
 * and the bytes the ICMP error quotes — the IP header and the first 8 bytes of TCP (RFC 792;
 * RFC 1812 §4.3.2.3 asks for at least that much). Every SYN is held for the same time, so
 * arrival order is deadline order: a ring, the oldest first. When it is full a new SYN is not
 * held (the caller drops it silently, as REQ-4a allows by policy).
 */

/** IP header (at most 60 bytes) + 8 bytes of TCP: what the ICMP error quotes. */
export const HELD_SYN_BYTES = 68;

export interface HeldSynsOptions {
  /** SYNs held at once (default 64). */
  capacity?: number;
  /** How long a SYN is held before it is answered, ms (default 6000: REQ-4's "at least 6 seconds"). */
  holdMs?: number;
}

export class HeldSyns {
  readonly capacity: number;
  readonly holdMs: number;
  /** Per entry: src, dst, sport << 16 | dport (int32 words). */
  readonly key: Int32Array;
  readonly deadline: Float64Array;
  readonly inPort: Uint16Array;
  readonly len: Uint8Array;
  /** HELD_SYN_BYTES per entry: the quoted bytes. */
  readonly bytes: Uint8Array;
  /** Ring: the oldest entry and how many are held. */
  head = 0;
  count = 0;

  constructor(o: HeldSynsOptions = {}) {
    const capacity = o.capacity ?? 64;
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`held SYNs capacity: ${capacity}`);
    this.capacity = capacity;
    this.holdMs = o.holdMs ?? 6000;
    this.key = new Int32Array(capacity * 3);
    this.deadline = new Float64Array(capacity);
    this.inPort = new Uint16Array(capacity);
    this.len = new Uint8Array(capacity);
    this.bytes = new Uint8Array(capacity * HELD_SYN_BYTES);
  }

  /** Whether a SYN of this tuple is held (addresses as int32, ports packed sport << 16 | dport). */
  has(src: number, dst: number, ports: number): boolean {
    const key = this.key;
    for (let i = 0, e = this.head; i < this.count; i++, e = e + 1 === this.capacity ? 0 : e + 1) {
      const k = e * 3;
      if (key[k] === src && key[k + 1] === dst && key[k + 2] === ports) return true;
    }
    return false;
  }

  /**
   * Holds the SYN whose IPv4 header (`hl` bytes) starts at d[l3]; false when the table is full.
   * Addresses as int32, ports packed sport << 16 | dport.
   */
  add(
    d: Uint8Array,
    l3: number,
    hl: number,
    src: number,
    dst: number,
    ports: number,
    inPort: number,
    nowMs: number,
  ): boolean {
    if (this.count === this.capacity) return false;
    let e = this.head + this.count;
    if (e >= this.capacity) e -= this.capacity;
    this.count++;
    const k = e * 3;
    this.key[k] = src;
    this.key[k + 1] = dst;
    this.key[k + 2] = ports;
    this.deadline[e] = nowMs + this.holdMs;
    this.inPort[e] = inPort;
    const n = hl + 8;
    this.len[e] = n;
    const at = e * HELD_SYN_BYTES;
    for (let i = 0; i < n; i++) this.bytes[at + i] = d[l3 + i]!;
    return true;
  }

  /** The oldest held SYN if its time has come, else -1. */
  due(nowMs: number): number {
    return this.count > 0 && this.deadline[this.head]! <= nowMs ? this.head : -1;
  }

  /** Forgets the oldest held SYN. */
  pop(): void {
    if (this.count === 0) return;
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    this.count--;
  }
}
