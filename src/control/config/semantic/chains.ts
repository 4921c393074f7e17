/**
 * Sets and chains: set elements by type, chain kinds (base or user), match references, action
 * lists (one verdict, last), jump targets, loops, and where NAT/reject/oif may appear.
 */
import { formatPath } from '../errors.js';
import { PROTOCOLS, portRange, prefix, samePrefix } from '../net.js';
import type {
  RawAddr,
  RawChain,
  RawChainRule,
  RawIface,
  RawMatch,
  RawPorts,
  RawSet,
} from '../schema/chains.js';
import type {
  Action,
  AddrMatch,
  ChainConfig,
  ChainRule,
  ChainType,
  Family,
  Hook,
  IfaceMatch,
  Match,
  PortMatch,
  PortRange,
  Prefix,
  SetConfig,
} from '../types.js';
import { Fail } from '../values.js';
import { type Checker, lookup, type Path, type PortIndex, portRef } from './context.js';

/** nft keeps at most 16 nested jumps (NFT_JUMP_STACK_SIZE). */
export const MAX_JUMP_DEPTH = 16;

const PORT_PROTOS = new Set([PROTOCOLS.tcp, PROTOCOLS.udp, PROTOCOLS.sctp, PROTOCOLS.udplite]);

export interface SetIndex {
  readonly sets: readonly SetConfig[];
  readonly byName: ReadonlyMap<string, number>;
}

export function resolveSets(raw: Readonly<Record<string, RawSet>> | undefined, ck: Checker): SetIndex {
  const sets: SetConfig[] = [];
  const byName = new Map<string, number>();
  for (const [name, s] of Object.entries(raw ?? {})) {
    const base: Path = ['sets', name];
    if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(name)) {
      ck.error(
        base,
        `"${name}" is not a valid set name (a letter, then letters, digits, "_", "." or "-")`,
        'key',
      );
      continue;
    }
    const prefixes: Prefix[] = [];
    const ports: PortRange[] = [];
    s.elements.forEach((e, k) => {
      const at: Path = [...base, 'elements', k];
      if (s.type === 'port') {
        const r = portRange(e);
        if (r instanceof Fail) ck.error(at, r.message);
        else if (ports.some((q) => r.min <= q.max && q.min <= r.max))
          ck.error(at, 'overlaps an earlier element');
        else ports.push(r);
      } else {
        const p = prefix(e, 'network', s.type === 'ipv4' ? 4 : 6);
        if (p instanceof Fail) ck.error(at, p.message);
        else if (prefixes.some((q) => samePrefix(p, q))) ck.error(at, 'duplicate element');
        else prefixes.push(p);
      }
    });
    byName.set(name, sets.length);
    sets.push({ index: sets.length, name, type: s.type, prefixes, ports });
  }
  return { sets, byName };
}

/** Where a rule runs: the hook and type of a base chain that reaches it. */
interface Context {
  readonly hook: Hook;
  readonly type: ChainType;
  readonly chain: string;
}

/** A statement whose validity depends on the hook/type it runs at, checked per context. */
interface Constraint {
  readonly path: Path;
  readonly what: string;
  readonly allowed: (c: Context) => boolean;
  readonly need: string;
}

interface Edge {
  readonly to: number;
  readonly path: Path;
  readonly kind: 'jump' | 'goto';
}

const DEFAULT_PRIORITY = (hook: Hook, type: ChainType): number => {
  if (type === 'nat') return hook === 'prerouting' || hook === 'output' ? -100 : 100;
  if (type === 'route') return -150;
  return 0;
};

function resolveIface(ck: Checker, pi: PortIndex, m: RawIface, path: Path): IfaceMatch | null {
  // A single name is written as a scalar; `locate` drops the [0] for it.
  const ports = m.names.map((n, k) => portRef(ck, pi, n, [...path, k]));
  return ports.every((p) => p >= 0) ? { negate: m.negate, ports } : null;
}

function resolveAddr(ck: Checker, si: SetIndex, m: RawAddr, path: Path): AddrMatch | null {
  if (m.set !== null) {
    const idx = lookup(ck, si.byName, m.set, 'set', path);
    if (idx === undefined) return null;
    const s = si.sets[idx]!;
    if (s.type === 'port') {
      ck.error(path, `set "${s.name}" holds ports, not addresses`);
      return null;
    }
    return { negate: m.negate, set: idx, family: s.type === 'ipv4' ? 4 : 6, prefixes: s.prefixes };
  }
  const family = m.prefixes[0]!.family;
  const mixed = m.prefixes.findIndex((p) => p.family !== family);
  if (mixed >= 0) {
    ck.error([...path, mixed], 'a list of prefixes cannot mix IPv4 and IPv6');
    return null;
  }
  return { negate: m.negate, set: -1, family, prefixes: m.prefixes };
}

