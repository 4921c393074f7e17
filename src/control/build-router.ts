/**
 * Builds the router a config describes over a given set of ports (live ports for `ferry run`,
 * capture ports for `ferry replay`, memory ports in tests): the routing tables and rules, the
 * router's addresses, proxy-ARP, brouter host-route learning, the DHCP relay, and the rule chains
 * at their hooks.
 */
import { attachRuleset, compileRuleset, rulesetDeps } from '../dataplane/classifier/index.js';
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

/** `ports[i]` must be the port for `cfg.ports[i]`. */
export function buildRouter(cfg: FerryConfig, ports: Port[], opts: BuildRouterOptions = {}): BuiltRouter {
  if (ports.length !== cfg.ports.length) {
    throw new Error(`buildRouter: ${cfg.ports.length} ports configured, ${ports.length} given`);
  }
  const routes = new RibResolver(buildRib(cfg));
  // Host routes are learned where proxy-ARP spans one subnet over several legs (seed 000).
  const brouter = cfg.ports.filter((p) => p.proxyArp).length > 1;
  const engine = new RouterEngine(ports, routes, {
    hosts: brouter ? routes : null,
    conntrack: needsConntrack(cfg) ? cfg.conntrack : null,
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
  // ---- DHCP clients (ports with `dhcp: { table }`): started at the engine's first tick.
  const dhcpClients =
    opts.dhcpClient === false ? null : attachDhcpClients(engine, routes.rib, cfg, opts.dhcpClient);
  // ---- end DHCP clients
  if (cfg.chains.length > 0) {
    attachRuleset(engine, compileRuleset(cfg.chains, cfg.sets, ports.length, rulesetDeps(engine)));
  }
  return { engine, routes, relay, dhcpClients };
}
