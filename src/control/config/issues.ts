/**
 * Turns zod's issues and the semantic checks' findings into `ConfigIssue`s with positions.
 *
 * Where an issue points: a bad value at the value; an unknown key at the key; a missing key at the
 * map that lacks it (the issue's path becomes that map's path and the message names the key).
 */
import type { Document, LineCounter } from 'yaml';
import type { z } from 'zod';
import type { ConfigIssue } from './errors.js';
import { formatPath } from './errors.js';
import { type Anchor, keyMissing, locate } from './locate.js';

/** A finding before it has a position. */
export interface RawIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly anchor: Anchor;
  /** The path to print when it differs from the located one (an unknown key prints its map). */
  readonly shown?: readonly PropertyKey[];
}

type ZodIssue = z.core.$ZodIssue;

/** A branch of a union that failed only because the value had another YAML type. */
function wrongType(issues: readonly ZodIssue[]): boolean {
  return issues.length === 1 && issues[0]!.path.length === 0 && issues[0]!.code === 'invalid_type';
}

function flatten(doc: Document, iss: ZodIssue, base: readonly PropertyKey[], out: RawIssue[]): void {
  const path = [...base, ...iss.path];
  if (iss.code === 'invalid_union' && iss.errors.length > 0) {
    const typed = iss.errors.filter((branch) => !wrongType(branch));
    if (typed.length > 0) {
      // The branch of the right type explains the problem (the first one if several qualify).
      for (const sub of typed[0]!) flatten(doc, sub, path, out);
      return;
    }
  }
  if (iss.code === 'unrecognized_keys') {
    const lines = iss.message.split('\n');
    iss.keys.forEach((k, i) => {
      out.push({ path: [...path, k], message: lines[i] ?? `unknown key "${k}"`, anchor: 'key', shown: path });
    });
    return;
  }
  const last = path[path.length - 1];
  if (typeof last === 'string' && keyMissing(doc, path.slice(0, -1), last)) {
    out.push({ path: path.slice(0, -1), message: `missing required key "${last}"`, anchor: 'value' });
    return;
  }
  out.push({ path, message: iss.message, anchor: 'value' });
}

/**
 * Zod issues as raw issues: unions resolved to the branch that matters, unknown keys split one per
 * key, and a required key that is absent reported at the map that lacks it.
 */
export function fromZod(
  issues: readonly ZodIssue[],
  doc: Document,
  base: readonly PropertyKey[] = [],
): RawIssue[] {
  const out: RawIssue[] = [];
  for (const iss of issues) flatten(doc, iss, base, out);
  return out;
}

/** Gives every raw issue its line and column (duplicates, e.g. from aliased nodes, are dropped). */
export function position(
  raw: readonly RawIssue[],
  doc: Document,
  lc: LineCounter,
  file: string,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const r of raw) {
    const pos = locate(doc, lc, r.path, r.anchor);
    const issue: ConfigIssue = {
      file,
      line: pos.line,
      column: pos.column,
      path: formatPath(r.shown ?? pos.path),
      message: r.message,
    };
    // One node reached through several aliases is one problem: keep the first path to it.
    const id = `${issue.line}:${issue.column}:${issue.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(issue);
  }
  return out;
}