function resolvePorts(ck: Checker, si: SetIndex, m: RawPorts, path: Path): PortMatch | null {
  if (m.set === null) return { negate: m.negate, set: -1, ranges: m.ranges };
  const idx = lookup(ck, si.byName, m.set, 'set', path);
  if (idx === undefined) return null;
  const s = si.sets[idx]!;
  if (s.type !== 'port') {
    ck.error(path, `set "${s.name}" holds ${s.type} prefixes, not ports`);
    return null;
  }
  return { negate: m.negate, set: idx, ranges: s.ports };
}

function resolveMatch(
  ck: Checker,
  pi: PortIndex,
  si: SetIndex,
  m: RawMatch | undefined,
  base: Path,
  constraints: Constraint[],
): { match: Match; family: 0 | Family } {
  const at = (k: string): Path => [...base, 'match', k];
  const iif = m?.iif ? resolveIface(ck, pi, m.iif, at('iif')) : null;
  const oif = m?.oif ? resolveIface(ck, pi, m.oif, at('oif')) : null;
  if (m?.oif) {
    constraints.push({
      path: at('oif'),
      what: 'oif',
      allowed: (c) => c.hook !== 'prerouting' && c.hook !== 'input',
      need: 'a hook after routing (forward, output, postrouting)',
    });
  }
  const src = m?.src ? resolveAddr(ck, si, m.src, at('src')) : null;
  const dst = m?.dst ? resolveAddr(ck, si, m.dst, at('dst')) : null;
  let family: 0 | Family = src?.family ?? dst?.family ?? 0;
  if (src && dst && src.family !== dst.family) {
    ck.error(at('dst'), `dst is IPv${dst.family} but src is IPv${src.family}; the rule could never match`);
  }
  const proto = m?.proto ?? -1;
  if (proto === PROTOCOLS.icmp) {
    if (family === 6) ck.error(at('proto'), 'icmp is IPv4; use icmpv6 with IPv6 addresses');
    family = 4;
  } else if (proto === PROTOCOLS.icmpv6) {
    if (family === 4) ck.error(at('proto'), 'icmpv6 is IPv6; use icmp with IPv4 addresses');
    family = 6;
  }
  for (const k of ['sport', 'dport'] as const) {
    if (m?.[k] && !PORT_PROTOS.has(proto)) {
      ck.error(at(k), `${k} needs proto tcp, udp, sctp or udplite`, 'key');
    }
  }
  const sport = m?.sport ? resolvePorts(ck, si, m.sport, at('sport')) : null;
  const dport = m?.dport ? resolvePorts(ck, si, m.dport, at('dport')) : null;
  return {
    match: {
      iif,
      oif,
      src,
      dst,
      proto,
      sport,
      dport,
      dscp: m?.dscp ?? -1,
      mark: m?.mark ?? null,
      ctMark: m?.['ct-mark'] ?? null,
      ctState: m?.['ct-state'] ?? 0,
    },
    family,
  };
}

const VERDICTS = new Set([
  'accept',
  'drop',
  'reject',
  'return',
  'jump',
  'goto',
  'masquerade',
  'snat',
  'dnat',
]);
const ACTION_KEYS = ['mark', 'ct-mark', 'dscp', 'jump', 'goto', 'snat', 'dnat', 'reject'];

type RawAction = RawChainRule['action'];
type RawSingle = Exclude<RawAction, readonly unknown[]>;

function natConstraint(kind: 'masquerade' | 'snat' | 'dnat', path: Path): Constraint {
  const hooks: Record<typeof kind, Hook[]> = {
    masquerade: ['postrouting'],
    snat: ['postrouting', 'input'],
    dnat: ['prerouting', 'output'],
  };
  return {
    path,
    what: kind,
    allowed: (c) => c.type === 'nat' && hooks[kind].includes(c.hook),
    need: `a nat chain at ${hooks[kind].join(' or ')}`,
  };
}

