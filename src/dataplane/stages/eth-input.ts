/**
 * eth-input: the first stage for frames from Ethernet ports. Checks the frame, keeps what is for
 * this router (its MAC, broadcast, multicast) and hands it on by EtherType. Frames between other
 * hosts, which a promiscuous socket also sees, are dropped here and counted.
 */

import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { WireError } from '../wire/errors.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, EthernetView } from '../wire/ethernet.js';
import type { RouterContext } from './router-context.js';

const EV_ACCEPT = 1;

export class EthInput extends Stage {
  readonly name = 'eth-input';
  private readonly eth = new EthernetView();
  private readonly malformed: number[];
  private readonly otherHost: number;
  private readonly vlan: number;
  private readonly ipv6: number;
  private readonly unknownType: number;
  arp!: Stage;
  ip4!: Stage;

  constructor(
    pipe: Pipeline,
    private readonly ctx: RouterContext,
  ) {
    super();
    this.malformed = pipe.drops.registerWireErrors('eth');
    this.otherHost = pipe.drops.register('eth-not-for-us');
    this.vlan = pipe.drops.register('eth-vlan-not-configured');
    this.ipv6 = pipe.drops.register('eth-ipv6-not-enabled');
    this.unknownType = pipe.drops.register('eth-unknown-ethertype');
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const b = pipe.batch;
    const m = pipe.meta;
    const eth = this.eth;
    const macs = this.ctx.portMac;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const err = eth.wrap(b.data, b.offset[s]!, b.length[s]!);
      if (err !== WireError.Ok) {
        pipe.drop(s, this.malformed[err]!);
        continue;
      }
      if (!eth.isMulticastDst && eth.dst !== macs[m.inPort[s]!]) {
        pipe.drop(s, this.otherHost);
        continue;
      }
      if (eth.tags !== 0) {
        pipe.drop(s, this.vlan);
        continue;
      }
      const type = eth.etherType;
      m.etherType[s] = type;
      m.l3Off[s] = eth.payloadOff;
      if (type === ETHERTYPE_IPV4) pipe.nextId(this.ip4.id, s);
      else if (type === ETHERTYPE_ARP) pipe.nextId(this.arp.id, s);
      else {
        pipe.drop(s, type === ETHERTYPE_IPV6 ? this.ipv6 : this.unknownType);
        continue;
      }
      pipe.trace(s, this, EV_ACCEPT, type, eth.isBroadcastDst ? 1 : eth.isMulticastDst ? 2 : 0);
    }
  }

  override formatTrace = (_event: number, type: number, cast: number): string =>
    `${['unicast to us', 'broadcast', 'multicast'][cast]} ${type === ETHERTYPE_ARP ? 'ARP' : 'IPv4'} frame`;
}
