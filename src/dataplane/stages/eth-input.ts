/**
 * eth-input: the first stage for frames from Ethernet ports. Checks the frame, keeps what is for
 * this router (its MAC, broadcast, multicast) and hands it on by EtherType. Frames between other
 * hosts, which a promiscuous socket also sees, are dropped here and counted.
 */

import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { u16, u32 } from '../wire/bytes.js';
import { WireError } from '../wire/errors.js';
import {
  ETH_HEADER_LEN,
  ETH_TYPE,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_QINQ,
  ETHERTYPE_QINQ_OLD,
  ETHERTYPE_VLAN,
  EthernetView,
} from '../wire/ethernet.js';
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
    const d = b.data;
    const m = pipe.meta;
    const eth = this.eth;
    const macs = this.ctx.portMac;
    // Packets for the main successor are compacted in place and handed on as one vector.
    let w = 0;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const off = b.offset[s]!;
      const len = b.length[s]!;
      let type = len >= ETH_HEADER_LEN && off + len <= d.length ? u16(d, off + ETH_TYPE) : 0;
      let payload = off + ETH_HEADER_LEN;
      // An untagged frame is read here directly; a short or tagged one goes through the view,
      // which says what is wrong or where the tags end.
      if (type === 0 || type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD) {
        const err = eth.wrap(d, off, len);
        if (err !== WireError.Ok) {
          pipe.drop(s, this.malformed[err]!);
          continue;
        }
        if ((d[off]! & 1) === 0 && eth.dst !== macs[m.inPort[s]!]) {
          pipe.drop(s, this.otherHost);
          continue;
        }
        if (eth.tags !== 0) {
          pipe.drop(s, this.vlan);
          continue;
        }
        type = eth.etherType;
        payload = eth.payloadOff;
      } else if (
        (d[off]! & 1) === 0 &&
        u16(d, off) * 0x1_0000_0000 + u32(d, off + 2) !== macs[m.inPort[s]!]
      ) {
        pipe.drop(s, this.otherHost);
        continue;
      }
      m.etherType[s] = type;
      m.l3Off[s] = payload;
      if (type === ETHERTYPE_IPV4) slots[w++] = s;
      else if (type === ETHERTYPE_ARP) pipe.nextId(this.arp.id, s);
      else {
        pipe.drop(s, type === ETHERTYPE_IPV6 ? this.ipv6 : this.unknownType);
        continue;
      }
      if (m.traceId[s] !== 0) {
        eth.wrap(d, off, len);
        pipe.trace(s, this, EV_ACCEPT, type, eth.isBroadcastDst ? 1 : eth.isMulticastDst ? 2 : 0);
      }
    }
    pipe.nextAll(this.ip4.id, slots, w);
  }

  override formatTrace = (_event: number, type: number, cast: number): string =>
    `${['unicast to us', 'broadcast', 'multicast'][cast]} ${type === ETHERTYPE_ARP ? 'ARP' : 'IPv4'} frame`;
}
