/**
 * Loading a config: YAML text → document with positions → shape and values (zod) → references and
 * clashes (semantic/) → `FerryConfig`. Any problem throws one `ConfigError` listing every issue
 * with file:line:col. Loading has no side effects, so a caller that keeps the running config until
 * a new one loads cleanly never loses it.
 */
import { readFile } from 'node:fs/promises';
import { type Document, LineCounter, parseDocument } from 'yaml';
import { ConfigError, type ConfigIssue } from './errors.js';
import { fromZod, position, type RawIssue } from './issues.js';
import { type RawConfig, SECTION_SCHEMAS, SECTIONS, type Section, topLevelSchema } from './schema/root.js';
import { resolveChains, resolveSets } from './semantic/chains.js';
import { Checker } from './semantic/context.js';
import { resolvePorts } from './semantic/ports.js';
import { type RuleSlot, resolveRules, resolveTables, tableRefId } from './semantic/routing.js';
import {
  resolveConntrack,
  resolveDhcpRelay,
  resolveFailover,
  resolveL2tp,
  resolveOverlay,
} from './semantic/services.js';
import type { FerryConfig, PortConfig } from './types.js';
import { TABLE_MAIN } from './types.js';
import { describe } from './values.js';

/** Guards against alias bombs ("billion laughs"); real configs use a handful of aliases. */
const MAX_ALIAS_COUNT = 1000;

function syntaxIssues(doc: Document, lc: LineCounter, file: string): ConfigIssue[] {
  return [...doc.errors, ...doc.warnings].map((e) => {
    const p = lc.linePos(e.pos[0]);
    return { file, line: p.line, column: p.col, path: '', message: e.message };
  });
}

/**
 * Cross-references and defaults. Runs on the sections whose shape is right; a section that failed
 * (`failed`) is skipped together with the checks that refer into it, so one mistake does not
 * cause a cascade of "no table named …" errors.
 */
function normalise(
  raw: Partial<RawConfig>,
  failed: ReadonlySet<Section>,
  file: string,
  ck: Checker,
): FerryConfig | null {
  if (!raw.ports) return null;
  const { index: pi, dhcp } = resolvePorts(raw.ports, ck);
  const tablesOk = !failed.has('tables');
  const ti = resolveTables(raw.tables, pi, new Set(dhcp.map((d) => d.port)), ck);
  const ports: PortConfig[] = pi.ports.map((p) => {
    const d = dhcp.find((x) => x.port === p.index);
    if (!d) return p;
    const table = d.table === undefined || !tablesOk ? TABLE_MAIN : tableRefId(ck, ti, d.table, d.path);
    return { ...p, dhcp: { table } };
  });
  const pIndex = { ports, byName: pi.byName };
  const taken: RuleSlot[] = [];
  const rules = tablesOk ? resolveRules(raw.rules, pIndex, ti, ck, taken) : [];
  const si = resolveSets(raw.sets, ck);
  const chains = failed.has('sets')
    ? { chains: [], byName: new Map<string, number>() }
    : resolveChains(raw.chains, pIndex, si, ck);
  const failoverOk = tablesOk && !failed.has('rules') && !failed.has('chains') && !failed.has('sets');
  return {
    file,
    ports,
    tables: ti.tables,
    rules,
    sets: si.sets,
    chains: chains.chains,
    conntrack: resolveConntrack(raw.conntrack),
    dhcpRelay: resolveDhcpRelay(raw['dhcp-relay'], pIndex, ck),
    overlay: resolveOverlay(raw.overlay, pIndex, ck),
    failover: failoverOk ? resolveFailover(raw.failover, pIndex, ti, chains, taken, ck) : null,
    l2tp: resolveL2tp(raw.l2tp, pIndex, ck),
    declaredTables: Object.keys(raw.tables ?? {}).length,
  };
}

/** Parses and validates config text; `file` is used in messages only. Throws `ConfigError`. */
export function parseConfig(text: string, file: string): FerryConfig {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, version: '1.2' });
  const syntax = syntaxIssues(doc, lc, file);
  if (syntax.length > 0) throw new ConfigError(syntax);
  const data: unknown = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  if (data === null || data === undefined) {
    throw new ConfigError([
      { file, line: 1, column: 1, path: '', message: 'the file is empty (it needs at least ports:)' },
    ]);
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    const p = lc.linePos(doc.contents?.range?.[0] ?? 0);
    const msg = `expected a map of sections (ports, tables, …) at the top, got ${describe(data)}`;
    throw new ConfigError([{ file, line: p.line, column: p.col, path: '', message: msg }]);
  }
  const issues: RawIssue[] = [];
  const top = topLevelSchema.safeParse(data);
  if (!top.success) issues.push(...fromZod(top.error.issues, doc));
  const raw: Partial<Record<Section, unknown>> = {};
  const failed = new Set<Section>();
  const sections = data as Record<string, unknown>;
  for (const name of SECTIONS) {
    const r = SECTION_SCHEMAS[name].safeParse(sections[name], { reportInput: true });
    if (r.success) raw[name] = r.data;
    else {
      failed.add(name);
      issues.push(...fromZod(r.error.issues, doc, [name]));
    }
  }
  const ck = new Checker();
  const config = normalise(raw as Partial<RawConfig>, failed, file, ck);
  issues.push(...ck.issues);
  if (issues.length > 0 || !config) throw new ConfigError(position(issues, doc, lc, file));
  return config;
}

/** Reads and validates a config file. Throws `ConfigError` (an unreadable file is one issue at line 0). */
export async function loadConfig(file: string): Promise<FerryConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    throw new ConfigError([{ file, line: 0, column: 0, path: '', message: `cannot read: ${why}` }]);
  }
  return parseConfig(text, file);
}
