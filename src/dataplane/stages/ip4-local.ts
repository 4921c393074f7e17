/**
 * ip4-local: packets addressed to the router itself. Answers ICMP echo (RFC 1122 §3.2.2.6) by
 * turning the request into the reply in place; hands UDP to the services that registered a port
 * (the DHCP relay on 67); answers other UDP with ICMP port unreachable (RFC 1122 §4.1.3.1) and
 * drops what nothing here listens to. With a host port (host-delivery.ts), what is for one of the
 * host's addresses and not consumed here (anything but echo requests and UDP services) goes to
 * the kernel instead, which answers for itself (its sockets, its port unreachables).
 */

import { NO_PORT } from '../pipeline/packet-meta.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { formatIpv4, setU16, setU32, u16, u32 } from '../wire/bytes.js';
import { checksum, csumReplace16 } from '../wire/checksum.js';
import { ICMPV4_DEST_UNREACH, ICMPV4_ECHO_REQUEST, ICMPV4_UNREACH_PORT } from '../wire/icmpv4.js';
import { IP_PROTO_ICMP, IP_PROTO_UDP } from '../wire/ipv4.js';
import type { HostDelivery } from './host-delivery.js';
import type { IcmpErrors } from './icmp-errors.js';
import type { RouterContext } from './router-context.js';

const EV_ECHO = 1;
const EV_UDP_SERVICE = 2;

export class Ip4Local extends Stage {
  readonly name = 'ip4-local';
  private readonly noListener: number;
  private readonly icmpOther: number;
  private readonly badIcmp: number;
  /** UDP destination port → stage that serves it (a 64k table: no Map on the hot path). */
  private readonly udpService = new Int16Array(65536).fill(-1);
  private readonly services: Stage[] = [];
  /** Where replies the router makes go: local-output routing. */
  output!: Stage;
  /** host-delivery, when the router has a host port: what is for the kernel's addresses. */
  host: HostDelivery | null = null;

  constructor(
    pipe: Pipeline,
    private readonly ctx: RouterContext,
    private readonly icmp: IcmpErrors,
  ) {
    super();
    this.noListener = pipe.drops.register('ip4-local-no-listener');
    this.icmpOther = pipe.drops.register('ip4-local-icmp-ignored');
    this.badIcmp = pipe.drops.register('ip4-local-icmp-bad-checksum');
  }

  /** Delivers UDP to `port` on this router to `stage` (e.g. 67 → the DHCP relay). */
  listenUdp(port: number, stage: Stage): void {
    this.udpService[port] = this.services.length;
    this.services.push(stage);
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const d = pipe.batch.data;
    const m = pipe.meta;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const l3 = m.l3Off[s]!;
      const l4 = m.l4Off[s]!;
      const proto = d[l3 + 9]!;
      const fragmented = (u16(d, l3 + 6) & 0x3fff) !== 0;
      // host port: ferry keeps echo requests and its UDP services; the rest is the kernel's.
      const toHost = this.host?.isHostAddress(u32(d, l3 + 16)) === true;
      if (
        proto === IP_PROTO_ICMP &&
        !fragmented &&
        (!toHost || (l4 + 8 <= l3 + m.l3Len[s]! && d[l4] === ICMPV4_ECHO_REQUEST))
      ) {
        this.icmpLocal(pipe, s, l3, l4);
        continue;
      }
      if (proto === IP_PROTO_UDP && !fragmented && l4 + 8 <= l3 + m.l3Len[s]!) {
        const svc = this.udpService[u16(d, l4 + 2)]!;
        if (svc >= 0) {
          pipe.trace(s, this, EV_UDP_SERVICE, u16(d, l4 + 2));
          pipe.nextId(this.services[svc]!.id, s);
          continue;
        }
        if (!toHost && !this.ctx.local.isBroadcast(u32(d, l3 + 16)))
          this.icmp.send(pipe, s, ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_PORT);
      }
      if (toHost) {
        pipe.nextId(this.host!.id, s);
        continue;
      }
      pipe.drop(s, this.noListener);
    }
  }

  /** Echo request → echo reply, in place: swap addresses, type 8 → 0, fresh TTL, checksums patched. */
  private icmpLocal(pipe: Pipeline, s: number, l3: number, l4: number): void {
    const d = pipe.batch.data;
    const m = pipe.meta;
    const icmpLen = l3 + m.l3Len[s]! - l4;
    if (icmpLen < 8 || d[l4] !== ICMPV4_ECHO_REQUEST) {
      pipe.drop(s, this.icmpOther);
      return;
    }
    if (checksum(d, l4, icmpLen) !== 0) {
      pipe.drop(s, this.badIcmp);
      return;
    }
    const src = u32(d, l3 + 12);
    const dst = u32(d, l3 + 16);
    // A reply to a broadcast ping comes from the address of the port it arrived on (RFC 1122 §3.2.2.6).
    const from = this.ctx.local.find(dst) >= 0 ? dst : this.ctx.local.primary(m.inPort[s]!);
    setU32(d, l3 + 12, from);
    setU32(d, l3 + 16, src);
    d[l3 + 8] = 64;
    setU16(d, l3 + 10, 0);
    setU16(d, l3 + 10, checksum(d, l3, (d[l3]! & 15) * 4));
    // Type 8 → 0 changes the first 16-bit word of the ICMP header (RFC 1624).
    const oldWord = (ICMPV4_ECHO_REQUEST << 8) | d[l4 + 1]!;
    d[l4] = 0;
    setU16(d, l4 + 2, csumReplace16(u16(d, l4 + 2), oldWord, d[l4 + 1]!));
    pipe.trace(s, this, EV_ECHO, src, from);
    // From here on the packet is the router's own: no ICMP errors about it, routed as local output.
    m.inPort[s] = NO_PORT;
    m.outPort[s] = NO_PORT;
    pipe.nextId(this.output.id, s);
  }

  override formatTrace = (e: number, a: number, b: number): string =>
    e === EV_ECHO
      ? `echo request from ${formatIpv4(a)}: answered in place with an echo reply from ${formatIpv4(b)}`
      : `udp port ${a}: handed to its service`;
}
