/**
 * Big-endian field access on byte arrays, and the address formats ferry prints and parses.
 * The accessors are tiny so V8 inlines them; they never bounds-check (callers `wrap()` first).
 */

export const EMPTY = new Uint8Array(0);

export function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function setU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

export function setU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** 48-bit MAC as a number (fits in a double exactly); handy as a table key. */
export function u48(b: Uint8Array, o: number): number {
  return u16(b, o) * 0x1_0000_0000 + u32(b, o + 2);
}

export function setU48(b: Uint8Array, o: number, v: number): void {
  setU16(b, o, Math.floor(v / 0x1_0000_0000));
  setU32(b, o + 2, v >>> 0);
}

// ---- formatting / parsing (control plane, traces, tests: allocation is fine here) ----

export function formatMac(b: Uint8Array, o = 0): string {
  let s = '';
  for (let i = 0; i < 6; i++) {
    if (i) s += ':';
    s += b[o + i]!.toString(16).padStart(2, '0');
  }
  return s;
}

/** Parses "aa:bb:cc:dd:ee:ff" (also '-' separated); returns null when malformed. */
export function parseMac(s: string): Uint8Array | null {
  const parts = s.split(/[:-]/);
  if (parts.length !== 6) return null;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    const p = parts[i]!;
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return null;
    out[i] = Number.parseInt(p, 16);
  }
  return out;
}

/** IPv4 address held as an unsigned 32-bit number, printed dotted-quad. */
export function formatIpv4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** Parses a dotted-quad IPv4 address into an unsigned 32-bit number; null when malformed. */
export function parseIpv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const n = Number(m[i]);
    if (n > 255 || (m[i]!.length > 1 && m[i]![0] === '0')) return null;
    v = v * 256 + n;
  }
  return v >>> 0;
}

/** RFC 5952 text form of the 16 bytes at b[o..o+16). */
export function formatIpv6(b: Uint8Array, o = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(u16(b, o + 2 * i));
  // RFC 5952 §4.2: compress the longest run (>= 2) of zero words, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  // RFC 4291 §2.5.5.2: IPv4-mapped addresses keep their dotted tail.
  if (bestStart === 0 && bestLen === 5 && words[5] === 0xffff) {
    return `::ffff:${formatIpv4(u32(b, o + 12))}`;
  }
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

/** Parses an IPv6 address (with "::" and an optional dotted IPv4 tail); null when malformed. */
export function parseIpv6(s: string): Uint8Array | null {
  if (s.length === 0 || s.length > 45) return null;
  let text = s;
  if (text.includes('.')) {
    // Rewrite a dotted IPv4 tail (RFC 4291 §2.2 form 3) as two hex words, then parse as usual.
    const cut = text.lastIndexOf(':');
    const v4 = cut < 0 ? null : parseIpv4(text.slice(cut + 1));
    if (v4 === null) return null;
    text = `${text.slice(0, cut + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parseWords = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    for (const p of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
      out.push(Number.parseInt(p, 16));
    }
    return out;
  };
  const head = parseWords(halves[0]!);
  const rest = halves.length === 2 ? parseWords(halves[1]!) : [];
  if (!head || !rest) return null;
  const total = head.length + rest.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return null;
  const words = [...head, ...new Array<number>(8 - total).fill(0), ...rest];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) setU16(out, 2 * i, words[i]!);
  return out;
}

/** Hex dump without separators, for tests and traces. */
export function toHex(b: Uint8Array, o = 0, n = b.length - o): string {
  let s = '';
  for (let i = 0; i < n; i++) s += b[o + i]!.toString(16).padStart(2, '0');
  return s;
}

/** Bytes from a hex string; whitespace, ':' and '|' separators are ignored (literal-byte tests). */
export function fromHex(h: string): Uint8Array {
  const clean = h.replace(/[\s:|]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex: ${h}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}
