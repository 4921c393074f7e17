/**
 * The packet rewrites of NAT, all with incremental checksum updates (RFC 1624 eqn. 3): the IPv4
 * header checksum for an address, the TCP/UDP checksum for the pseudo-header address and the
 * port (UDP: a zero checksum means none and stays zero, RFC 768), the ICMP checksum for an
 * identifier (no pseudo-header in ICMPv4).
 *
 * ICMP errors (RFC 5508 §4.2, REQ-4/5): the outer address changes as for any packet; the quoted
 * packet, which travelled the other way, gets the mirror change — when the outer destination
 * becomes A, the quoted source becomes A (and its source port or ICMP id P); when the outer source
 * becomes A, the quoted destination becomes A (and its destination port P). Each quoted change
 * patches the quoted IP header checksum, the quoted TCP/UDP checksum when the quote holds it, and
 * the ICMP checksum for every 16-bit word that changed under it.
 *
 * A packet with a partial checksum (`partial`: CHECKSUM_PARTIAL, offloads 'vnet') holds in its
 * TCP/UDP checksum field the folded pseudo-header sum itself, not a complemented checksum; the
 * device completes it over the L4 header and data later. An address change then moves that seed to
 * the new pseudo-header (`pseudoReplace32`, the sense of RFC 1624 inverted), and a port change
 * leaves it alone: the port is data the completion sums anyway.
 */
import { setU16, setU32, u16, u32 } from '../wire/bytes.js';
import { csumReplace16, csumReplace32, udpCsumReplace16, udpCsumReplace32 } from '../wire/checksum.js';

const TCP = 6;
const UDP = 17;
const ICMP = 1;

/**
 * The folded pseudo-header sum `seed` with the 32-bit word `oldV` replaced by `newV`: RFC 1624
 * eqn. 3 applied to the seed's complement (csumReplace32 works on a complemented checksum).
 */
export function pseudoReplace32(seed: number, oldV: number, newV: number): number {
  return ~csumReplace32(~seed & 0xffff, oldV, newV) & 0xffff;
}

/** Where the L4 checksum of `proto` sits from the L4 header, or -1 (its header then has none we patch). */
function l4CsumAt(proto: number): number {
  return proto === TCP ? 16 : proto === UDP ? 6 : -1;
}

/**
 * Rewrites the source (`which` 12) or destination (16) address of the IPv4 packet at l3 to `addr`
 * and its TCP/UDP port on that side to `port` (-1: leave ports alone); for ICMP, `port` is the query
 * identifier. `hasL4` is false for a packet whose L4 header is not in this fragment. Addresses are
 * passed as int32 (`| 0`) so they are not boxed across the call.
 */
export function rewriteAddrPort(
  d: Uint8Array,
  l3: number,
  l4: number,
  proto: number,
  which: number,
  addr: number,
  port: number,
  hasL4: boolean,
  partial = false,
): void {
  const old = u32(d, l3 + which) | 0;
  const a = addr | 0;
  const csAt = hasL4 ? l4CsumAt(proto) : -1;
  if (old !== a) {
    setU32(d, l3 + which, a);
    setU16(d, l3 + 10, csumReplace32(u16(d, l3 + 10), old, a));
    if (csAt >= 0) {
      const c = u16(d, l4 + csAt);
      setU16(
        d,
        l4 + csAt,
        partial
          ? pseudoReplace32(c, old, a)
          : proto === UDP
            ? udpCsumReplace32(c, old, a)
            : csumReplace32(c, old, a),
      );
    }
  }
  if (!hasL4 || port < 0) return;
  if (proto === ICMP) {
    const oldId = u16(d, l4 + 4);
    if (oldId !== port) {
      setU16(d, l4 + 4, port);
      if (!partial) setU16(d, l4 + 2, csumReplace16(u16(d, l4 + 2), oldId, port));
    }
    return;
  }
  if (csAt < 0) return;
  const at = l4 + (which === 12 ? 0 : 2);
  const oldP = u16(d, at);
  if (oldP !== port) {
    setU16(d, at, port);
    if (partial) return;
    const c = u16(d, l4 + csAt);
    setU16(d, l4 + csAt, proto === UDP ? udpCsumReplace16(c, oldP, port) : csumReplace16(c, oldP, port));
  }
}

/**
 * `rewriteAddrPort` for a TCP or UDP packet whose header is present (`udp` says which) and a port
 * to set: the same updates in the same order, as a function small enough for V8 to inline into a
 * stage's loop (the established-flow path of nat-src and nat-dst).
 */
