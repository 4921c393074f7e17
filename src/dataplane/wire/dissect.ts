/**
 * An off-hot-path dissector: walks one frame through ferry's codecs and describes each layer with
 * Wireshark display-filter field names (`ip.ttl`, `tcp.options.mss_val`, …) and values printed
 * the way `tshark -T json` prints them (decimal, `0x`-hex padded to the field's width, `1`/`0`
 * for flags, colon-separated bytes). Traces then read like Wireshark, and tests compare ferry
 * with tshark field by field. It allocates freely; the forwarding path never calls it.
 *
 *   Ethernet [802.1Q/802.1ad tags] → ARP | IPv4 | IPv6 (+ extension headers)
 *   IPv4/IPv6 → ICMPv4 | ICMPv6 (+ NDP options) | UDP | TCP | L2TPv3 (protocol 115)
 *   UDP 67/68 → DHCPv4, UDP 1701 → L2TPv3;  L2TPv3 data → the tunnelled Ethernet frame
 *   ICMP errors and NDP redirects → the packet they quote, in `quoted`
 *
 * A layer whose decoder refuses its bytes carries the WireError name in `error`; fields decoded
 * before the refusal (e.g. a TCP header before malformed options) are kept, and the walk stops.
 */

import { ArpView } from './arp.js';
import { formatIpv4, formatIpv6, formatMac, u16, u32 } from './bytes.js';
import { pseudoSumV4, pseudoSumV6 } from './checksum.js';
import { Dhcpv4OptionCursor, Dhcpv4View } from './dhcpv4.js';
import { ClasslessRouteReader, parseRelayAgentInfo, RelayAgentInfoView } from './dhcpv4-options.js';
import { WireError, wireErrorName } from './errors.js';
import {
  ETH_TYPE,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_QINQ,
  EthernetView,
  VLAN_TAG_LEN,
} from './ethernet.js';
import { ICMPV4_HEADER_LEN, Icmpv4View } from './icmpv4.js';
import {
  ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST,
  ICMPV6_HEADER_LEN,
  ICMPV6_NEIGHBOR_ADVERT,
  ICMPV6_NEIGHBOR_SOLICIT,
  ICMPV6_PACKET_TOO_BIG,
  ICMPV6_PARAM_PROBLEM,
  ICMPV6_REDIRECT,
  ICMPV6_ROUTER_ADVERT,
  Icmpv6View,
} from './icmpv6.js';
import { IPV4_OPT_EOL, IPV4_OPT_NOP, Ipv4View } from './ipv4.js';
import {
  IPV6_HEADER_LEN,
  IPV6_NH_AH,
  IPV6_NH_DEST_OPTS,
  IPV6_NH_FRAGMENT,
  IPV6_NH_HOP_BY_HOP,
  IPV6_NH_ROUTING,
  Ipv6View,
} from './ipv6.js';
import { L2TP_FLAG_L, L2TP_FLAG_S, L2TP_FLAG_T, L2tpv3IpView, L2tpv3UdpView } from './l2tpv3.js';
import {
  NDP_OPT_MTU,
  NDP_OPT_PREFIX_INFO,
  NDP_OPT_RDNSS,
  NDP_OPT_REDIRECTED_HEADER,
  NDP_OPT_SOURCE_LLA,
  NDP_OPT_TARGET_LLA,
  NDP_OPT_UNIT,
  NdpOptionView,
} from './ndp.js';
import { parseTcp, type TcpOption, TcpView } from './tcp.js';
import { UDP_HEADER_LEN, UdpView } from './udp.js';

export interface DissectField {
  readonly name: string;
  readonly value: string;
}

export interface DissectLayer {
  /** Wireshark's protocol name: eth, vlan, ieee8021ad, arp, ip, ipv6, icmp, icmpv6, udp, tcp, dhcp, l2tp. */
  readonly name: string;
  /** Offset of the layer's first byte in the frame. */
  readonly offset: number;
  /** Bytes the layer covers (header and payload, as its length fields say; link padding excluded). */
  length: number;
  readonly fields: DissectField[];
  /** `wireErrorName` of the code the decoder refused the bytes with. */
  error?: string;
  /** The packet an ICMP error quotes or an NDP redirected-header option carries. */
  quoted?: DissectLayer[];
}

export type DissectLink = 'ethernet' | 'raw-ip';

export interface DissectOptions {
  /**
   * L2TPv3 session layout, which is configuration rather than wire format (RFC 3931 §4.1):
   * cookie length (0, 4 or 8) and whether the Default L2-Specific Sublayer is present.
   */
  l2tpCookieLen?: number;
  l2tpSublayer?: boolean;
}

/** Ethernet-in-L2TPv3-in-… nesting we follow before giving up. */
const MAX_DEPTH = 4;

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
export const L2TP_PORT = 1701;

/** Describes one frame; never throws on bad input (refusals end up in `error`). */
export function dissectFrame(
  frame: Uint8Array,
  link: DissectLink,
  opts: DissectOptions = {},
): DissectLayer[] {
  const d = new Dissection(opts);
  if (link === 'ethernet') d.ethernet(frame, 0, frame.length, 0);
  else d.rawIp(frame, 0, frame.length);
  return d.layers;
}

function isDhcpPort(port: number): boolean {
  return port === DHCP_SERVER_PORT || port === DHCP_CLIENT_PORT;
}

// ---------------------------------------------------------------- value formats

const dec = (n: number): string => String(n);
const flag = (on: boolean | number): string => (on ? '1' : '0');

function hex(n: number, digits: number): string {
  return `0x${(n >>> 0).toString(16).padStart(digits, '0')}`;
}

