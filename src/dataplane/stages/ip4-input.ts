/**
 * ip4-input: validates IPv4 headers as RFC 1812 §5.2.2 requires of a router before anything else
 * looks at them (length, checksum, version, header length, total length), and drops martian
 * source addresses (§5.3.7). Records where the transport header starts.
 */
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { formatIpv4, u16, u32 } from '../wire/bytes.js';
import { verify } from '../wire/checksum.js';
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

/** RFC 1071 check of a 20-byte header (no options): its ten words, checksum included, sum to all-ones. */
function verifyHeader20(d: Uint8Array, o: number): boolean {
  let sum =
    ((d[o]! << 8) | d[o + 1]!) +
    ((d[o + 2]! << 8) | d[o + 3]!) +
    ((d[o + 4]! << 8) | d[o + 5]!) +
    ((d[o + 6]! << 8) | d[o + 7]!) +
    ((d[o + 8]! << 8) | d[o + 9]!) +
    ((d[o + 10]! << 8) | d[o + 11]!) +
    ((d[o + 12]! << 8) | d[o + 13]!) +
    ((d[o + 14]! << 8) | d[o + 15]!) +
    ((d[o + 16]! << 8) | d[o + 17]!) +
    ((d[o + 18]! << 8) | d[o + 19]!);
  // Ten 16-bit words sum below 2^20: two folds bring any carry back in.
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
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
    const d = b.data;
    const m = pipe.meta;
    const ip = this.ip;
    const local = this.ctx.local;
    // Packets for the main successor are compacted in place and handed on as one vector.
    let w = 0;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const l3 = m.l3Off[s]!;
      const avail = b.offset[s]! + b.length[s]! - l3;
      const total = avail >= 20 ? u16(d, l3 + 2) : 0;
      let hl = 20;
      // The common header (version 4, IHL 5, consistent lengths) is checked here directly; anything
      // else goes through the view, which tells exactly what is wrong (RFC 791 §3.1).
      if (!(total >= 20 && total <= avail && l3 + avail <= d.length && d[l3] === 0x45)) {
        const err = ip.wrap(d, l3, avail);
        if (err !== WireError.Ok) {
          pipe.drop(s, this.malformed[err]!);
          continue;
        }
        hl = ip.headerLen;
      }
      if (!(hl === 20 ? verifyHeader20(d, l3) : verify(d, l3, hl))) {
        pipe.drop(s, this.badChecksum);
        continue;
      }
      const src = u32(d, l3 + 12);
      if (src !== 0 && isMartianSource(src, local)) {
        pipe.drop(s, this.martianSrc);
        continue;
      }
      const dst = u32(d, l3 + 16);
      if (dst >>> 24 === 127 || dst === 0) {
        pipe.drop(s, this.martianDst);
        continue;
      }
      m.l3Len[s] = total;
      m.l4Off[s] = l3 + hl;
      if (m.traceId[s] !== 0) pipe.trace(s, this, EV_OK, src, dst, d[l3 + 9]!, d[l3 + 8]!, total);
      slots[w++] = s;
    }
    pipe.nextAll(this.next.id, slots, w);
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
