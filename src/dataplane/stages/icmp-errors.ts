/**
 * Originating ICMP errors about a packet being processed, with the restraints of RFC 1812
 * §4.3.2.7: never about an ICMP error, a non-first fragment, a packet to a broadcast or multicast
 * address, a packet from an address that does not name a single host, or a packet the router made
 * itself. A token bucket limits the rate (§4.3.2.8), as Linux does with icmp_ratelimit.
 */

import { NO_PORT } from '../pipeline/packet-meta.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { Stage } from '../pipeline/stage.js';
import { setU16, setU32, u16, u32 } from '../wire/bytes.js';
import { checksum } from '../wire/checksum.js';
import { ETHERTYPE_IPV4 } from '../wire/ethernet.js';
import { emitIcmpv4Error, icmpv4ErrorLen, icmpv4IsError } from '../wire/icmpv4.js';
import { IP_PROTO_ICMP, IPV4_HEADER_LEN } from '../wire/ipv4.js';
import type { RouterContext } from './router-context.js';

export class IcmpErrors {
  /** Tokens available; refilled at `ratePerSec`, at most `burst`. */
  private tokens: number;
  private last = 0;
  private readonly suppressed: number;
  private readonly rateLimited: number;
  private sentCount = 0;

  constructor(
    pipe: Pipeline,
    private readonly ctx: RouterContext,
    /** Where originated errors start (the local-output routing stage). */
    private readonly entry: () => Stage,
    private readonly ratePerSec = 1000,
    private readonly burst = 50,
  ) {
    this.tokens = burst;
    this.suppressed = pipe.drops.register('icmp-error-suppressed');
    this.rateLimited = pipe.drops.register('icmp-error-rate-limited');
  }

  get count(): number {
    return this.sentCount;
  }

  /**
   * Sends ICMP `type`/`code` about the IPv4 packet in slot s (whose header ip4-input validated)
   * back to its source. `info` is the next-hop MTU for "fragmentation needed". Returns true when
   * an error was originated.
   */
  send(pipe: Pipeline, s: number, type: number, code: number, info = 0): boolean {
    const b = pipe.batch;
    const m = pipe.meta;
    const d = b.data;
    const l3 = m.l3Off[s]!;
    const src = u32(d, l3 + 12);
    const dst = u32(d, l3 + 16);
    const proto = d[l3 + 9]!;
    const hl = (d[l3]! & 15) * 4;
    const fragOff = u16(d, l3 + 6) & 0x1fff;
    if (
      m.inPort[s] === NO_PORT ||
      fragOff !== 0 ||
      src === 0 ||
      src >>> 28 >= 14 ||
      dst >>> 28 === 14 ||
      this.ctx.local.isBroadcast(dst) ||
      (proto === IP_PROTO_ICMP && icmpv4IsError(d[l3 + hl]!))
    ) {
      pipe.drops.count(this.suppressed);
      return false;
    }
    const now = this.ctx.now;
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.ratePerSec);
    this.last = now;
    if (this.tokens < 1) {
      pipe.drops.count(this.rateLimited);
      return false;
    }
    const from = this.ctx.local.primary(m.inPort[s]!);
    if (from === 0) {
      pipe.drops.count(this.suppressed);
      return false;
    }
    const o = this.ctx.originated;
    const slot = o.alloc(this.entry(), ETHERTYPE_IPV4, m.inPort[s]!);
    if (slot < 0) return false;
    this.tokens -= 1;
    const ob = o.batch;
    const out = ob.data;
    const at = ob.offset[slot]!;
    const qLen = Math.min(m.l3Len[s]!, b.offset[s]! + b.length[s]! - l3);
    const icmpLen = icmpv4ErrorLen(qLen);
    // IPv4 header: TTL 64, DF clear, id 0 (RFC 6864 allows any id for atomic-free small datagrams).
    out[at] = 0x45;
    out[at + 1] = 0xc0; // DSCP CS6 (network control), as Linux marks ICMP errors
    setU16(out, at + 2, IPV4_HEADER_LEN + icmpLen);
    setU32(out, at + 4, 0);
    out[at + 8] = 64;
    out[at + 9] = IP_PROTO_ICMP;
    setU16(out, at + 10, 0);
    setU32(out, at + 12, from);
    setU32(out, at + 16, src);
    setU16(out, at + 10, checksum(out, at, IPV4_HEADER_LEN));
    emitIcmpv4Error(type, code, d, l3, qLen, out, at + IPV4_HEADER_LEN, info);
    ob.length[slot] = IPV4_HEADER_LEN + icmpLen;
    this.sentCount++;
    return true;
  }
}