/** FT_BYTES: lower-case hex pairs joined by ':' (empty for no bytes). */
function bytesText(b: Uint8Array, o: number, n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(b[o + i]!.toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** FT_STRING(Z): bytes up to the first NUL, one character each. */
function text(b: Uint8Array, o: number, n: number): string {
  let s = '';
  for (let i = 0; i < n && b[o + i] !== 0; i++) s += String.fromCharCode(b[o + i]!);
  return s;
}

/** Where the upper-layer checksum's pseudo-header comes from. */
type PseudoHeader =
  | { v6: false; src: number; dst: number }
  | { v6: true; buf: Uint8Array; srcOff: number; dstOff: number };

function pseudoSum(p: PseudoHeader, proto: number, len: number): number {
  return p.v6 ? pseudoSumV6(p.buf, p.srcOff, p.dstOff, proto, len) : pseudoSumV4(p.src, p.dst, proto, len);
}

/** Wireshark's checksum status: 1 good, 0 bad. */
const status = (good: boolean): string => (good ? '1' : '0');

// ---------------------------------------------------------------- the walk

class Layer implements DissectLayer {
  readonly fields: DissectField[] = [];
  error?: string;
  quoted?: DissectLayer[];

  constructor(
    readonly name: string,
    readonly offset: number,
    public length: number,
  ) {}

  add(name: string, value: string): void {
    this.fields.push({ name, value });
  }

  fail(e: WireError): void {
    this.error = wireErrorName(e);
  }
}

class Dissection {
  readonly layers: DissectLayer[] = [];
  private out: DissectLayer[] = this.layers;

  private readonly cookieLen: number;
  private readonly sublayer: boolean;

  constructor(opts: DissectOptions) {
    this.cookieLen = opts.l2tpCookieLen ?? 0;
    this.sublayer = opts.l2tpSublayer ?? false;
  }

  private layer(name: string, offset: number, length: number): Layer {
    const l = new Layer(name, offset, length);
    this.out.push(l);
    return l;
  }

  /** Adds a layer for what a decoder's `wrap` said; null (the walk stops there) when it refused. */
  private open(name: string, offset: number, length: number, e: WireError): Layer | null {
    const l = this.layer(name, offset, length);
    if (e === WireError.Ok) return l;
    l.fail(e);
    return null;
  }

  /** Runs `walk` with new layers going to `l.quoted` (an ICMP quote is a packet of its own). */
  private quote(l: Layer, walk: () => void): void {
    const saved = this.out;
    l.quoted = [];
    this.out = l.quoted;
    try {
      walk();
    } finally {
      this.out = saved;
    }
  }

  // ---- link layer

  ethernet(b: Uint8Array, off: number, len: number, depth: number): void {
    const v = new EthernetView();
    const l = this.open('eth', off, len, v.wrap(b, off, len));
    if (!l) return;
    l.add('eth.dst', formatMac(b, off));
    l.add('eth.src', formatMac(b, off + 6));
    l.add('eth.type', hex(u16(b, off + ETH_TYPE), 4));
    for (let i = 0; i < v.tags; i++) this.vlanTag(v, i);
    this.etherType(v.etherType, b, v.payloadOff, v.payloadLen, depth);
  }

  /** One tag: Wireshark calls 802.1ad tags `ieee8021ad` (and their EtherType `ieee8021ah.etype`). */
  private vlanTag(v: EthernetView, i: number): void {
    const at = v.off + ETH_TYPE + i * VLAN_TAG_LEN;
    const ad = v.tagTpid(i) === ETHERTYPE_QINQ;
    const p = ad ? 'ieee8021ad' : 'vlan';
    const l = this.layer(p, at, VLAN_TAG_LEN);
    l.add(`${p}.priority`, dec(v.tagPcp(i)));
    l.add(`${p}.dei`, dec(v.tagDei(i)));
    l.add(`${p}.id`, dec(v.tagVid(i)));
    l.add(ad ? 'ieee8021ah.etype' : 'vlan.etype', hex(u16(v.buf, at + VLAN_TAG_LEN), 4));
  }

  private etherType(t: number, b: Uint8Array, off: number, len: number, depth: number): void {
    if (t === ETHERTYPE_ARP) this.arp(b, off, len);
    else if (t === ETHERTYPE_IPV4) this.ipv4(b, off, len, depth);
    else if (t === ETHERTYPE_IPV6) this.ipv6(b, off, len, depth);
  }

  /** Raw IP link types (101, 228, 229): the version nibble picks the protocol. */
  rawIp(b: Uint8Array, off: number, len: number): void {
    if (len === 0) return;
    const version = b[off]! >>> 4;
    if (version === 6) this.ipv6(b, off, len, 0);
    else this.ipv4(b, off, len, 0);
  }

  // ---- ARP

  private arp(b: Uint8Array, off: number, len: number): void {
    const v = new ArpView();
    const l = this.open('arp', off, len, v.wrap(b, off, len));
    if (!l) return;
    l.length = 28;
    l.add('arp.hw.type', dec(u16(b, off)));
    l.add('arp.proto.type', hex(u16(b, off + 2), 4));
    l.add('arp.hw.size', dec(b[off + 4]!));
    l.add('arp.proto.size', dec(b[off + 5]!));
    l.add('arp.opcode', dec(v.operation));
    l.add('arp.src.hw_mac', formatMac(b, off + 8));
    l.add('arp.src.proto_ipv4', formatIpv4(v.senderIp));
    l.add('arp.dst.hw_mac', formatMac(b, off + 18));
    l.add('arp.dst.proto_ipv4', formatIpv4(v.targetIp));
    if (v.isGratuitous) l.add('arp.isgratuitous', '1');
    if (v.isProbe) l.add('arp.isprobe', '1');
  }

  // ---- IPv4

  private ipv4(b: Uint8Array, off: number, len: number, depth: number, quoted = false): void {
    const v = new Ipv4View();
    const l = this.open('ip', off, len, quoted ? v.wrapQuoted(b, off, len) : v.wrap(b, off, len));
    if (!l) return;
    l.length = Math.min(v.totalLen, len);
    const ff = v.flagsFrag;
    l.add('ip.version', dec(v.version));
    l.add('ip.hdr_len', dec(v.headerLen));
    l.add('ip.dsfield', hex(v.tos, 2));
    l.add('ip.dsfield.dscp', dec(v.dscp));
    l.add('ip.dsfield.ecn', dec(v.ecn));
    l.add('ip.len', dec(v.totalLen));
    l.add('ip.id', hex(v.id, 4));
    l.add('ip.flags', hex(ff >>> 13, 2));
    l.add('ip.flags.rb', flag(ff & 0x8000));
    l.add('ip.flags.df', flag(v.dontFragment));
    l.add('ip.flags.mf', flag(v.moreFragments));
    l.add('ip.frag_offset', dec(v.fragOffsetRaw));
    l.add('ip.ttl', dec(v.ttl));
    l.add('ip.proto', dec(v.protocol));
    l.add('ip.checksum', hex(v.checksum, 4));
    l.add('ip.checksum.status', status(v.verifyChecksum()));
    l.add('ip.src', formatIpv4(v.src));
    l.add('ip.dst', formatIpv4(v.dst));
    this.ipv4Options(v, l);
    // A fragment carries a piece of the upper layer that no codec can check on its own.
    if (v.isFragment) return;
    if (quoted) this.quotedTransport(v.protocol, b, v.payloadOff, Math.min(v.payloadLen, len - v.headerLen));
    else
      this.ipPayload(v.protocol, b, v.payloadOff, v.payloadLen, { v6: false, src: v.src, dst: v.dst }, depth);
  }

  /** Options as Wireshark lists them (RFC 791 §3.1), EOL included; what follows EOL is padding. */
  private ipv4Options(v: Ipv4View, l: Layer): void {
    const end = v.off + v.headerLen;
    let o = v.optionsOff;
    while (o < end) {
      const t = v.optionType(o);
      l.add('ip.opt.type', dec(t));
      l.add('ip.opt.type.copy', flag(t & 0x80));
      l.add('ip.opt.type.class', dec((t >>> 5) & 3));
      l.add('ip.opt.type.number', dec(t & 0x1f));
      if (t === IPV4_OPT_EOL) return;
      if (t !== IPV4_OPT_NOP) this.ipv4OptionBody(v.buf, o, v.optionLen(o), l);
      o += v.optionLen(o);
    }
  }

  private ipv4OptionBody(b: Uint8Array, o: number, n: number, l: Layer): void {
    const t = b[o]!;
    l.add('ip.opt.len', dec(n));
    if (t === 7) {
      // Record route (RFC 791): slots before the pointer hold recorded addresses.
      const ptr = b[o + 2]!;
      l.add('ip.opt.ptr', dec(ptr));
      for (let s = 3; s + 4 <= n; s += 4)
        l.add(s + 1 < ptr ? 'ip.rec_rt' : 'ip.empty_rt', formatIpv4(u32(b, o + s)));
    } else if (t === 131 || t === 137) {
      l.add('ip.opt.ptr', dec(b[o + 2]!));
    } else if (t === 68 && n >= 4) {
      // Internet timestamp (RFC 791): flag 0 lists timestamps, 1 and 3 address/timestamp pairs.
      const f = b[o + 3]! & 0x0f;
      l.add('ip.opt.ptr', dec(b[o + 2]!));
      l.add('ip.opt.overflow', dec(b[o + 3]! >>> 4));
      l.add('ip.opt.flag', hex(f, 2));
      const step = f === 0 ? 4 : 8;
      for (let s = 4; s + step <= n; s += step) {
        if (step === 8) l.add('ip.opt.time_stamp_addr', formatIpv4(u32(b, o + s)));
        l.add('ip.opt.time_stamp', dec(u32(b, o + s + step - 4)));
      }
    } else if (t === 148 && n === 4) {
      l.add('ip.opt.ra', dec(u16(b, o + 2)));
    }
  }

  // ---- IPv6

  private ipv6(b: Uint8Array, off: number, len: number, depth: number, quoted = false): void {
    const v = new Ipv6View();
    const l = this.open('ipv6', off, len, quoted ? v.wrapQuoted(b, off, len) : v.wrap(b, off, len));
    if (!l) return;
    l.length = Math.min(IPV6_HEADER_LEN + v.payloadLen, len);
    l.add('ipv6.version', dec(v.version));
    l.add('ipv6.tclass', hex(v.trafficClass, 8));
    l.add('ipv6.tclass.dscp', dec(v.dscp));
    l.add('ipv6.tclass.ecn', dec(v.ecn));
    l.add('ipv6.flow', hex(v.flowLabel, 6));
    l.add('ipv6.plen', dec(v.payloadLen));
    l.add('ipv6.nxt', dec(v.nextHeader));
    l.add('ipv6.hlim', dec(v.hopLimit));
    l.add('ipv6.src', formatIpv6(b, v.srcOff));
    l.add('ipv6.dst', formatIpv6(b, v.dstOff));
    this.ipv6ExtHeaders(v, l);
    // Only an atomic fragment (offset 0, no more fragments, RFC 6946) holds a whole upper layer.
    if (v.isFragment && (v.fragOffset !== 0 || v.fragMore)) return;
    const upper = v.upperProtocol;
    if (quoted) {
      this.quotedTransport(upper, b, v.upperOff, Math.min(v.upperLen, off + len - v.upperOff));
    } else {
      const pseudo: PseudoHeader = { v6: true, buf: b, srcOff: v.srcOff, dstOff: ipv6FinalDestinationOff(v) };
      this.ipPayload(upper, b, v.upperOff, v.upperLen, pseudo, depth);
    }
  }

  /** Describes the extension headers `wrap` walked (RFC 8200 §4). */
  private ipv6ExtHeaders(v: Ipv6View, l: Layer): void {
    const b = v.buf;
    let nh = v.nextHeader;
    let o = v.payloadOff;
    while (o < v.upperOff) {
      const next = b[o]!;
      const n = extHeaderLen(nh, b, o);
      if (nh === IPV6_NH_FRAGMENT) {
        const w = u16(b, o + 2);
        l.add('ipv6.fraghdr.nxt', dec(next));
        l.add('ipv6.fraghdr.offset', dec(w >>> 3));
        l.add('ipv6.fraghdr.more', flag(w & 1));
        l.add('ipv6.fraghdr.ident', hex(u32(b, o + 4), 8));
      } else if (nh === IPV6_NH_HOP_BY_HOP || nh === IPV6_NH_DEST_OPTS || nh === IPV6_NH_ROUTING) {
        const p =
          nh === IPV6_NH_HOP_BY_HOP
            ? 'ipv6.hopopts'
            : nh === IPV6_NH_ROUTING
              ? 'ipv6.routing'
              : 'ipv6.dstopts';
        l.add(`${p}.nxt`, dec(next));
        l.add(`${p}.len`, dec(b[o + 1]!));
        l.add(`${p}.len_oct`, dec(n));
        if (nh === IPV6_NH_ROUTING) routingHeader(b, o, n, l);
        else ipv6Options(b, o + 2, o + n, l);
      }
      // AH (RFC 4302) is skipped by its length, not described.
      o += n;
      nh = next;
    }
  }

  // ---- transport dispatch

  private ipPayload(
    proto: number,
    b: Uint8Array,
    off: number,
    len: number,
    p: PseudoHeader,
    depth: number,
  ): void {
    if (proto === 1) this.icmpv4(b, off, len, depth);
    else if (proto === 58) this.icmpv6(b, off, len, p, depth);
    else if (proto === 17) this.udp(b, off, len, p, depth);
    else if (proto === 6) this.tcp(b, off, len, p, false);
    else if (proto === 115) this.l2tpIp(b, off, len, depth);
  }

  /**
   * The transport header inside an ICMP quote: usually cut short, so the codecs (which check
   * lengths against the bytes given) may refuse it; RFC 792 promises the first 8 bytes, which are
   * enough for the ports. Checksums are not judged: they cover bytes the quote left out.
   */
  private quotedTransport(proto: number, b: Uint8Array, off: number, avail: number): void {
    if (proto === 1) {
      const v = new Icmpv4View();
      if (v.wrap(b, off, avail) !== WireError.Ok || v.isError) return;
      const l = this.layer('icmp', off, avail);
      icmpv4Header(v, l);
      icmpv4Query(v, l);
    } else if (proto === 58) {
      const v = new Icmpv6View();
      if (v.wrap(b, off, avail) !== WireError.Ok) return;
      const l = this.layer('icmpv6', off, avail);
      icmpv6Header(v, l);
      if (v.type === ICMPV6_ECHO_REQUEST || v.type === ICMPV6_ECHO_REPLY) icmpv6Echo(v, l);
    } else if (proto === 17 && avail >= UDP_HEADER_LEN) {
      const l = this.layer('udp', off, avail);
      l.add('udp.srcport', dec(u16(b, off)));
      l.add('udp.dstport', dec(u16(b, off + 2)));
      l.add('udp.length', dec(u16(b, off + 4)));
      l.add('udp.checksum', hex(u16(b, off + 6), 4));
    } else if (proto === 6 && avail >= 8) {
      const v = new TcpView();
      if (v.wrap(b, off, avail) === WireError.Ok) {
        this.tcp(b, off, avail, null, true);
        return;
      }
      const l = this.layer('tcp', off, avail);
      l.add('tcp.srcport', dec(u16(b, off)));
      l.add('tcp.dstport', dec(u16(b, off + 2)));
      l.add('tcp.seq_raw', dec(u32(b, off + 4)));
    }
  }

  // ---- ICMPv4

  private icmpv4(b: Uint8Array, off: number, len: number, depth: number): void {
    const v = new Icmpv4View();
    const l = this.open('icmp', off, len, v.wrap(b, off, len));
    if (!l) return;
    icmpv4Header(v, l);
    l.add('icmp.checksum.status', status(v.verifyChecksum()));
    if (v.isQuery) {
      icmpv4Query(v, l);
      return;
    }
    if (!v.isError) return;
    const t = v.type;
    if (t === 3 && v.code === 4) {
      l.add('icmp.unused', bytesText(b, off + 4, 2));
      l.add('icmp.mtu', dec(v.nextHopMtu));
    } else if (t === 5) {
      l.add('icmp.redir_gw', formatIpv4(v.gateway));
    } else if (t === 12) {
      l.add('icmp.pointer', dec(v.pointer));
    } else {
      l.add('icmp.unused', bytesText(b, off + 4, 4));
    }
    this.quote(l, () => this.ipv4(b, v.quotedOff, v.quotedLen, depth, true));
  }

  // ---- ICMPv6

  private icmpv6(b: Uint8Array, off: number, len: number, p: PseudoHeader, depth: number): void {
    const v = new Icmpv6View();
    const l = this.open('icmpv6', off, len, v.wrap(b, off, len));
    if (!l) return;
    icmpv6Header(v, l);
    l.add('icmpv6.checksum.status', status(v.verifyChecksum(pseudoSum(p, 58, len))));
    if (v.type === ICMPV6_ECHO_REQUEST || v.type === ICMPV6_ECHO_REPLY) {
      icmpv6Echo(v, l);
    } else if (v.isError()) {
      icmpv6ErrorWord(v, l);
      this.quote(l, () => this.ipv6(b, v.invokingOff, v.invokingLen, depth, true));
    } else if (v.isNdp()) {
      ndpMessage(v, l);
      this.ndpOptions(v, l, depth);
    }
  }

  /** NDP options (RFC 4861 §4.6, RFC 8106 RDNSS); a redirected header's packet goes to `quoted`. */
  private ndpOptions(v: Icmpv6View, l: Layer, depth: number): void {
    const c = new NdpOptionView();
    const b = v.buf;
    c.reset(b, v.optionsOff, v.off + v.len);
    while (c.next()) {
      l.add('icmpv6.opt.type', dec(c.type));
      l.add('icmpv6.opt.length', dec(c.len / NDP_OPT_UNIT));
      switch (c.type) {
        case NDP_OPT_SOURCE_LLA:
        case NDP_OPT_TARGET_LLA:
          l.add('icmpv6.opt.linkaddr', bytesText(b, c.linkAddrOff, c.linkAddrLen));
          if (c.linkAddrLen === 6) {
            const which = c.type === NDP_OPT_SOURCE_LLA ? 'src' : 'target';
            l.add(`icmpv6.opt.${which}_linkaddr`, formatMac(b, c.linkAddrOff));
          }
          break;
        case NDP_OPT_PREFIX_INFO:
          l.add('icmpv6.opt.prefix.length', dec(c.prefixLength));
          l.add('icmpv6.opt.prefix.flag', hex(c.prefixFlags, 2));
          l.add('icmpv6.opt.prefix.flag.l', flag(c.prefixOnLink));
          l.add('icmpv6.opt.prefix.flag.a', flag(c.prefixAutonomous));
          l.add('icmpv6.opt.prefix.valid_lifetime', dec(c.validLifetime));
          l.add('icmpv6.opt.prefix.preferred_lifetime', dec(c.preferredLifetime));
          l.add('icmpv6.opt.prefix', formatIpv6(b, c.prefixOff));
          break;
        case NDP_OPT_MTU:
          l.add('icmpv6.opt.mtu', dec(c.mtu));
          break;
        case NDP_OPT_RDNSS:
          l.add('icmpv6.opt.rdnss.lifetime', dec(c.rdnssLifetime));
          for (let i = 0; i < c.rdnssCount; i++) l.add('icmpv6.opt.rdnss', formatIpv6(b, c.rdnssAddrOff(i)));
          break;
        case NDP_OPT_REDIRECTED_HEADER: {
          const at = c.redirectedOff;
          const n = c.redirectedLen;
          this.quote(l, () => this.ipv6(b, at, n, depth, true));
          break;
        }
      }
    }
    if (c.error !== WireError.Ok) l.fail(c.error);
  }

  // ---- UDP

  private udp(b: Uint8Array, off: number, len: number, p: PseudoHeader, depth: number): void {
    const v = new UdpView();
    const l = this.open('udp', off, len, v.wrap(b, off, len));
    if (!l) return;
    l.length = v.length;
    l.add('udp.srcport', dec(v.srcPort));
    l.add('udp.dstport', dec(v.dstPort));
    l.add('udp.length', dec(v.length));
    l.add('udp.checksum', hex(v.checksum, 4));
    // Wireshark: 3 = not present (zero over IPv4, RFC 768), 4 = illegal (zero over IPv6, RFC 8200 §8.1).
    if (v.checksum === 0) l.add('udp.checksum.status', p.v6 ? '4' : '3');
    else l.add('udp.checksum.status', status(v.verifyChecksum(pseudoSum(p, 17, v.length), p.v6)));
    if (isDhcpPort(v.srcPort) || isDhcpPort(v.dstPort)) this.dhcpv4(b, v.payloadOff, v.payloadLen);
    else if (v.srcPort === L2TP_PORT || v.dstPort === L2TP_PORT)
      this.l2tpUdp(b, v.payloadOff, v.payloadLen, depth);
  }

  // ---- TCP

  /** `p` is null for a quoted segment, whose checksum covers bytes the quote left out. */
  private tcp(b: Uint8Array, off: number, len: number, p: PseudoHeader | null, quoted: boolean): void {
    const v = new TcpView();
    const l = this.open('tcp', off, len, v.wrap(b, off, len));
    if (!l) return;
    const f = v.flags;
    l.add('tcp.srcport', dec(v.srcPort));
    l.add('tcp.dstport', dec(v.dstPort));
    l.add('tcp.seq', dec(v.seq));
    l.add('tcp.seq_raw', dec(v.seq));
    l.add('tcp.ack', dec(v.ack));
    l.add('tcp.ack_raw', dec(v.ack));
    l.add('tcp.hdr_len', dec(v.headerLen));
    l.add('tcp.flags', hex((v.reserved << 9) | f, 4));
    l.add('tcp.flags.res', flag(v.reserved));
    l.add('tcp.flags.ae', flag(v.flagAe));
    l.add('tcp.flags.cwr', flag(v.flagCwr));
    l.add('tcp.flags.ece', flag(v.flagEce));
    l.add('tcp.flags.urg', flag(v.flagUrg));
    l.add('tcp.flags.ack', flag(v.flagAck));
    l.add('tcp.flags.push', flag(v.flagPsh));
    l.add('tcp.flags.reset', flag(v.flagRst));
    l.add('tcp.flags.syn', flag(v.flagSyn));
    l.add('tcp.flags.fin', flag(v.flagFin));
    l.add('tcp.window_size_value', dec(v.window));
    l.add('tcp.checksum', hex(v.checksum, 4));
    if (p) l.add('tcp.checksum.status', status(v.verifyChecksum(pseudoSum(p, 6, len))));
    l.add('tcp.urgent_pointer', dec(v.urgentPointer));
    if (!quoted) l.add('tcp.len', dec(v.payloadLen));
    for (const o of parseTcp(v).options) tcpOption(o, l);
    const oe = v.parseOptions();
    if (oe !== WireError.Ok) l.fail(oe);
  }

  // ---- DHCPv4

  private dhcpv4(b: Uint8Array, off: number, len: number): void {
    const v = new Dhcpv4View();
    const l = this.open('dhcp', off, len, v.wrap(b, off, len));
    if (!l) return;
    l.add('dhcp.type', dec(v.op));
    l.add('dhcp.hw.type', hex(v.htype, 2));
    l.add('dhcp.hw.len', dec(v.hlen));
    l.add('dhcp.hops', dec(v.hops));
    l.add('dhcp.id', hex(v.xid, 8));
    l.add('dhcp.secs', dec(v.secs));
    l.add('dhcp.flags', hex(v.flags, 4));
    l.add('dhcp.flags.bc', flag(v.broadcast));
    l.add('dhcp.flags.reserved', hex(v.flags & 0x7fff, 4));
    l.add('dhcp.ip.client', formatIpv4(v.ciaddr));
    l.add('dhcp.ip.your', formatIpv4(v.yiaddr));
    l.add('dhcp.ip.server', formatIpv4(v.siaddr));
    l.add('dhcp.ip.relay', formatIpv4(v.giaddr));
    if (v.htype === 1 && v.hlen === 6) l.add('dhcp.hw.mac_addr', formatMac(b, v.chaddrOff));
    // sname and file hold text unless option 52 moved options into them (RFC 2132 §9.3).
    if (!(v.overload & 2)) l.add('dhcp.server', text(b, v.snameOff, 64));
    if (!(v.overload & 1)) l.add('dhcp.file', text(b, v.fileOff, 128));
    if (!v.hasMagic) return;
    l.add('dhcp.cookie', formatIpv4(u32(b, v.optionsOff - 4)));
    const c = new Dhcpv4OptionCursor();
    c.start(v);
    while (c.next()) dhcpOption(b, c.code, c.valueOff, c.len, l);
    if (v.endOff >= 0) l.add('dhcp.option.end', '255');
  }

  // ---- L2TPv3

  private l2tpIp(b: Uint8Array, off: number, len: number, depth: number): void {
    const v = new L2tpv3IpView();
    const l = this.open('l2tp', off, len, v.wrap(b, off, len, this.cookieLen, this.sublayer));
    if (!l) return;
    // Over IP a control message is Session ID 0 and then the control header (RFC 3931 §4.1.1.2).
    if (v.isControl) l2tpFlagsWord(u16(b, off + 4), l);
    this.l2tpSession(v, l, depth);
  }

  private l2tpUdp(b: Uint8Array, off: number, len: number, depth: number): void {
    const v = new L2tpv3UdpView();
    const l = this.open('l2tp', off, len, v.wrap(b, off, len, this.cookieLen, this.sublayer));
    if (!l) return;
    l2tpFlagsWord(u16(b, off), l);
    if (!v.isControl) l.add('l2tp.res', hex(u16(b, off + 2), 4));
    this.l2tpSession(v, l, depth);
  }

  /** Session header fields and the tunnelled Ethernet frame, or the control header's fields. */
  private l2tpSession(v: L2tpv3IpView | L2tpv3UdpView, l: Layer, depth: number): void {
    if (v.isControl) {
      l.add('l2tp.length', dec(v.controlLength));
      l.add('l2tp.ccid', hex(v.connectionId, 8));
      l.add('l2tp.Ns', dec(v.ns));
      l.add('l2tp.Nr', dec(v.nr));
      return;
    }
    l.add('l2tp.sid', hex(v.sessionId, 8));
    if (v.cookieLen > 0) l.add('l2tp.cookie', bytesText(v.buf, v.cookieOff, v.cookieLen));
    if (v.hasSublayer) {
      l.add('l2tp.l2_spec_s', flag(v.sequenced));
      l.add('l2tp.l2_spec_sequence', dec(v.sequence));
    }
    if (depth < MAX_DEPTH) this.ethernet(v.buf, v.payloadOff, v.payloadLen, depth + 1);
  }
}

// ---------------------------------------------------------------- per-message field lists

/** The word that starts an L2TPv3 header over UDP and every control header: T, L, S bits and Ver. */
function l2tpFlagsWord(w: number, l: Layer): void {
  l.add('l2tp.flags', hex(w, 4));
  l.add('l2tp.type', flag(w & L2TP_FLAG_T));
  l.add('l2tp.length_bit', flag(w & L2TP_FLAG_L));
  l.add('l2tp.seq_bit', flag(w & L2TP_FLAG_S));
  l.add('l2tp.version', dec(w & 0x0f));
}

function icmpv4Header(v: Icmpv4View, l: Layer): void {
  l.add('icmp.type', dec(v.type));
  l.add('icmp.code', dec(v.code));
  l.add('icmp.checksum', hex(v.checksum, 4));
}

/** Echo, timestamp, information and mask queries: identifier and sequence number (RFC 792). */
function icmpv4Query(v: Icmpv4View, l: Layer): void {
  if (v.len < ICMPV4_HEADER_LEN) return;
  l.add('icmp.ident', dec(v.id));
  l.add('icmp.seq', dec(v.seq));
}

function icmpv6Header(v: Icmpv6View, l: Layer): void {
  l.add('icmpv6.type', dec(v.type));
  l.add('icmpv6.code', dec(v.code));
  l.add('icmpv6.checksum', hex(v.checksum, 4));
}

function icmpv6Echo(v: Icmpv6View, l: Layer): void {
  if (v.len < ICMPV6_HEADER_LEN) return;
  l.add('icmpv6.echo.identifier', hex(v.echoId, 4));
  l.add('icmpv6.echo.sequence_number', dec(v.echoSeq));
}

/** The word after the checksum of an error (RFC 4443 §3): MTU, pointer, or unused. */
function icmpv6ErrorWord(v: Icmpv6View, l: Layer): void {
  if (v.type === ICMPV6_PACKET_TOO_BIG) l.add('icmpv6.mtu', dec(v.mtu));
  else if (v.type === ICMPV6_PARAM_PROBLEM) l.add('icmpv6.pointer', dec(v.pointer));
  else l.add('icmpv6.reserved', bytesText(v.buf, v.off + 4, 4));
}

/** The fixed part of an NDP message (RFC 4861 §4.1–4.5); the options follow it. */
function ndpMessage(v: Icmpv6View, l: Layer): void {
  const b = v.buf;
  switch (v.type) {
    case ICMPV6_ROUTER_ADVERT:
      routerAdvert(v, l);
      break;
    case ICMPV6_NEIGHBOR_ADVERT:
      neighborAdvert(v, l);
      break;
    case ICMPV6_NEIGHBOR_SOLICIT:
      l.add('icmpv6.reserved', bytesText(b, v.off + 4, 4));
      l.add('icmpv6.nd.ns.target_address', formatIpv6(b, v.targetOff));
      break;
    case ICMPV6_REDIRECT:
      l.add('icmpv6.reserved', bytesText(b, v.off + 4, 4));
      l.add('icmpv6.nd.rd.target_address', formatIpv6(b, v.targetOff));
      l.add('icmpv6.rd.na.destination_address', formatIpv6(b, v.destinationOff));
      break;
    default: // router solicitation
      l.add('icmpv6.reserved', bytesText(b, v.off + 4, 4));
  }
}

function routerAdvert(v: Icmpv6View, l: Layer): void {
  l.add('icmpv6.nd.ra.cur_hop_limit', dec(v.raHopLimit));
  l.add('icmpv6.nd.ra.flag', hex(v.raFlags, 2));
  l.add('icmpv6.nd.ra.flag.m', flag(v.raManaged));
  l.add('icmpv6.nd.ra.flag.o', flag(v.raOther));
  l.add('icmpv6.nd.ra.router_lifetime', dec(v.routerLifetime));
  l.add('icmpv6.nd.ra.reachable_time', dec(v.reachableTime));
  l.add('icmpv6.nd.ra.retrans_timer', dec(v.retransTimer));
}

function neighborAdvert(v: Icmpv6View, l: Layer): void {
  l.add('icmpv6.nd.na.flag', hex((v.buf[v.off + 4]! & 0xe0) * 0x100_0000, 8));
  l.add('icmpv6.nd.na.flag.r', flag(v.naRouter));
  l.add('icmpv6.nd.na.flag.s', flag(v.naSolicited));
  l.add('icmpv6.nd.na.flag.o', flag(v.naOverride));
  l.add('icmpv6.nd.na.target_address', formatIpv6(v.buf, v.targetOff));
}

/** Hop-by-hop and destination options (RFC 8200 §4.2): Pad1 is one byte, the rest are TLVs. */
function ipv6Options(b: Uint8Array, start: number, end: number, l: Layer): void {
  let o = start;
  while (o < end) {
    const t = b[o]!;
    l.add('ipv6.opt.type', hex(t, 2));
    if (t === 0) {
      o++;
      continue;
    }
    if (o + 2 > end) return;
    const n = b[o + 1]!;
    l.add('ipv6.opt.length', dec(n));
    if (t === 5 && n === 2) l.add('ipv6.opt.router_alert', dec(u16(b, o + 2)));
    o += 2 + n;
  }
}

/** Bytes of the extension header of type `nh` at `o` (RFC 8200 §4; AH counts 4-byte units, RFC 4302 §2.2). */
function extHeaderLen(nh: number, b: Uint8Array, o: number): number {
  if (nh === IPV6_NH_FRAGMENT) return 8;
  if (nh === IPV6_NH_AH) return (b[o + 1]! + 2) * 4;
  return (b[o + 1]! + 1) * 8;
}

function routingHeader(b: Uint8Array, o: number, n: number, l: Layer): void {
  const type = b[o + 2]!;
  l.add('ipv6.routing.type', dec(type));
  l.add('ipv6.routing.segleft', dec(b[o + 3]!));
  if (type === 2 && n >= 24) {
    l.add('ipv6.routing.mipv6.home_address', formatIpv6(b, o + 8));
  } else if (type === 4) {
    l.add('ipv6.routing.srh.last_entry', dec(b[o + 4]!));
    l.add('ipv6.routing.srh.flags', hex(b[o + 5]!, 2));
    for (let a = o + 8; a + 16 <= o + n; a += 16) l.add('ipv6.routing.srh.addr', formatIpv6(b, a));
  }
}

/**
 * Offset of the address the upper-layer pseudo-header uses for a wrapped packet: the final
 * destination, which a Routing header with segments left names instead of the Destination
 * Address field (RFC 8200 §8.1). Types 0 (RFC 2460) and 2 (RFC 6275 §6.4) carry it last, the
 * Segment Routing Header (RFC 8754 §2) as Segment List[0].
 */
export function ipv6FinalDestinationOff(v: Ipv6View): number {
  const b = v.buf;
  let nh = v.nextHeader;
  let o = v.payloadOff;
  while (o < v.upperOff) {
    const n = extHeaderLen(nh, b, o);
    if (nh === IPV6_NH_ROUTING && b[o + 3]! > 0 && n >= 24) {
      const type = b[o + 2]!;
      if (type === 0 || type === 2) return o + n - 16;
      if (type === 4) return o + 8;
    }
    nh = b[o]!;
    o += n;
  }
  return v.dstOff;
}

const TCP_KIND: Record<Exclude<TcpOption['kind'], 'unknown' | 'malformed'>, number> = {
  eol: 0,
  nop: 1,
  mss: 2,
  wscale: 3,
  'sack-permitted': 4,
  sack: 5,
  timestamps: 8,
};

/** One TCP option (RFC 9293 §3.2, RFC 7323, RFC 2018); malformed bytes are the layer's error. */
function tcpOption(o: TcpOption, l: Layer): void {
  if (o.kind === 'malformed') return;
  const kind = o.kind === 'unknown' ? o.type : TCP_KIND[o.kind];
  l.add('tcp.option_kind', dec(kind));
  switch (o.kind) {
    case 'eol':
      // Wireshark reads the zero padding after End of Option List as more EOL octets.
      for (const byte of o.padding) if (byte === 0) l.add('tcp.option_kind', '0');
      return;
    case 'nop':
      return;
    case 'mss':
      l.add('tcp.option_len', '4');
      l.add('tcp.options.mss_val', dec(o.value));
      return;
    case 'wscale':
      l.add('tcp.option_len', '3');
      l.add('tcp.options.wscale.shift', dec(o.shift));
      l.add('tcp.options.wscale.multiplier', dec(2 ** Math.min(o.shift, 14)));
      return;
    case 'sack-permitted':
      l.add('tcp.option_len', '2');
      return;
    case 'sack':
      l.add('tcp.option_len', dec(2 + 8 * o.blocks.length));
      for (const [left, right] of o.blocks) {
        l.add('tcp.options.sack_le', dec(left));
        l.add('tcp.options.sack_re', dec(right));
      }
      return;
    case 'timestamps':
      l.add('tcp.option_len', '10');
      l.add('tcp.options.timestamp.tsval', dec(o.tsVal));
      l.add('tcp.options.timestamp.tsecr', dec(o.tsEcr));
      return;
    case 'unknown':
      l.add('tcp.option_len', dec(2 + o.data.length));
      return;
  }
}

/** Option value fields Wireshark shows for common DHCP options (RFC 2132, 3046, 3442). */
const DHCP_IPV4_LISTS: Record<number, string> = {
  1: 'subnet_mask',
  3: 'router',
  6: 'domain_name_server',
  28: 'broadcast_address',
  42: 'ntp_server',
  50: 'requested_ip_address',
  54: 'dhcp_server_id',
};
const DHCP_U32: Record<number, string> = {
  51: 'ip_address_lease_time',
  58: 'renewal_time_value',
  59: 'rebinding_time_value',
};
const DHCP_TEXT: Record<number, string> = {
  12: 'hostname',
  15: 'domain_name',
  56: 'message',
  60: 'vendor_class_id',
};

function dhcpOption(b: Uint8Array, code: number, o: number, n: number, l: Layer): void {
  l.add('dhcp.option.type', dec(code));
  l.add('dhcp.option.length', dec(n));
  if (n > 0) l.add('dhcp.option.value', bytesText(b, o, n));
  const p = 'dhcp.option.';
  if (DHCP_IPV4_LISTS[code] && n > 0 && n % 4 === 0) {
    for (let i = 0; i < n; i += 4) l.add(p + DHCP_IPV4_LISTS[code], formatIpv4(u32(b, o + i)));
  } else if (DHCP_U32[code] && n === 4) {
    l.add(p + DHCP_U32[code], dec(u32(b, o)));
  } else if (DHCP_TEXT[code]) {
    l.add(p + DHCP_TEXT[code], text(b, o, n));
  } else if (code === 53 && n === 1) {
    l.add('dhcp.option.dhcp', dec(b[o]!));
  } else if (code === 52 && n === 1) {
    l.add('dhcp.option.option_overload', dec(b[o]!));
  } else if (code === 57 && n === 2) {
    l.add('dhcp.option.dhcp_max_message_size', dec(u16(b, o)));
  } else if (code === 55) {
    for (let i = 0; i < n; i++) l.add('dhcp.option.request_list_item', dec(b[o + i]!));
  } else if (code === 82) {
    relayAgentInfo(b, o, n, l);
  } else if (code === 121) {
    classlessRoutes(b, o, n, l);
  }
}

/** Option 82 sub-options (RFC 3046 §2.0): circuit id, remote id, link selection (RFC 3527). */
function relayAgentInfo(b: Uint8Array, o: number, n: number, l: Layer): void {
  const ri = new RelayAgentInfoView();
  if (ri.wrap(b, o, n) !== WireError.Ok) return;
  const p = 'dhcp.option.agent_information_option';
  for (const s of parseRelayAgentInfo(ri)) {
    const value = bytesText(s.data, 0, s.data.length);
    l.add(`${p}.suboption`, dec(s.code));
    l.add('dhcp.option.suboption_length', dec(s.data.length));
    l.add(`${p}.value`, value);
    if (s.code === 1) l.add(`${p}.agent_circuit_id`, value);
    else if (s.code === 2) l.add(`${p}.agent_remote_id`, value);
    else if (s.code === 5 && s.data.length === 4) l.add(`${p}.link_selection`, formatIpv4(u32(s.data, 0)));
  }
}

/** Option 121 (RFC 3442): each route descriptor's bytes, as Wireshark lists them. */
function classlessRoutes(b: Uint8Array, o: number, n: number, l: Layer): void {
  const r = new ClasslessRouteReader();
  if (r.wrap(b, o, n) !== WireError.Ok) return;
  let at = o;
  while (r.next()) {
    const size = 1 + ((r.prefixLen + 7) >>> 3) + 4;
    l.add('dhcp.option.classless_static_route', bytesText(b, at, size));
    at += size;
  }
}
