/**
 * ingress: the entry of every received batch. Counts the packet on its port (unless the port counts
 * for itself) and sends it to the input stage for the port's framing: Ethernet (eth-input) or bare
 * IP (l3-input).
 */
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import type { RouterContext } from './router-context.js';

export class Ingress extends Stage {
  readonly name = 'ingress';
  private readonly unknownPort: number;
  eth!: Stage;
  l3!: Stage;
  /** Offload descriptors of the batch being received (Port.rxOffload), set by the engine per batch. */
  rxOffload: Uint16Array | null = null;

  constructor(
    pipe: Pipeline,
    private readonly ctx: RouterContext,
  ) {
    super();
    this.unknownPort = pipe.drops.register('ingress-unknown-port');
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const m = pipe.meta;
    const b = pipe.batch;
    const rxStats = this.ctx.rxStats;
    const l2 = this.ctx.portL2;
    if (this.rxOffload !== null) m.offloadsFrom(this.rxOffload, b.count);
    // Packets for the main successor are compacted in place and handed on as one vector.
    let w = 0;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const p = m.inPort[s]!;
      if (p >= rxStats.length) {
        pipe.drop(s, this.unknownPort);
        continue;
      }
      // Native ports count in the addon: reading their `stats` here would cross into C per packet.
      const st = rxStats[p]!;
      if (st !== null) {
        st.rxPackets++;
        st.rxBytes += b.length[s]!;
      }
      if (l2[p] === 1) slots[w++] = s;
      else pipe.nextId(this.l3.id, s);
    }
    pipe.nextAll(this.eth.id, slots, w);
  }
}
