/**
 * Hand-made capture files for the reader tests: every field is spelled out, in either byte
 * order, so a test can corrupt exactly the byte it is about and knows that byte's offset.
 */

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Growable byte writer in one byte order. */
export class Bytes {
  private readonly parts: number[] = [];
  constructor(readonly le: boolean) {}

  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }

  u16(v: number): this {
    return this.le ? this.u8(v).u8(v >>> 8) : this.u8(v >>> 8).u8(v);
  }

  u32(v: number): this {
    return this.le ? this.u16(v & 0xffff).u16(v >>> 16) : this.u16(v >>> 16).u16(v & 0xffff);
  }

  /** 64-bit value as its two 32-bit words, most significant first in big-endian. */
  u64(v: bigint): this {
    const hi = Number((v >> 32n) & 0xffffffffn);
    const lo = Number(v & 0xffffffffn);
    return this.le ? this.u32(lo).u32(hi) : this.u32(hi).u32(lo);
  }

  bytes(b: Uint8Array): this {
    for (const x of b) this.parts.push(x);
    return this;
  }

  pad4(): this {
    while (this.parts.length % 4 !== 0) this.parts.push(0);
    return this;
  }

  get length(): number {
    return this.parts.length;
  }

  build(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** Deterministic packet bytes: `n` bytes derived from `seed`. */
export function packetBytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

// ---- classic pcap ----

export interface PcapHeaderSpec {
  le?: boolean;
  nano?: boolean;
  major?: number;
  minor?: number;
  snaplen?: number;
  /** Whole 32-bit LinkType field (link type plus FCS bits). */
  linkField?: number;
}

export function pcapHeader(s: PcapHeaderSpec = {}): Uint8Array {
  return new Bytes(s.le ?? true)
    .u32(s.nano ? 0xa1b23c4d : 0xa1b2c3d4)
    .u16(s.major ?? 2)
    .u16(s.minor ?? 4)
    .u32(0)
    .u32(0)
    .u32(s.snaplen ?? 262144)
    .u32(s.linkField ?? 1)
    .build();
}

export interface PcapRecordSpec {
  sec: number;
  /** Microseconds or nanoseconds, per the file's magic. */
  frac: number;
  data: Uint8Array;
  /** Defaults to data.length. */
  incl?: number;
  orig?: number;
}

export function pcapRecord(r: PcapRecordSpec, le = true): Uint8Array {
  return new Bytes(le)
    .u32(r.sec)
    .u32(r.frac)
    .u32(r.incl ?? r.data.length)
    .u32(r.orig ?? r.data.length)
    .bytes(r.data)
    .build();
}

// ---- pcapng ----

export type Option = readonly [code: number, value: Uint8Array];

export function options(le: boolean, list: readonly Option[], end = true): Uint8Array {
  const b = new Bytes(le);
  for (const [code, value] of list) b.u16(code).u16(value.length).bytes(value).pad4();
  if (end && list.length > 0) b.u16(0).u16(0);
  return b.build();
}

export interface BlockSpec {
  /** Overrides the leading total length. */
  length?: number;
  /** Overrides the trailing total length. */
  trailer?: number;
}

/** type, total length, body (padded to 32 bits), total length. */
export function block(le: boolean, type: number, body: Uint8Array, s: BlockSpec = {}): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const total = 12 + padded;
  return new Bytes(le)
    .u32(type)
    .u32(s.length ?? total)
    .bytes(body)
    .pad4()
    .u32(s.trailer ?? total)
    .build();
}

export interface ShbSpec extends BlockSpec {
  major?: number;
  minor?: number;
  options?: readonly Option[];
}

export function shb(le: boolean, s: ShbSpec = {}): Uint8Array {
  const body = new Bytes(le)
    .u32(0x1a2b3c4d)
    .u16(s.major ?? 1)
    .u16(s.minor ?? 0)
    .u64(0xffffffffffffffffn)
    .bytes(options(le, s.options ?? []))
    .build();
  return block(le, 0x0a0d0d0a, body, s);
}

export interface IdbSpec extends BlockSpec {
  linkType?: number;
  snaplen?: number;
  options?: readonly Option[];
}

export function idb(le: boolean, s: IdbSpec = {}): Uint8Array {
  const body = new Bytes(le)
    .u16(s.linkType ?? 1)
    .u16(0)
    .u32(s.snaplen ?? 262144)
    .bytes(options(le, s.options ?? []))
    .build();
  return block(le, 1, body, s);
}

export interface EpbSpec extends BlockSpec {
  iface?: number;
  /** Timestamp in the interface's units. */
  ts: bigint;
  data: Uint8Array;
  caplen?: number;
  orig?: number;
  options?: readonly Option[];
}

/** EPB/OPB timestamps: the upper 32-bit word first, each word in the section's order (§4.3). */
function tsWords(b: Bytes, ts: bigint): Bytes {
  return b.u32(Number(ts >> 32n)).u32(Number(ts & 0xffffffffn));
}

export function epb(le: boolean, s: EpbSpec): Uint8Array {
  const body = tsWords(new Bytes(le).u32(s.iface ?? 0), s.ts)
    .u32(s.caplen ?? s.data.length)
    .u32(s.orig ?? s.data.length)
    .bytes(s.data)
    .pad4()
    .bytes(options(le, s.options ?? []))
    .build();
  return block(le, 6, body, s);
}

/** Obsolete Packet Block: 16-bit interface id and drops count. */
export function opb(le: boolean, s: EpbSpec): Uint8Array {
  const body = tsWords(new Bytes(le).u16(s.iface ?? 0).u16(0), s.ts)
    .u32(s.caplen ?? s.data.length)
    .u32(s.orig ?? s.data.length)
    .bytes(s.data)
    .pad4()
    .build();
  return block(le, 2, body, s);
}

export function spb(le: boolean, orig: number, data: Uint8Array, s: BlockSpec = {}): Uint8Array {
  return block(le, 3, new Bytes(le).u32(orig).bytes(data).pad4().build(), s);
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const u8 = (v: number): Uint8Array => Uint8Array.of(v);
export const i64 = (le: boolean, v: bigint): Uint8Array => new Bytes(le).u64(BigInt.asUintN(64, v)).build();
