/**
 * examples/brouter.yaml built over memory ports: eth0 (ISP side), eth1 (LAN side), tailscale0
 * (L3) and the host port (the kernel's TAP, ferry0), fed one batch at a time with a fake clock.
 * The host port carries 192.168.0.125/24, which is also eth0's address (seed 000).
 */
import { buildRouter } from '../../../src/control/build-router.js';
import { loadConfig } from '../../../src/control/config/loader.js';
import type { FerryConfig } from '../../../src/control/config/types.js';
import { PacketBatch } from '../../../src/dataplane/batch.js';
import type { RouterEngine } from '../../../src/dataplane/engine/router-engine.js';
import type { Pipeline } from '../../../src/dataplane/pipeline/pipeline.js';
import { MemoryPort } from '../../../src/dataplane/ports/memory-port.js';
import { type HookName, VERDICT_ACCEPT } from '../../../src/dataplane/stages/hook.js';
import { macNum } from '../../helpers/frames.js';

/** ferry's MACs on its Ethernet ports (the host port's is ferry's side of the TAP). */
export const ETH0 = '02:00:00:00:00:e0';
export const ETH1 = '02:00:00:00:00:e1';
export const HOSTP = '02:00:00:00:00:f0';
/** The kernel's side of the TAP, the ISP router, a LAN client. */
export const KERNEL = '0a:00:00:00:00:c0';
export const ISP = '0a:00:00:00:00:01';
export const CLIENT = '0a:00:00:00:00:35';

export const BOX = '192.168.0.125';
export const GATEWAY = '192.168.0.1';
export const REMOTE = '203.0.113.9';

let config: FerryConfig | null = null;

export interface Seen {
  inPort: number;
  outPort: number;
  ctState: number;
}

export class BrouterHostRig {
  readonly ports: MemoryPort[];
  readonly engine: RouterEngine;
  now = 1000;
  private readonly batch = new PacketBatch(64, 64 * 2048);

  private constructor(cfg: FerryConfig, hostMtu: number) {
    const macs: Record<string, string> = { eth0: ETH0, eth1: ETH1, host: HOSTP };
    this.ports = cfg.ports.map((p) => {
      const m = macs[p.name];
      return new MemoryPort(p.name, m !== undefined, m ? macNum(m) : 0, p.name === 'host' ? hostMtu : p.mtu);
    });
    this.engine = buildRouter(cfg, this.ports).engine;
  }

  static async create(o: { hostMtu?: number } = {}): Promise<BrouterHostRig> {
    config ??= await loadConfig('examples/brouter.yaml');
    return new BrouterHostRig(config, o.hostMtu ?? 1500);
  }

  port(name: string): number {
    const i = this.ports.findIndex((p) => p.name === name);
    if (i < 0) throw new Error(`no port ${name}`);
    return i;
  }

  /** Receives frames on a port (one batch), the clock advanced by `dt` seconds first. */
  send(portName: string, frames: Uint8Array[], dt = 0.001): void {
    this.now += dt;
    const b = this.batch;
    const p = this.port(portName);
    b.count = 0;
    frames.forEach((f, i) => {
      const s = b.count++;
      b.data.set(f, i * 2048);
      b.offset[s] = i * 2048;
      b.length[s] = f.length;
      b.wireLength[s] = f.length;
      b.port[s] = p;
      b.tsSec[s] = Math.floor(this.now);
      b.tsNsec[s] = 0;
    });
    this.engine.receive(b, this.now);
  }

  advance(seconds: number): void {
    this.now += seconds;
    this.engine.tick(this.now);
  }

  /** Takes (and clears) what a port transmitted. */
  sent(portName: string): Uint8Array[] {
    return this.ports[this.port(portName)]!.sent.splice(0);
  }

  /** Clears every port's transmissions. */
  clear(): void {
    for (const p of this.ports) p.sent.length = 0;
  }

  /** Records the packets that pass `hook` (appended after the config's own chains). */
  probe(hook: HookName): Seen[] {
    const seen: Seen[] = [];
    this.engine.hooks[hook].programs.push({
      run(pipe: Pipeline, s: number): number {
        const m = pipe.meta;
        seen.push({ inPort: m.inPort[s]!, outPort: m.outPort[s]!, ctState: m.ctState[s]! });
        return VERDICT_ACCEPT;
      },
    });
    return seen;
  }
}
