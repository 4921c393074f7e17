/**
 * Zod building blocks for the config schema. Leaves are `val(parser)`: the parser from
 * `values.ts`/`net.ts` checks the raw YAML value and writes the message, so every message reads
 * the same whichever section it comes from. Maps are strict: an unknown key is an error that
 * names it and suggests the closest known key.
 */
import { z } from 'zod';
import { didYouMean } from '../suggest.js';
import { describe, Fail, type Parsed } from '../values.js';

/** A leaf: runs `parse` on the raw value (undefined when the key is absent). */
export function val<T>(parse: (v: unknown) => Parsed<T>) {
  return z.unknown().transform((v, ctx): T => {
    const r = parse(v);
    if (r instanceof Fail) {
      ctx.issues.push({ code: 'custom', message: r.message, input: v, path: [...r.at] });
      return z.NEVER;
    }
    return r;
  });
}

/** Message for an unknown key (one line per key, in the order zod lists them). */
function unknownKeys(keys: readonly string[], known: readonly string[]): string {
  return keys.map((k) => `unknown key "${k}"${didYouMean(k, known)}`).join('\n');
}

/** A strict map with a fixed set of keys. */
export function obj<S extends z.core.$ZodLooseShape>(shape: S, what = 'a map') {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code === 'unrecognized_keys') return unknownKeys(iss.keys, known);
      if (iss.code === 'invalid_type') return `expected ${what}, got ${describe(iss.input)}`;
      return undefined;
    },
  });
}

/** A YAML sequence. */
export function list<T extends z.core.SomeType>(item: T, what = 'a list', min = 0) {
  return z
    .array(item, {
      error: (iss) => {
        if (iss.code === 'invalid_type') return `expected ${what}, got ${describe(iss.input)}`;
        if (iss.code === 'too_small') return `needs at least ${min} ${min === 1 ? 'entry' : 'entries'}`;
        return undefined;
      },
    })
    .min(min);
}

/** A map of user-chosen names to values (`tables`, `chains`, `sets`). */
export function dict<T extends z.core.SomeType>(value: T, what: string) {
  return z.record(z.string(), value, {
    error: (iss) =>
      iss.code === 'invalid_type' ? `expected ${what}, got ${describe(iss.input)}` : undefined,
  });
}

/** A value that may be written alone or as a list of them (an empty list only if `allowEmpty`). */
export function oneOrMany<T>(parse: (v: unknown) => Parsed<T>, v: unknown, allowEmpty = false): Parsed<T[]> {
  if (!Array.isArray(v)) {
    const r = parse(v);
    return r instanceof Fail ? r : [r];
  }
  if (v.length === 0 && !allowEmpty) return new Fail('the list is empty');
  const out: T[] = [];
  for (let i = 0; i < v.length; i++) {
    const r = parse(v[i]);
    if (r instanceof Fail) return new Fail(r.message, [i, ...r.at]);
    out.push(r);
  }
  return out;
}

/** An optional leaf: an absent key gives undefined; a present one (even empty) is parsed. */
export function opt<T>(parse: (v: unknown) => Parsed<T>) {
  return val(parse).optional();
}

/** A string-typed leaf: a non-string is a type mismatch (so unions can tell branches apart). */
export function word<T>(what: string, parse: (v: string) => Parsed<T>) {
  return z
    .string({ error: (iss) => `expected ${what}, got ${describe(iss.input)}` })
    .transform((v, ctx): T => {
      const r = parse(v);
      if (r instanceof Fail) {
        ctx.issues.push({ code: 'custom', message: r.message, input: v, path: [...r.at] });
        return z.NEVER;
      }
      return r;
    });
}

/** A boolean leaf usable in unions. */
export function flag() {
  return z.boolean({ error: (iss) => `expected true or false, got ${describe(iss.input)}` });
}

/**
 * Alternatives told apart by YAML type (a word, a map, a list). When no branch accepts the type the
 * message is "expected <what>"; otherwise the branch of the right type reports its own problem.
 */
export function either<const T extends readonly [z.core.SomeType, ...z.core.SomeType[]]>(
  what: string,
  options: T,
) {
  return z.union(options, {
    error: (iss) =>
      iss.code === 'invalid_union' ? `expected ${what}, got ${describe(iss.input)}` : undefined,
  });
}

/** A top-level section: absent or empty (`tables:` with nothing under it) both mean "not used". */
export function section<T extends z.core.SomeType>(schema: T) {
  return z.preprocess((v) => (v === null ? undefined : v), z.optional(schema));
}