function resolveAction(
  ck: Checker,
  chains: ReadonlyMap<string, number>,
  a: RawSingle,
  path: Path,
  family: 0 | Family,
  constraints: Constraint[],
  edges: Edge[],
): Action | null {
  if (typeof a === 'string') {
    switch (a) {
      case 'reject':
        constraints.push(rejectConstraint(path));
        return { kind: 'reject', with: 'port-unreachable' };
      case 'masquerade':
        constraints.push(natConstraint('masquerade', path));
        return { kind: 'masquerade' };
      default:
        return { kind: a };
    }
  }
  const keys = Object.keys(a).filter((k) => a[k as keyof typeof a] !== undefined);
  if (keys.length === 0) {
    ck.error(path, `an action map needs one key: ${ACTION_KEYS.join(', ')}`);
    return null;
  }
  if (keys.length > 1) {
    ck.error(
      [...path, keys[1]!],
      `one action per map; write a list instead: action: [{ ${keys[0]}: … }, { ${keys[1]}: … }]`,
      'key',
    );
    return null;
  }
  const k = keys[0]!;
  const at: Path = [...path, k];
  if (a.mark !== undefined) return { kind: 'mark', value: a.mark.value, mask: a.mark.mask };
  if (a['ct-mark'] !== undefined) {
    const c = a['ct-mark'];
    return c.op === 'set'
      ? { kind: 'ct-mark', op: 'set', value: c.mark.value, mask: c.mark.mask }
      : { kind: 'ct-mark', op: c.op };
  }
  if (a.dscp !== undefined) return { kind: 'dscp', value: a.dscp };
  if (a.reject !== undefined) {
    constraints.push(rejectConstraint(at));
    return { kind: 'reject', with: a.reject };
  }
  const target = a.jump ?? a.goto;
  if (target !== undefined) {
    const kind = a.jump !== undefined ? 'jump' : 'goto';
    const idx = lookup(ck, chains, target, 'chain', at);
    if (idx === undefined) return null;
    edges.push({ to: idx, path: at, kind });
    return { kind, chain: idx };
  }
  const nat = a.snat ?? a.dnat;
  if (nat !== undefined) {
    const kind = a.snat !== undefined ? 'snat' : 'dnat';
    if (family !== 0 && nat.addr.family !== family) {
      ck.error(at, `${kind} to an IPv${nat.addr.family} address in a rule that matches IPv${family}`);
      return null;
    }
    constraints.push(natConstraint(kind, at));
    return { kind, addr: nat.addr, ports: nat.ports };
  }
  return null;
}

function rejectConstraint(path: Path): Constraint {
  return {
    path,
    what: 'reject',
    allowed: (c) => c.hook === 'input' || c.hook === 'forward' || c.hook === 'output',
    need: 'the input, forward or output hook',
  };
}

function actionName(a: RawSingle): string {
  if (typeof a === 'string') return a;
  return Object.keys(a).find((k) => a[k as keyof typeof a] !== undefined) ?? 'action';
}

function resolveRule(
  ck: Checker,
  pi: PortIndex,
  si: SetIndex,
  chains: ReadonlyMap<string, number>,
  r: RawChainRule,
  base: Path,
  constraints: Constraint[],
  edges: Edge[],
): ChainRule {
  const { match, family } = resolveMatch(ck, pi, si, r.match, base, constraints);
  const list: readonly RawSingle[] = Array.isArray(r.action) ? r.action : [r.action as RawSingle];
  const isList = Array.isArray(r.action);
  const actions: Action[] = [];
  list.forEach((a, k) => {
    const path: Path = isList ? [...base, 'action', k] : [...base, 'action'];
    const prev = k > 0 ? list[k - 1]! : null;
    if (prev !== null && VERDICTS.has(actionName(prev))) {
      ck.error(path, `"${actionName(prev)}" ends the rule, so nothing may follow it`);
      return;
    }
    const act = resolveAction(ck, chains, a, path, family, constraints, edges);
    if (act) actions.push(act);
  });
  return { match, actions, comment: r.comment ?? null };
}

