/**
 * Runs a RouterEngine on live ports: each port's receive batches go straight into the engine
 * (one JS call per batch from the addon, the batch processed in place in the port's RX memory and
 * handed back to the kernel when the handler returns), and the engine's timers (ARP retries,
 * neighbour ageing, conntrack expiry) run every 100 ms of wall-clock time.
 *
 * The engine clock is the packets' kernel receive timestamps (CLOCK_REALTIME) and, between
 * packets, the same wall clock, so the two agree.
 */
import type { PacketBatch } from '../batch.js';
import type { RouterEngine } from './router-engine.js';

/** What the driver needs from a live port (AfPacketPort, TunPort). */
export interface LiveRxPort {
  readonly name: string;
  start(onBatch: (batch: PacketBatch) => void, onError?: (err: Error) => void): void;
  stop(): void;
}

export const LIVE_TICK_MS = 100;

export class LiveDriver {
  private timer: NodeJS.Timeout | null = null;
  /** Socket errors reported by ports (link down, interface gone), newest last, bounded. */
  readonly errors: string[] = [];

  constructor(
    readonly engine: RouterEngine,
    private readonly ports: readonly LiveRxPort[],
  ) {}

  start(): void {
    if (this.timer) return;
    const engine = this.engine;
    for (const p of this.ports) {
      p.start(
        (batch) => engine.receive(batch),
        (err) => {
          this.errors.push(`${p.name}: ${err.message}`);
          if (this.errors.length > 100) this.errors.shift();
        },
      );
    }
    this.timer = setInterval(() => engine.tick(Date.now() / 1000), LIVE_TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const p of this.ports) p.stop();
  }
}