export function rewriteAddrPortL4(
  d: Uint8Array,
  l3: number,
  l4: number,
  udp: boolean,
  which: number,
  addr: number,
  port: number,
  partial = false,
): void {
  const csAt = l4 + (udp ? 6 : 16);
  const old = u32(d, l3 + which) | 0;
  const a = addr | 0;
  if (old !== a) {
    setU32(d, l3 + which, a);
    setU16(d, l3 + 10, csumReplace32(u16(d, l3 + 10), old, a));
    const c = u16(d, csAt);
    setU16(
      d,
      csAt,
      partial ? pseudoReplace32(c, old, a) : udp ? udpCsumReplace32(c, old, a) : csumReplace32(c, old, a),
    );
  }
  const at = l4 + (which === 12 ? 0 : 2);
  const oldP = u16(d, at);
  if (oldP !== port) {
    setU16(d, at, port);
    if (partial) return;
    const c = u16(d, csAt);
    setU16(d, csAt, udp ? udpCsumReplace16(c, oldP, port) : csumReplace16(c, oldP, port));
  }
}

/**
 * Rewrites the packet quoted by the ICMP error at l4 (quote from l4 + 8 to `end`): its source
 * (`which` 12) or destination (16) address to `addr` and the matching port (source port / ICMP id,
 * or destination port) to `port` (-1: leave it). Fields the quote cut off are left alone.
 */
export function rewriteQuoted(
  d: Uint8Array,
  l4: number,
  end: number,
  which: number,
  addr: number,
  port: number,
): void {
  const q = l4 + 8;
  const qhl = (d[q]! & 15) * 4;
  const ql4 = q + qhl;
  const proto = d[q + 9]!;
  const csAt = l4CsumAt(proto);
  const hasQCs = csAt >= 0 && ql4 + csAt + 2 <= end;
  let ic = u16(d, l4 + 2);
  const old = u32(d, q + which) | 0;
  const a = addr | 0;
  if (old !== a) {
    setU32(d, q + which, a);
    ic = csumReplace32(ic, old, a);
    const oldHc = u16(d, q + 10);
    const newHc = csumReplace32(oldHc, old, a);
    setU16(d, q + 10, newHc);
    ic = csumReplace16(ic, oldHc, newHc);
    if (hasQCs) {
      const oc = u16(d, ql4 + csAt);
      const nc = proto === UDP ? udpCsumReplace32(oc, old, a) : csumReplace32(oc, old, a);
      setU16(d, ql4 + csAt, nc);
      ic = csumReplace16(ic, oc, nc);
    }
  }
  if (port >= 0) {
    if (proto === ICMP) {
      // A quoted echo: its identifier, and its own checksum when quoted.
      if (which === 12 && ql4 + 6 <= end) {
        const oldId = u16(d, ql4 + 4);
        if (oldId !== port) {
          setU16(d, ql4 + 4, port);
          ic = csumReplace16(ic, oldId, port);
          const oc = u16(d, ql4 + 2);
          const nc = csumReplace16(oc, oldId, port);
          setU16(d, ql4 + 2, nc);
          ic = csumReplace16(ic, oc, nc);
        }
      }
    } else if (csAt >= 0) {
      const at = ql4 + (which === 12 ? 0 : 2);
      if (at + 2 <= end) {
        const oldP = u16(d, at);
        if (oldP !== port) {
          setU16(d, at, port);
          ic = csumReplace16(ic, oldP, port);
          if (hasQCs) {
            const oc = u16(d, ql4 + csAt);
            const nc = proto === UDP ? udpCsumReplace16(oc, oldP, port) : csumReplace16(oc, oldP, port);
            setU16(d, ql4 + csAt, nc);
            ic = csumReplace16(ic, oc, nc);
          }
        }
      }
    }
  }
  setU16(d, l4 + 2, ic);
}

/**
 * Translates one side (`which` SRC 12 or DST 16) of a packet of a flow whose NAT is decided (the
 * established path of nat-src and nat-dst): a later fragment gets only its address (its L4 header
 * is in the first fragment); an ICMP error RELATED to the flow gets its outer address and the
 * quoted packet's other side (`port` for the quoted port); TCP/UDP get address and `port`; an ICMP
 * query gets address and identifier `icmpId`; other protocols only the address. `l3Len`: the IPv4
 * header length; `partial`: the L4 checksum is a partial (pseudo-header) sum.
 */
export function rewriteFlowSide(
  d: Uint8Array,
  l3: number,
  l4: number,
  l3Len: number,
  related: boolean,
  partial: boolean,
  which: number,
  addr: number,
  port: number,
  icmpId: number,
): void {
  if ((u16(d, l3 + 6) & 0x1fff) !== 0) {
    rewriteAddrPort(d, l3, l4, d[l3 + 9]!, which, addr, -1, false);
  } else if (related) {
    // The quote is the packet as the other host sent it: its other side carries our address.
    rewriteQuoted(d, l4, l3 + l3Len, which === 12 ? 16 : 12, addr, port);
    rewriteAddrPort(d, l3, l4, ICMP, which, addr, -1, true);
  } else {
    const proto = d[l3 + 9]!;
    if (proto === TCP || proto === UDP)
      rewriteAddrPortL4(d, l3, l4, proto === UDP, which, addr, port, partial);
    else rewriteAddrPort(d, l3, l4, proto, which, addr, proto === ICMP ? icmpId : -1, true, partial);
  }
}
