/**
 * Codec micro-benchmarks (issue: foundation): full header decode of Ethernet + IPv4 + UDP/TCP,
 * and the RFC 1624 incremental checksum updates NAT performs, for 64- and 1500-byte frames.
 * Run: `npm run bench:wire`. Prints a Markdown table; "GCs during timing" = 0 shows the path
 * allocates nothing per packet.
 */
import '../src/dataplane/v8-tuning.js';
import { setU16 } from '../src/dataplane/wire/bytes.js';
import { checksum, pseudoSumV4, verify } from '../src/dataplane/wire/checksum.js';
import { ETHERTYPE_IPV4, EthernetView } from '../src/dataplane/wire/ethernet.js';
import { IP_PROTO_TCP, IP_PROTO_UDP, Ipv4View } from '../src/dataplane/wire/ipv4.js';
import { TcpView } from '../src/dataplane/wire/tcp.js';
import { UdpView } from '../src/dataplane/wire/udp.js';
import { bench, table } from './harness.js';

/** Builds an Ethernet/IPv4/{UDP,TCP} frame of `size` bytes with valid checksums. */
function frame(size: number, proto: number): Uint8Array {
  const f = new Uint8Array(size);
  f.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
  const ip = 14;
  const l4len = size - ip - 20;
  f.set([0x45, 0, (size - ip) >> 8, (size - ip) & 255, 0x12, 0x34, 0x40, 0, 64, proto, 0, 0], ip);
  f.set([192, 168, 0, 3, 192, 168, 1, 30], ip + 12); // above 2^31: not small integers
  setU16(f, ip + 10, checksum(f, ip, 20));
  const l4 = ip + 20;
  for (let i = l4; i < size; i++) f[i] = i & 0xff;
  setU16(f, l4, 40000);
  setU16(f, l4 + 2, proto === IP_PROTO_UDP ? 5201 : 443);
  if (proto === IP_PROTO_UDP) {
    setU16(f, l4 + 4, l4len);
    setU16(f, l4 + 6, 0);
    setU16(f, l4 + 6, checksum(f, l4, l4len, pseudoSumV4(0xc0a80003, 0xc0a8011e, proto, l4len)));
  } else {
    f[l4 + 12] = 0x50;
    f[l4 + 13] = 0x18;
    setU16(f, l4 + 16, 0);
    setU16(f, l4 + 16, checksum(f, l4, l4len, pseudoSumV4(0xc0a80003, 0xc0a8011e, proto, l4len)));
  }
  return f;
}

const eth = new EthernetView();
const ip4 = new Ipv4View();
const udp = new UdpView();
const tcp = new TcpView();

const MY_MAC = 0x020000000002;
/** Where a stage would put the decoded 5-tuple (the pipeline's per-packet metadata arrays). */
const tuple = new Uint32Array(5);

/**
 * Everything a forwarding/NAT decision reads: destination MAC against the port's, EtherType, the
 * IPv4 header checks of wrap(), TTL, and the 5-tuple stored into typed arrays.
 */
function decode(f: Uint8Array, iterations: number): number {
  let ok = 0;
  for (let i = 0; i < iterations; i++) {
    if (eth.wrap(f, 0, f.length) !== 0 || eth.etherType !== ETHERTYPE_IPV4) continue;
    if (eth.dst !== MY_MAC && !eth.isMulticastDst) continue;
    if (ip4.wrap(f, eth.payloadOff, eth.payloadLen) !== 0 || ip4.ttl <= 1) continue;
    const proto = ip4.protocol;
    tuple[0] = ip4.src;
    tuple[1] = ip4.dst;
    tuple[4] = proto;
    if (proto === IP_PROTO_UDP) {
      if (udp.wrap(f, ip4.payloadOff, ip4.payloadLen) !== 0) continue;
      tuple[2] = udp.srcPort;
      tuple[3] = udp.dstPort;
    } else if (proto === IP_PROTO_TCP) {
      if (tcp.wrap(f, ip4.payloadOff, ip4.payloadLen) !== 0) continue;
      tuple[2] = tcp.srcPort;
      tuple[3] = tcp.dstPort;
    }
    ok++;
  }
  return ok;
}

/** Masquerade's rewrite: source address + port, IPv4 and L4 checksums patched per RFC 1624; TTL decrement. */
function natRewrite(f: Uint8Array, iterations: number): number {
  let acc = 0;
  eth.wrap(f, 0, f.length);
  ip4.wrap(f, 14, f.length - 14);
  const isUdp = ip4.protocol === IP_PROTO_UDP;
  if (isUdp) udp.wrap(f, 34, f.length - 34);
  else tcp.wrap(f, 34, f.length - 34);
  const csumOff = 34 + (isUdp ? 6 : 16);
  for (let i = 0; i < iterations; i++) {
    const newSrc = (0x64780780 + (i & 1)) >>> 0;
    ip4.rewriteSrc(newSrc, csumOff, isUdp);
    if (isUdp) udp.setSrcPort(40000 + (i & 1));
    else tcp.setSrcPort(40000 + (i & 1));
    acc += ip4.decrementTtl();
    f[14 + 8] = 64; // keep TTL from running out (the checksum drift is irrelevant here)
  }
  return acc;
}

/** For scale: a full (non-incremental) verify of the L4 checksum. */
function fullVerify(f: Uint8Array, iterations: number): number {
  let acc = 0;
  const l4len = f.length - 34;
  for (let i = 0; i < iterations; i++) {
    if (verify(f, 34, l4len, pseudoSumV4(0xc0a80003, 0xc0a8011e, f[23]!, l4len))) acc++;
  }
  return acc;
}

const rows = [];
for (const size of [64, 1500]) {
  const u = frame(size, IP_PROTO_UDP);
  const t = frame(size, IP_PROTO_TCP);
  rows.push(await bench(`decode eth+ipv4+udp, ${size} B`, (n) => decode(u, n)));
  rows.push(await bench(`decode eth+ipv4+tcp, ${size} B`, (n) => decode(t, n)));
  rows.push(
    await bench(`NAT rewrite src+port+TTL (RFC 1624), udp ${size} B`, (n) => natRewrite(u.slice(), n)),
  );
  rows.push(
    await bench(`NAT rewrite src+port+TTL (RFC 1624), tcp ${size} B`, (n) => natRewrite(t.slice(), n)),
  );
  rows.push(
    await bench(`full L4 checksum verify, udp ${size} B`, (n) => fullVerify(u, n), {
      inner: size > 100 ? 100_000 : 1_000_000,
    }),
  );
}
console.log(`## wire codecs — node ${process.version}, ${new Date().toISOString()}\n`);
console.log(table(rows));
