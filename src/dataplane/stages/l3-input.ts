/**
 * l3-input: the first stage for packets from TUN ports, which carry bare IP packets. The version
 * nibble decides the protocol; there is no link layer to check.
 */
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { ETHERTYPE_IPV4 } from '../wire/ethernet.js';

export class L3Input extends Stage {
  readonly name = 'l3-input';
  private readonly empty: number;
  private readonly ipv6: number;
  private readonly badVersion: number;
  ip4!: Stage;

  constructor(pipe: Pipeline) {
    super();
    this.empty = pipe.drops.register('l3-empty');
    this.ipv6 = pipe.drops.register('l3-ipv6-not-enabled');
    this.badVersion = pipe.drops.register('l3-bad-version');
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const b = pipe.batch;
    const m = pipe.meta;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      if (b.length[s] === 0) {
        pipe.drop(s, this.empty);
        continue;
      }
      const version = b.data[b.offset[s]!]! >>> 4;
      m.l3Off[s] = b.offset[s]!;
      if (version === 4) {
        m.etherType[s] = ETHERTYPE_IPV4;
        pipe.nextId(this.ip4.id, s);
      } else pipe.drop(s, version === 6 ? this.ipv6 : this.badVersion);
    }
  }
}
