/**
 * ip4-input: validates IPv4 headers as RFC 1812 §5.2.2 requires of a router before anything else
 * looks at them (length, checksum, version, header length, total length), and drops martian
 * source addresses (§5.3.7). Records where the transport header starts.
 */
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { formatIpv4 } from '../wire/bytes.js';
import { WireError } from '../wire/errors.js';
import { Ipv4View } from '../wire/ipv4.js';
import type { RouterContext } from './router-context.js';

const EV_OK = 1;

/** RFC 1812 §5.3.7 / RFC 6890: sources a router must not forward or accept. */
export function isMartianSource(src: number, local: RouterContext['local']): boolean {
  const top = src >>> 24;
  // 0.0.0.0 is legal only as a DHCP client's source (RFC 2131 §4.1); the caller lets it through to local delivery.
  if (top === 127) return true; // loopback
  if (top >= 224) return true; // multicast 224/4, reserved 240/4, limited broadcast
  return local.isBroadcast(src);
}

export class Ip4Input extends Stage {
  readonly name = 'ip4-input';
  private readonly ip = new Ipv4View();
  private readonly malformed: number[];
  private readonly badChecksum: number;
  private readonly martianSrc: number;
  private readonly martianDst: number;
  next!: Stage;

  constructor(
    pipe: Pipeline,
    private readonly ctx: RouterContext,
  ) {
    super();
    this.malformed = pipe.drops.registerWireErrors('ip4');
    this.badChecksum = pipe.drops.register('ip4-bad-checksum');
    this.martianSrc = pipe.drops.register('ip4-martian-source');
    this.martianDst = pipe.drops.register('ip4-martian-destination');
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const b = pipe.batch;
    const m = pipe.meta;
    const ip = this.ip;
    const local = this.ctx.local;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const l3 = m.l3Off[s]!;
      const err = ip.wrap(b.data, l3, b.offset[s]! + b.length[s]! - l3);
      if (err !== WireError.Ok) {
        pipe.drop(s, this.malformed[err]!);
        continue;
      }
      if (!ip.verifyChecksum()) {
        pipe.drop(s, this.badChecksum);
        continue;
      }
      const src = ip.src;
      if (src !== 0 && isMartianSource(src, local)) {
        pipe.drop(s, this.martianSrc);
        continue;
      }
      if (ip.dst >>> 24 === 127 || ip.dst === 0) {
        pipe.drop(s, this.martianDst);
        continue;
      }
      m.l3Len[s] = ip.totalLen;
      m.l4Off[s] = l3 + ip.headerLen;
      pipe.trace(s, this, EV_OK, src, ip.dst, ip.protocol, ip.ttl, ip.totalLen);
      pipe.nextId(this.next.id, s);
    }
  }

  override formatTrace = (
    _e: number,
    src: number,
    dst: number,
    proto: number,
    ttl: number,
    len: number,
  ): string =>
    `${formatIpv4(src)} → ${formatIpv4(dst)} proto ${protoName(proto)} ttl ${ttl} len ${len}: header valid`;
}

export function protoName(p: number): string {
  return p === 1 ? 'icmp' : p === 6 ? 'tcp' : p === 17 ? 'udp' : p === 115 ? 'l2tp' : String(p);
}
