/**
 * Port rates for `ferry status`: counters are sampled at each request and the rates are the
 * difference to an earlier sample. The earlier sample is the newest one at least a second old (so
 * two requests in quick succession do not divide by almost nothing), else the oldest kept.
 */
import type { PortRate } from './types.js';

export interface PortCounterSample {
  readonly rxPackets: number;
  readonly rxBytes: number;
  readonly txPackets: number;
  readonly txBytes: number;
  readonly drops: number;
}

interface Sample {
  readonly at: number;
  readonly ports: ReadonlyMap<string, PortCounterSample>;
}

const MIN_INTERVAL = 1;
const KEEP = 8;

export class PortRates {
  private samples: Sample[] = [];

  /** `clock`: seconds (wall clock by default). */
  constructor(private readonly clock: () => number = () => Date.now() / 1000) {}

  /**
   * Records the counters now and returns each port's rates against the earlier sample: null for
   * a port that sample did not have, or whose counters went down (the port was replaced).
   */
  sample(ports: ReadonlyMap<string, PortCounterSample>): Map<string, PortRate | null> {
    const at = this.clock();
    let base: Sample | undefined;
    for (const s of this.samples) if (at - s.at >= MIN_INTERVAL) base = s;
    base ??= this.samples[0];
    const out = new Map<string, PortRate | null>();
    for (const [name, now] of ports) out.set(name, base ? rate(base, at, base.ports.get(name), now) : null);
    this.samples.push({ at, ports });
    // Keep the base and what came after it (bounded): the next request's base is among them.
    const from = base ? this.samples.indexOf(base) : 0;
    this.samples = this.samples.slice(Math.max(from, this.samples.length - KEEP));
    return out;
  }
}

function rate(
  base: Sample,
  at: number,
  then: PortCounterSample | undefined,
  now: PortCounterSample,
): PortRate | null {
  const dt = at - base.at;
  if (!then || dt <= 0) return null;
  const d = (k: keyof PortCounterSample): number => now[k] - then[k];
  if (d('rxPackets') < 0 || d('rxBytes') < 0 || d('txPackets') < 0 || d('txBytes') < 0 || d('drops') < 0)
    return null;
  return {
    seconds: dt,
    rxPacketsPerSec: d('rxPackets') / dt,
    rxBitsPerSec: (8 * d('rxBytes')) / dt,
    txPacketsPerSec: d('txPackets') / dt,
    txBitsPerSec: (8 * d('txBytes')) / dt,
    dropsPerSec: d('drops') / dt,
  };
}
