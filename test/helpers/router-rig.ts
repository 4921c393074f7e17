/** A router on memory ports, fed frames one batch at a time with a fake clock. */
import type { ConntrackConfig } from '../../src/control/config/types.js';
import { PacketBatch } from '../../src/dataplane/batch.js';
import { RouterEngine } from '../../src/dataplane/engine/router-engine.js';
import { MemoryPort } from '../../src/dataplane/ports/memory-port.js';
import { ip, macNum } from './frames.js';
import { StaticRoutes } from './static-routes.js';

export interface RigPort {
  name: string;
  mac?: string;
  mtu?: number;
  address?: string;
  prefixLen?: number;
  proxyArp?: boolean;
}

export class RouterRig {
  readonly ports: MemoryPort[];
  readonly routes = new StaticRoutes();
  readonly engine: RouterEngine;
  now = 1000;
  private readonly batch = new PacketBatch(64, 64 * 2048);

  constructor(defs: RigPort[], opts: { hostRoutes?: boolean; conntrack?: ConntrackConfig } = {}) {
    this.ports = defs.map(
      (d) => new MemoryPort(d.name, d.mac !== undefined, d.mac ? macNum(d.mac) : 0, d.mtu ?? 1500),
    );
    this.engine = new RouterEngine(this.ports, this.routes, {
      hosts: opts.hostRoutes ? this.routes : null,
      conntrack: opts.conntrack ?? null,
    });
    defs.forEach((d, i) => {
      if (d.address) {
        this.engine.addAddress(ip(d.address), d.prefixLen ?? 24, i);
        const len = d.prefixLen ?? 24;
        const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
        this.routes.add((ip(d.address) & mask) >>> 0, len, i);
      }
      if (d.proxyArp) this.engine.setProxyArp(i, true);
    });
  }

  port(name: string): number {
    return this.ports.findIndex((p) => p.name === name);
  }

  /** Receives frames on a port (one batch) at the rig's clock, advanced by `dt` seconds first. */
  send(portName: string, frames: Uint8Array[], dt = 0.001): void {
    this.now += dt;
    const b = this.batch;
    const p = this.port(portName);
    let off = 0;
    b.count = 0;
    for (const f of frames) {
      const s = b.count++;
      b.data.set(f, off);
      b.offset[s] = off;
      b.length[s] = f.length;
      b.wireLength[s] = f.length;
      b.port[s] = p;
      b.tsSec[s] = Math.floor(this.now);
      b.tsNsec[s] = 0;
      off += 2048;
    }
    this.engine.receive(b, this.now);
  }

  /** Advances the clock and runs timers. */
  advance(seconds: number): void {
    this.now += seconds;
    this.engine.tick(this.now);
  }

  /** Takes (and clears) what a port has transmitted. */
  sent(portName: string): Uint8Array[] {
    const p = this.ports[this.port(portName)]!;
    const out = p.sent.splice(0);
    return out;
  }
}
