/**
 * Exact conversion between pcapng 64-bit timestamps and ferry's (seconds, nanoseconds) pairs.
 *
 * A pcapng timestamp counts units of the interface's `if_tsresol` since the epoch
 * (draft-ietf-opsawg-pcapng §4.2): bit 7 clear → 10^-n s, set → 2^-n s, 10^-6 when absent.
 * 64-bit counts do not fit a double, so the common resolutions (≤ 2^32 units per second) use
 * long division in 16-bit digits on plain numbers, with no allocation; larger resolutions fall
 * back to BigInt. Sub-nanosecond units are truncated toward zero.
 */

const TWO_32 = 0x1_0000_0000;
const TWO_16 = 0x1_0000;
const NANOS = 1_000_000_000;

/** Remainder of the last `divide` call (a module slot rather than a returned pair). */
let remainder = 0;

/** floor(x / d) for integers x, d < 2^53, exact: the float quotient is corrected by one if needed. */
function divide(x: number, d: number): number {
  let q = Math.floor(x / d);
  let r = x - q * d;
  if (r < 0) {
    q -= 1;
    r += d;
  } else if (r >= d) {
    q += 1;
    r -= d;
  }
  remainder = r;
  return q;
}

/** Units per second encoded by an `if_tsresol` byte, as a BigInt (exact for every byte). */
export function tsresolUnits(tsresol: number): bigint {
  const n = BigInt(tsresol & 0x7f);
  return tsresol & 0x80 ? 2n ** n : 10n ** n;
}

export class TimestampScale {
  readonly unitsPerSecond: number;
  /** Seconds of the last `convert`. */
  sec = 0;
  /** Nanoseconds (0 … 999 999 999) of the last `convert`. */
  nsec = 0;
  private readonly units: bigint;
  private readonly fast: boolean;
  /** For 10^-n with n ≤ 9: nanoseconds per unit; 0 when the general formula applies. */
  private readonly nanosPerUnit: number;

  constructor(readonly tsresol: number) {
    this.units = tsresolUnits(tsresol);
    this.unitsPerSecond = Number(this.units);
    this.fast = this.units <= BigInt(TWO_32);
    const n = tsresol & 0x7f;
    this.nanosPerUnit = !(tsresol & 0x80) && n <= 9 ? 10 ** (9 - n) : 0;
  }

  /** Splits the 64-bit count hi·2^32 + lo into `sec` and `nsec`. */
  convert(hi: number, lo: number): void {
    if (!this.fast) {
      this.convertBig(hi, lo);
      return;
    }
    const d = this.unitsPerSecond;
    // Long division of [hi][lo >>> 16][lo & 0xffff]: every partial dividend stays below d·2^16 ≤ 2^48.
    const qHi = divide(hi, d);
    const qMid = divide(remainder * TWO_16 + (lo >>> 16), d);
    const qLow = divide(remainder * TWO_16 + (lo & 0xffff), d);
    const rem = remainder;
    // One rounding at most (only past 2^53 s, for coarse units): the low part is exact.
    this.sec = qHi * TWO_32 + (qMid * TWO_16 + qLow);
    if (this.nanosPerUnit !== 0) {
      this.nsec = rem * this.nanosPerUnit;
    } else {
      // floor(rem · 10^9 / d) in two steps of 10^4 and 10^5 so no product reaches 2^53.
      const q1 = divide(rem * 10_000, d);
      this.nsec = q1 * 100_000 + divide(remainder * 100_000, d);
    }
  }

  private convertBig(hi: number, lo: number): void {
    const ts = (BigInt(hi) << 32n) | BigInt(lo);
    this.sec = Number(ts / this.units);
    this.nsec = Number(((ts % this.units) * BigInt(NANOS)) / this.units);
  }
}

/** High and low 32-bit words of the last `nanosToWords` call. */
export const words = { hi: 0, lo: 0 };

/**
 * sec·10^9 + nsec as two 32-bit words (for EPBs written with if_tsresol 9), exact for every
 * sec below 2^64 / 10^9 ≈ 1.8·10^10. Returns false when the value does not fit 64 bits.
 */
export function nanosToWords(sec: number, nsec: number): boolean {
  const a = Math.floor(sec / TWO_16);
  const b = sec - a * TWO_16;
  // value = a·10^9·2^16 + (b·10^9 + nsec); split a·10^9 at 2^16 so each partial sum stays exact.
  const low = b * NANOS + nsec;
  const q = a * NANOS;
  const qHigh = Math.floor(q / TWO_16);
  const s = (q - qHigh * TWO_16) * TWO_16 + low;
  const carry = Math.floor(s / TWO_32);
  const hi = qHigh + carry;
  if (hi >= TWO_32) return false;
  words.hi = hi;
  words.lo = s - carry * TWO_32;
  return true;
}
