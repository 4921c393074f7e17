/**
 * neighbour-failed: packets that waited for a neighbour that never answered. Each is answered
 * with ICMP host unreachable (RFC 1812 §5.2.7.1 / RFC 1122 §2.3.2.2) and dropped.
 */
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_HOST } from '../wire/icmpv4.js';
import type { IcmpErrors } from './icmp-errors.js';

export class NeighbourFailed extends Stage {
  readonly name = 'neighbour-failed';
  private readonly failed: number;

  constructor(
    pipe: Pipeline,
    private readonly icmp: IcmpErrors,
  ) {
    super();
    this.failed = pipe.drops.register('neighbour-unreachable');
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      this.icmp.send(pipe, s, ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_HOST);
      pipe.drop(s, this.failed);
    }
  }
}
