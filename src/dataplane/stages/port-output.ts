/**
 * port-output: the last stage. Sorts the batch's packets by egress port and hands each port its
 * list in one call (one JS↔native crossing per port per batch).
 *
 * Offload descriptors (offloads 'vnet'): for a port that transmits them, each packet's descriptor
 * is written into PacketMeta.txOffload in the layout of the frame as it leaves — csum_start and
 * hdr_len count from the frame start, so they move by however much the link-layer header grew or
 * shrank (a TUN has none, Ethernet 14 bytes); packets without one get "no offload". A packet with a
 * partial checksum leaving by a port that cannot take the descriptor has its checksum completed
 * here, as the kernel's skb_checksum_help does.
 */
import { partialCsum } from '../pipeline/packet-meta.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { completeCsum, writeTxOffload } from './offload-tx.js';
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
    const b = pipe.batch;
    const nPorts = this.ctx.ports.length;
    const offload = this.ctx.portOffload;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const p = m.outPort[s]!;
      if (p >= nPorts) {
        pipe.drop(s, this.badPort);
        continue;
      }
      if (offload[p] === 1) writeTxOffload(m, s, b.offset[s]!);
      else if (partialCsum(m, s) && m.gsoType[s] === 0) completeCsum(b.data, m, s);
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
