/**
 * port-output: the last stage. Sorts the batch's packets by egress port and hands each port its
 * list in one call (one JS↔native crossing per port per batch).
 */
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import type { RouterContext } from './router-context.js';

const EV_TX = 1;

export class PortOutput extends Stage {
  readonly name = 'port-output';
  private readonly lists: Uint16Array[];
  private readonly counts: Int32Array;
  private readonly badPort: number;

  constructor(
    pipe: Pipeline,
    private readonly ctx: RouterContext,
  ) {
    super();
    this.lists = ctx.ports.map(() => new Uint16Array(pipe.capacity));
    this.counts = new Int32Array(ctx.ports.length);
    this.badPort = pipe.drops.register('output-no-port');
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const m = pipe.meta;
    const nPorts = this.ctx.ports.length;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const p = m.outPort[s]!;
      if (p >= nPorts) {
        pipe.drop(s, this.badPort);
        continue;
      }
      this.lists[p]![this.counts[p]!++] = s;
      if (m.traceId[s] !== 0) pipe.trace(s, this, EV_TX, p, pipe.batch.length[s]! + m.headLen[s]!);
      pipe.consume(s);
    }
    for (let p = 0; p < nPorts; p++) {
      const c = this.counts[p]!;
      if (c === 0) continue;
      this.counts[p] = 0;
      this.ctx.ports[p]!.transmit(pipe.batch, m, this.lists[p]!, c);
    }
  }

  override formatTrace = (_e: number, port: number, len: number): string =>
    `transmitted on ${this.ctx.ports[port]?.name ?? port} (${len} bytes)`;
}
