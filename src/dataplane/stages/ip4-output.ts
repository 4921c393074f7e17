/**
 * ip4-output: routing for packets the router itself sends (echo replies, ICMP errors). Same
 * policy routing as forwarded packets, with no input port (Linux's `iif lo`) and no TTL
 * decrement; a packet whose egress was already decided (a fragment, a released neighbour-queue
 * packet) passes straight through.
 */

import { NO_PORT } from '../pipeline/packet-meta.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { formatIpv4, u32 } from '../wire/bytes.js';
import { newRouteResult, RT_UNICAST } from './route-result.js';
import type { RouterContext } from './router-context.js';

const EV_ROUTE = 1;
/** `ip route show table local`: where the kernel keeps its own addresses' routes. */
const TABLE_LOCAL_ID = 255;

export class Ip4Output extends Stage {
  readonly name = 'ip4-output';
  private readonly res = newRouteResult();
  private readonly noRoute: number;
  next!: Stage;

  constructor(
    pipe: Pipeline,
    private readonly ctx: RouterContext,
  ) {
    super();
    this.noRoute = pipe.drops.register('ip4-output-no-route');
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const d = pipe.batch.data;
    const m = pipe.meta;
    const res = this.res;
    const hostPort = this.ctx.hostPort;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      if (m.outPort[s] !== NO_PORT) {
        pipe.nextId(this.next.id, s);
        continue;
      }
      const l3 = m.l3Off[s]!;
      const dst = u32(d, l3 + 16);
      // host port: the kernel's addresses are reached through its TAP, even one that is also
      // another port's (the local table would name that port).
      if (hostPort !== NO_PORT && this.ctx.hostAddrs.find(dst) >= 0) {
        m.outPort[s] = hostPort;
        m.nextHop[s] = 0;
        pipe.trace(s, this, EV_ROUTE, dst, TABLE_LOCAL_ID, hostPort, 0);
        pipe.nextId(this.next.id, s);
        continue;
      }
      if (
        !this.ctx.routes.lookup4(dst, u32(d, l3 + 12), m.mark[s]!, NO_PORT, res) ||
        res.type !== RT_UNICAST
      ) {
        pipe.drop(s, this.noRoute);
        continue;
      }
      m.outPort[s] = res.port;
      m.nextHop[s] = res.nextHop;
      m.table[s] = res.table;
      m.rule[s] = res.rule;
      pipe.trace(s, this, EV_ROUTE, dst, res.table, res.port, res.nextHop);
      pipe.nextId(this.next.id, s);
    }
  }

  override formatTrace = (_e: number, dst: number, table: number, port: number, via: number): string =>
    `local output to ${formatIpv4(dst)} via table ${table}: ${via ? `via ${formatIpv4(via)} ` : ''}dev ${this.ctx.ports[port]?.name ?? port}`;
}
