/**
 * ip4-lookup: decides where a received IPv4 packet goes — to the router itself (its addresses,
 * broadcasts) or out of a port by policy routing (rules by priority, then longest-prefix match
 * in the chosen table, as `ip rule` / `ip route` do). No route: ICMP net unreachable
 * (RFC 1812 §5.2.7.1); blackhole/unreachable/prohibit routes behave as in Linux.
 */
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { formatIpv4, u32 } from '../wire/bytes.js';
import {
  ICMPV4_DEST_UNREACH,
  ICMPV4_UNREACH_ADMIN_PROHIBITED,
  ICMPV4_UNREACH_HOST,
  ICMPV4_UNREACH_NET,
} from '../wire/icmpv4.js';
import type { IcmpErrors } from './icmp-errors.js';
import {
  newRouteResult,
  type RouteResolver,
  RT_BLACKHOLE,
  RT_PROHIBIT,
  RT_UNICAST,
  RT_UNREACHABLE,
} from './route-result.js';
import type { RouterContext } from './router-context.js';

const EV_LOCAL = 1;
const EV_ROUTE = 2;
const EV_NO_ROUTE = 3;

export class Ip4Lookup extends Stage {
  readonly name = 'ip4-lookup';
  private readonly res = newRouteResult();
  private readonly noRoute: number;
  private readonly blackhole: number;
  private readonly unreachable: number;
  private readonly prohibited: number;
  private readonly multicast: number;
  local!: Stage;
  forward!: Stage;

  constructor(
    pipe: Pipeline,
    private readonly ctx: RouterContext,
    private readonly icmp: IcmpErrors,
  ) {
    super();
    this.noRoute = pipe.drops.register('ip4-no-route');
    this.blackhole = pipe.drops.register('ip4-blackhole-route');
    this.unreachable = pipe.drops.register('ip4-unreachable-route');
    this.prohibited = pipe.drops.register('ip4-prohibited-route');
    this.multicast = pipe.drops.register('ip4-multicast-not-routed');
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const d = pipe.batch.data;
    const m = pipe.meta;
    const local = this.ctx.local;
    const routes: RouteResolver = this.ctx.routes;
    const res = this.res;
    // Packets for the main successor are compacted in place and handed on as one vector.
    let w = 0;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const l3 = m.l3Off[s]!;
      const dst = u32(d, l3 + 16);
      if (local.isOwn(dst)) {
        pipe.trace(s, this, EV_LOCAL, dst);
        pipe.nextId(this.local.id, s);
        continue;
      }
      if (dst >>> 28 === 14) {
        pipe.drop(s, this.multicast);
        continue;
      }
      if (!routes.lookup4(dst, u32(d, l3 + 12), m.mark[s]!, m.inPort[s]!, res)) {
        pipe.trace(s, this, EV_NO_ROUTE, dst);
        this.icmp.send(pipe, s, ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_NET);
        pipe.drop(s, this.noRoute);
        continue;
      }
      m.table[s] = res.table;
      m.rule[s] = res.rule;
      if (m.traceId[s] !== 0)
        pipe.trace(s, this, EV_ROUTE, dst, res.table, res.port, res.nextHop, m.mark[s]!);
      if (res.type !== RT_UNICAST) {
        if (res.type === RT_UNREACHABLE) this.icmp.send(pipe, s, ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_HOST);
        else if (res.type === RT_PROHIBIT)
          this.icmp.send(pipe, s, ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_ADMIN_PROHIBITED);
        pipe.drop(
          s,
          res.type === RT_BLACKHOLE
            ? this.blackhole
            : res.type === RT_UNREACHABLE
              ? this.unreachable
              : this.prohibited,
        );
        continue;
      }
      m.outPort[s] = res.port;
      m.nextHop[s] = res.nextHop;
      slots[w++] = s;
    }
    pipe.nextAll(this.forward.id, slots, w);
  }

  override formatTrace = (
    e: number,
    dst: number,
    table: number,
    port: number,
    via: number,
    mark: number,
  ): string => {
    if (e === EV_LOCAL) return `${formatIpv4(dst)} is this router's: deliver locally`;
    if (e === EV_NO_ROUTE) return `no route to ${formatIpv4(dst)}`;
    const name = this.ctx.ports[port]?.name ?? `port ${port}`;
    const markText = mark ? ` (mark 0x${mark.toString(16)})` : '';
    return `route ${formatIpv4(dst)}${markText} via table ${table}: ${via ? `via ${formatIpv4(via)} ` : ''}dev ${name}`;
  };
}
