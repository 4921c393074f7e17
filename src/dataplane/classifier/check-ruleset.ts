/**
 * What the compiler refuses, with a message that names the chain and rule: the config checker
 * (src/control/config/semantic/chains.ts) reports the same mistakes against the YAML, but the
 * classifier can be handed chains directly, and a loop of `goto`s must never reach the hot path.
 *
 * - jump/goto to a chain that does not exist or to a base chain (nft: only regular chains are
 *   jump targets), and loops of jumps/gotos (nft refuses them when the ruleset is loaded);
 * - `oif` where routing has not decided yet: in a chain run at prerouting or input, or reached
 *   from one by jump/goto (nft rejects `oif` at those hooks for the same reason);
 * - sport/dport without a protocol that has ports (nft's `tcp dport` carries that dependency);
 * - a rule whose addresses or NAT target mix IPv4 and IPv6 (it could never match);
 * - statements after a verdict, unknown ports and sets, sets of the wrong kind.
 */
import type {
  Action,
  AddrMatch,
  ChainConfig,
  ChainRule,
  Hook,
  PortMatch,
  SetConfig,
} from '../../control/config/types.js';

export class RulesetError extends Error {
  override readonly name = 'RulesetError';
}

/** Protocols whose header starts with 16-bit source and destination ports. */
export const PORT_PROTOCOLS: readonly number[] = [6, 17, 132, 136];

const VERDICT_KINDS = new Set<Action['kind']>([
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

export function where(chain: ChainConfig, ruleIndex: number): string {
  return `chain ${chain.name} rule ${ruleIndex + 1}`;
}

/** Checks jump targets and loops; returns, per chain, the hooks of the base chains that reach it. */
export function reachingHooks(chains: readonly ChainConfig[]): Map<Hook, string>[] {
  chains.forEach((c, i) => {
    if (c.index !== i) throw new RulesetError(`chain ${c.name} has index ${c.index} but is at position ${i}`);
  });
  const targets = chains.map((c) =>
    c.rules.flatMap((r, k) =>
      r.actions.flatMap((a) => {
        if (a.kind !== 'jump' && a.kind !== 'goto') return [];
        const t = chains[a.chain];
        if (!t)
          throw new RulesetError(`${where(c, k)}: ${a.kind} to chain #${a.chain}, which does not exist`);
        if (t.hook !== null)
          throw new RulesetError(
            `${where(c, k)}: cannot ${a.kind} to base chain ${t.name}; jump targets are chains without a hook`,
          );
        return [a.chain];
      }),
    ),
  );
  const state = new Uint8Array(chains.length); // 0 unseen, 1 on the current path, 2 done
  const path: number[] = [];
  const visit = (c: number): void => {
    state[c] = 1;
    path.push(c);
    for (const t of targets[c]!) {
      if (state[t] === 1) {
        const loop = [...path.slice(path.indexOf(t)), t].map((x) => chains[x]!.name);
        throw new RulesetError(`jumps make a loop: ${loop.join(' → ')}`);
      }
      if (state[t] === 0) visit(t);
    }
    path.pop();
    state[c] = 2;
  };
  for (let c = 0; c < chains.length; c++) if (state[c] === 0) visit(c);

  const hooks = chains.map(() => new Map<Hook, string>());
  for (const base of chains) {
    if (base.hook === null) continue;
    const todo = [base.index];
    while (todo.length > 0) {
      const c = todo.pop()!;
      if (hooks[c]!.has(base.hook)) continue;
      hooks[c]!.set(base.hook, base.name);
      todo.push(...targets[c]!);
    }
  }
  return hooks;
}

function checkAddr(m: AddrMatch | null, sets: readonly SetConfig[], at: string, key: string): void {
  if (!m || m.set < 0) return;
  const s = sets[m.set];
  if (!s) throw new RulesetError(`${at}: ${key} refers to set #${m.set}, which does not exist`);
  if (s.type === 'port') throw new RulesetError(`${at}: ${key} refers to set ${s.name}, which holds ports`);
}

function checkPorts(m: PortMatch | null, sets: readonly SetConfig[], at: string, key: string): void {
  if (!m || m.set < 0) return;
  const s = sets[m.set];
  if (!s) throw new RulesetError(`${at}: ${key} refers to set #${m.set}, which does not exist`);
  if (s.type !== 'port')
    throw new RulesetError(`${at}: ${key} refers to set ${s.name}, which holds ${s.type} prefixes`);
}

/** The address family a rule is bound to by its addresses and NAT target: 0 (any), 4 or 6. */
export function ruleFamily(rule: ChainRule, at: string): 0 | 4 | 6 {
  const fams = new Set<4 | 6>();
  if (rule.match.src) fams.add(rule.match.src.family);
  if (rule.match.dst) fams.add(rule.match.dst.family);
  for (const a of rule.actions) if (a.kind === 'snat' || a.kind === 'dnat') fams.add(a.addr.family);
  if (fams.size > 1) throw new RulesetError(`${at}: mixes IPv4 and IPv6 addresses, so it could never match`);
  return fams.size === 0 ? 0 : [...fams][0]!;
}

/** Checks one rule in the context of the hooks that reach its chain. */
export function checkRule(
  chain: ChainConfig,
  k: number,
  hooks: Map<Hook, string>,
  sets: readonly SetConfig[],
  portCount: number,
): void {
  const rule = chain.rules[k]!;
  const at = where(chain, k);
  const m = rule.match;
  for (const [key, im] of [['iif', m.iif] as const, ['oif', m.oif] as const]) {
    for (const p of im?.ports ?? []) {
      if (!Number.isInteger(p) || p < 0 || p >= portCount)
        throw new RulesetError(`${at}: ${key} names port #${p}, but there are ${portCount} ports`);
    }
  }
  if (m.oif) {
    for (const early of ['prerouting', 'input'] as const) {
      const base = hooks.get(early);
      if (base === undefined) continue;
      const via = base === chain.name ? '' : ` (reached from base chain ${base})`;
      throw new RulesetError(
        `${at}: oif needs a hook after routing has chosen the output port (forward, output, postrouting); this chain runs at ${early}${via}`,
      );
    }
  }
  if ((m.sport || m.dport) && !PORT_PROTOCOLS.includes(m.proto)) {
    throw new RulesetError(`${at}: ${m.sport ? 'sport' : 'dport'} needs proto tcp, udp, sctp or udplite`);
  }
  checkAddr(m.src, sets, at, 'src');
  checkAddr(m.dst, sets, at, 'dst');
  checkPorts(m.sport, sets, at, 'sport');
  checkPorts(m.dport, sets, at, 'dport');
  ruleFamily(rule, at);
  rule.actions.forEach((a, i) => {
    if (VERDICT_KINDS.has(a.kind) && i < rule.actions.length - 1) {
      throw new RulesetError(`${at}: "${a.kind}" ends the rule, so the statements after it would never run`);
    }
  });
}
