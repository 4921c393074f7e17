/**
 * Builds the router a config describes over a given set of ports (live ports for `ferry run`,
 * capture ports for `ferry replay`, memory ports in tests): the routing tables and rules, the
 * router's addresses, proxy-ARP, brouter host-route learning, the DHCP relay, and the rule chains
 * at their hooks.
 */
import { attachRuleset, compileRuleset, rulesetDeps } from '../dataplane/classifier/index.js';
import { ctSettings } from '../dataplane/conntrack/ct-timeouts.js';
import { attachDhcpRelay, type DhcpRelay } from '../dataplane/dhcp-relay/index.js';
import { RibResolver } from '../dataplane/engine/rib-resolver.js';
import { RouterEngine } from '../dataplane/engine/router-engine.js';
import type { Port } from '../dataplane/ports/port.js';
import { buildRib } from '../dataplane/route/build.js';
import type { FerryConfig } from './config/types.js';
import { attachDhcpClients, type DhcpClients, type DhcpClientsOptions } from './dhcp-client/index.js';

export interface BuiltRouter {
  engine: RouterEngine;
  routes: RibResolver;
  relay: DhcpRelay | null;
  /** DHCP clients of the ports with `dhcp:` (null when none, or disabled). */
  dhcpClients: DhcpClients | null;
}

export interface BuildRouterOptions {
  /**
   * DHCP clients for ports with `dhcp:`: their options (lease files, timers), or false to leave
   * them out (a replay that must stay deterministic and touch no state directory).
   */
  dhcpClient?: DhcpClientsOptions | false;
  /**
   * A reload (`ferry run`): the router this one replaces, built over the same ports. Its live
   * state carries over (see carryState): neighbours, conntrack flows with their NAT bindings,
   * brouter-learned host routes, DHCP clients with their leases, drop counters.
   */
  previous?: BuiltRouter;
}

/**
 * Why `prev`'s flows cannot be carried into a router built from `cfg` (the flow table is sized
 * and its TCP mode fixed when it is made: a restart applies such a change), or null when they can.
 */
export function conntrackCarryProblem(prev: BuiltRouter, cfg: FerryConfig): string | null {
  const ct = prev.engine.conntrack;
  if (!ct || !needsConntrack(cfg)) return null;
  if (ct.table.capacity !== cfg.conntrack.capacity)
    return `conntrack capacity ${ct.table.capacity} → ${cfg.conntrack.capacity}`;
  if (ct.liberal !== cfg.conntrack.liberal)
    return `conntrack liberal ${ct.liberal} → ${cfg.conntrack.liberal}`;
  return null;
}

/**
 * Connection tracking costs every packet a flow lookup, so, as Linux loads nf_conntrack only when
 * a rule needs it, ferry tracks when the rules use it: NAT chains, NAT statements, ct matches or
 * ct-mark statements (or failover, which steers by ct mark).
 */
export function needsConntrack(cfg: FerryConfig): boolean {
  if (cfg.failover) return true;
  for (const c of cfg.chains) {
    if (c.type === 'nat') return true;
    for (const r of c.rules) {
      if (r.match.ctState !== 0 || r.match.ctMark !== null) return true;
      for (const a of r.actions) {
        if (a.kind === 'masquerade' || a.kind === 'snat' || a.kind === 'dnat' || a.kind === 'ct-mark')
          return true;
      }
    }
  }
  return false;
}

/** Host routes are learned where proxy-ARP spans one subnet over several legs (seed 000). */
function isBrouter(cfg: FerryConfig): boolean {
  return cfg.ports.filter((p) => p.proxyArp).length > 1;
}

/** `ports[i]` must be the port for `cfg.ports[i]`. */
export function buildRouter(cfg: FerryConfig, ports: Port[], opts: BuildRouterOptions = {}): BuiltRouter {
  if (ports.length !== cfg.ports.length) {
    throw new Error(`buildRouter: ${cfg.ports.length} ports configured, ${ports.length} given`);
  }
  const routes = new RibResolver(buildRib(cfg));
  const brouter = isBrouter(cfg);
  const prev = opts.previous;
  if (prev) {
    const problem = conntrackCarryProblem(prev, cfg);
    if (problem) throw new Error(`buildRouter: cannot carry the flows over (${problem})`);
  }
  const engine = new RouterEngine(ports, routes, {
    hosts: brouter ? routes : null,
    conntrack: needsConntrack(cfg) ? cfg.conntrack : null,
    ...(prev && { carry: { neighbours: prev.engine.ctx.neighbours, conntrack: prev.engine.conntrack } }),
  });
  for (const p of cfg.ports) {
    if (p.kind === 'host') {
      // The kernel's TAP: its addresses are the kernel's, not ferry's (host-delivery.ts).
      engine.setHostPort(p.index);
      for (const a of p.addresses) if (a.family === 4) engine.addHostAddress(a.addr, a.len);
      continue;
    }
    for (const a of p.addresses) if (a.family === 4) engine.addAddress(a.addr, a.len, p.index);
    if (p.proxyArp) engine.setProxyArp(p.index, true);
  }
  const relay = cfg.dhcpRelay
    ? attachDhcpRelay(engine, cfg.dhcpRelay, { hosts: brouter ? routes : null })
    : null;
  // Compiled before the DHCP clients attach: compiling may throw, and a reload's handoff of the
  // clients (below) must only happen once nothing else can fail.
  const ruleset =
    cfg.chains.length > 0 ? compileRuleset(cfg.chains, cfg.sets, ports.length, rulesetDeps(engine)) : null;
  // ---- DHCP clients (ports with `dhcp: { table }`): started at the engine's first tick.
  const dhcpClients =
    opts.dhcpClient === false
      ? null
      : attachDhcpClients(engine, routes.rib, cfg, {
          ...opts.dhcpClient,
          previous: prev?.dhcpClients ?? null,
        });
  // ---- end DHCP clients
  if (ruleset) attachRuleset(engine, ruleset);
  const built = { engine, routes, relay, dhcpClients };
  if (prev) carryState(prev, built, cfg);
  return built;
}

/**
 * The rest of a reload's handoff (the engine took the neighbour and flow tables): host routes the
 * brouter learned go into the new main table, the new timeouts apply to the carried flows (each
 * flow's next packet re-arms its timer with them), and drop counters continue from their totals
 * so counters read by metrics never go backwards.
 */
function carryState(prev: BuiltRouter, next: BuiltRouter, cfg: FerryConfig): void {
  if (isBrouter(cfg)) for (const h of prev.routes.learnedHosts()) next.routes.learnHost4(h.addr, h.port);
  const ct = next.engine.conntrack;
  if (ct && ct === prev.engine.conntrack) Object.assign(ct.timeouts, ctSettings(cfg.conntrack).timeouts);
  const drops = next.engine.pipe.drops;
  for (const [reason, n] of Object.entries(prev.engine.drops())) drops.count(drops.register(reason), n);
}
