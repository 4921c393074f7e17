/**
 * Parsers for scalar config values. Each takes the raw value YAML produced (`unknown`) and returns
 * the typed value or a `Fail` carrying the message shown to the user. They never throw.
 */
import { didYouMean } from './suggest.js';

export class Fail {
  /** `at`: where inside the value the problem is (e.g. `[2]` for the third list item). */
  constructor(
    readonly message: string,
    readonly at: readonly (string | number)[] = [],
  ) {}
}

export type Parsed<T> = T | Fail;

/** How a raw value is named in messages: `"abc"`, `42`, `a list`, `a map`, `an empty value`. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return typeof v;
}

export function expected(what: string, v: unknown): Fail {
  let hint = '';
  if (typeof v === 'number' && (what.includes('string') || what.includes('hex'))) {
    hint = ' (quote it: YAML read it as a number)';
  }
  return new Fail(`expected ${what}, got ${describe(v)}${hint}`);
}

export function bool(v: unknown): Parsed<boolean> {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(yes|no|on|off|y|n)$/i.test(v)) {
    return new Fail(`expected true or false, got ${describe(v)} (YAML 1.2 reads "${v}" as a string)`);
  }
  return expected('true or false', v);
}

export function str(v: unknown, what = 'a string'): Parsed<string> {
  if (typeof v === 'string' && v.length > 0) return v;
  return expected(what, v);
}

/** An integer in [min, max]. Accepts YAML integers only (0x10 is one in YAML 1.2). */
export function int(v: unknown, min: number, max: number): Parsed<number> {
  if (typeof v !== 'number') return expected('an integer', v);
  if (!Number.isInteger(v)) return new Fail(`expected an integer, got ${v}`);
  if (v < min || v > max) return new Fail(`${v} is out of range ${min}..${max}`);
  return v;
}

/** One of a fixed set of words. */
export function oneOf<T extends string>(v: unknown, values: readonly T[]): Parsed<T> {
  if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
  if (typeof v !== 'string') return expected(`one of ${values.join(', ')}`, v);
  return new Fail(`${describe(v)} is not one of ${values.join(', ')}${didYouMean(v, values)}`);
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration in milliseconds: a number of seconds (`30`) or units `ms s m h d`, combinable
 * (`1h30m`, `500ms`). Must be positive.
 */
export function duration(v: unknown): Parsed<number> {
  if (typeof v === 'number') {
    if (!(v > 0) || !Number.isFinite(v))
      return new Fail(`duration ${v} must be a positive number of seconds`);
    return Math.round(v * 1000);
  }
  if (typeof v !== 'string') return expected('a duration (seconds, or "500ms", "30s", "5m", "1h", "2d")', v);
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(v)) {
    return new Fail(`${describe(v)} is not a duration (write seconds, or "500ms", "30s", "5m", "1h", "2d")`);
  }
  let total = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * UNITS[m[2]!]!;
  total = Math.round(total);
  if (total <= 0) return new Fail(`duration ${describe(v)} must be positive`);
  return total;
}

/** Names of ports, tables, chains, sets: a letter, then letters, digits, `_ . -`. */
export function name(v: unknown, what: string, maxLen = 64): Parsed<string> {
  if (typeof v !== 'string') return expected(`a ${what} name`, v);
  if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(v)) {
    return new Fail(
      `${describe(v)} is not a valid ${what} name (a letter, then letters, digits, "_", "." or "-")`,
    );
  }
  if (v.length > maxLen) return new Fail(`${what} name ${describe(v)} is longer than ${maxLen} characters`);
  return v;
}

/** A file path (any non-empty string without NUL). */
export function path(v: unknown): Parsed<string> {
  if (typeof v !== 'string' || v.length === 0) return expected('a file path', v);
  if (v.includes('\0')) return new Fail('a file path cannot contain NUL');
  return v;
}