export function resolveChains(
  raw: Readonly<Record<string, RawChain>> | undefined,
  pi: PortIndex,
  si: SetIndex,
  ck: Checker,
): { chains: ChainConfig[]; byName: ReadonlyMap<string, number> } {
  const entries = Object.entries(raw ?? {});
  const byName = new Map<string, number>();
  entries.forEach(([name], i) => {
    if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(name)) {
      ck.error(
        ['chains', name],
        `"${name}" is not a valid chain name (a letter, then letters, digits, "_", "." or "-")`,
        'key',
      );
    }
    byName.set(name, i);
  });

  const chains: ChainConfig[] = [];
  const constraints: Constraint[][] = [];
  const edges: Edge[][] = [];
  const slots = new Map<string, string>();
  entries.forEach(([name, c], i) => {
    const base: Path = ['chains', name];
    const hook = c.hook ?? null;
    const type = c.type ?? 'filter';
    if (hook === null) {
      for (const k of ['type', 'priority', 'policy'] as const) {
        if (c[k] !== undefined)
          ck.error([...base, k], `${k} applies to base chains only (a chain with a hook)`, 'key');
      }
    } else {
      if (type === 'route' && hook !== 'output')
        ck.error([...base, 'type'], 'type route is for the output hook only');
      if (type === 'nat' && hook === 'forward')
        ck.error([...base, 'type'], 'there is no nat at the forward hook');
    }
    const priority = hook === null ? 0 : (c.priority ?? DEFAULT_PRIORITY(hook, type));
    if (hook !== null) {
      const slot = `${hook}/${priority}`;
      const other = slots.get(slot);
      if (other !== undefined) {
        ck.error(
          [...base, c.priority !== undefined ? 'priority' : 'hook'],
          `chain "${other}" already runs at hook ${hook} priority ${priority}; give one a different priority`,
        );
      } else {
        slots.set(slot, name);
      }
    }
    const cs: Constraint[] = [];
    const es: Edge[] = [];
    const rules = (c.rules ?? []).map((r, k) =>
      resolveRule(ck, pi, si, byName, r, [...base, 'rules', k], cs, es),
    );
    for (const e of es) {
      const [target, tc] = entries[e.to]!;
      if (tc.hook !== undefined)
        ck.error(e.path, `cannot ${e.kind} to base chain "${target}"; jump targets are user chains`);
    }
    constraints.push(cs);
    edges.push(es);
    chains.push({ index: i, name, hook, type, priority, policy: c.policy ?? 'accept', rules });
  });

  checkGraph(ck, chains, edges);
  checkContexts(ck, chains, edges, constraints);
  return { chains, byName };
}

/** Jump loops (a chain reaching itself) and nesting deeper than nft allows. */
function checkGraph(ck: Checker, chains: readonly ChainConfig[], edges: readonly Edge[][]): void {
  const state = new Uint8Array(chains.length); // 0 new, 1 on stack, 2 done
  const stack: number[] = [];
  const reported = new Set<string>();
  const visit = (c: number): void => {
    state[c] = 1;
    stack.push(c);
    for (const e of edges[c]!) {
      if (chains[e.to]!.hook !== null) continue; // already reported: base chains are not targets
      if (state[e.to] === 1) {
        const cycle = stack.slice(stack.indexOf(e.to)).map((x) => chains[x]!.name);
        const key = formatPath(e.path);
        if (!reported.has(key)) {
          reported.add(key);
          ck.error(
            e.path,
            `${e.kind} to "${chains[e.to]!.name}" makes a loop: ${[...cycle, chains[e.to]!.name].join(' → ')}`,
          );
        }
      } else if (state[e.to] === 0) {
        visit(e.to);
      }
    }
    stack.pop();
    state[c] = 2;
  };
  for (let c = 0; c < chains.length; c++) if (state[c] === 0) visit(c);
  if (reported.size > 0) return;

  // Depth: the longest jump path from each base chain (the graph is acyclic here).
  const depth = new Int32Array(chains.length).fill(-1);
  const longest = (c: number): number => {
    if (depth[c]! >= 0) return depth[c]!;
    let d = 0;
    for (const e of edges[c]!)
      if (chains[e.to]!.hook === null && e.kind === 'jump') d = Math.max(d, 1 + longest(e.to));
    for (const e of edges[c]!)
      if (chains[e.to]!.hook === null && e.kind === 'goto') d = Math.max(d, longest(e.to));
    depth[c] = d;
    return d;
  };
  for (const c of chains) {
    if (c.hook !== null && longest(c.index) > MAX_JUMP_DEPTH) {
      ck.error(
        ['chains', c.name],
        `jumps nest ${longest(c.index)} deep from this chain; the limit is ${MAX_JUMP_DEPTH}`,
        'key',
      );
    }
  }
}

/** Checks each rule's hook-dependent statements against every base chain that can reach it. */
function checkContexts(
  ck: Checker,
  chains: readonly ChainConfig[],
  edges: readonly Edge[][],
  constraints: readonly Constraint[][],
): void {
  const contexts: Context[][] = chains.map(() => []);
  for (const base of chains) {
    if (base.hook === null) continue;
    const ctx: Context = { hook: base.hook, type: base.type, chain: base.name };
    const seen = new Set<number>();
    const todo = [base.index];
    while (todo.length > 0) {
      const c = todo.pop()!;
      if (seen.has(c)) continue;
      seen.add(c);
      contexts[c]!.push(ctx);
      for (const e of edges[c]!) if (chains[e.to]!.hook === null) todo.push(e.to);
    }
  }
  chains.forEach((c, i) => {
    for (const k of constraints[i]!) {
      const bad = contexts[i]!.find((x) => !k.allowed(x));
      if (!bad) continue;
      const from = bad.chain === c.name ? '' : ` (reached from chain "${bad.chain}")`;
      ck.error(k.path, `${k.what} needs ${k.need}; this runs in a ${bad.type} chain at ${bad.hook}${from}`);
    }
  });
}
