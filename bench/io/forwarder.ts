/**
 * A minimal ferry forwarder on the native I/O addon, for `npm run bench:io`: the same job as
 * ../shared/baseline/afp_fwd.c, all packet logic in TypeScript.
 *
 * Between ports A (client side) and B (server side), per IPv4 frame addressed to our MAC:
 * rewrite the Ethernet addresses (static next-hop MACs), decrement the TTL with the incremental
 * header-checksum update of RFC 1624 (as Linux ip_decrease_ttl does), and apply a static 1:1
 * source NAT IN <-> OUT with RFC 1624 updates of the IPv4 and TCP/UDP checksums. Frames from a
 * vnet port with a partial checksum (CHECKSUM_PARTIAL: the field holds the pseudo-header sum,
 * not its complement) get the pseudo-header update instead, and keep their offload state.
 *
 * usage: forwarder.ts --a IFA --b IFB --mac-a NEXTHOP_MAC_A --mac-b NEXTHOP_MAC_B
 *                     [--snat IN,OUT] [--rx v2|v3|mmsg] [--tx ring|mmsg] [--offloads off|vnet]
 *                     [--rx-memory zero-copy|copy] [--qdisc-bypass] [--secs N]
 * Prints one JSON line with counters and CPU time on exit (SIGTERM / SIGINT / --secs).
 */
import { parseArgs } from 'node:util';
import type { PacketBatch } from '../../src/dataplane/batch.js';
import { PKT_CSUM_NOT_READY } from '../../src/dataplane/batch.js';
import {
  AfPacketPort,
  type OffloadMode,
  type RxMode,
  type TxMode,
} from '../../src/dataplane/io/afpacket-port.js';
import type { NativePort } from '../../src/dataplane/io/native-port.js';
import { csumReplace16, csumReplace32 } from '../../src/dataplane/wire/checksum.js';

const { values } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    'mac-a': { type: 'string' },
    'mac-b': { type: 'string' },
    snat: { type: 'string' },
    rx: { type: 'string' },
    tx: { type: 'string' },
    offloads: { type: 'string', default: 'off' },
    'rx-memory': { type: 'string', default: 'zero-copy' },
    'qdisc-bypass': { type: 'boolean', default: false },
    secs: { type: 'string', default: '600' },
  },
});
if (!values.a || !values.b || !values['mac-a'] || !values['mac-b']) {
  console.error(
    'usage: forwarder.ts --a IFA --b IFB --mac-a MAC --mac-b MAC [--snat IN,OUT] [--rx] [--tx] [--offloads]',
  );
  process.exit(2);
}

const macBytes = (s: string) => Uint8Array.from(s.split(':').map((h) => Number.parseInt(h, 16)));
const ip4 = (s: string) => s.split('.').reduce((a, x) => ((a << 8) | Number(x)) >>> 0, 0);

const common = {
  rx: values.rx as RxMode | undefined, // undefined: the port's default for the offload mode
  tx: values.tx as TxMode | undefined,
  offloads: values.offloads as OffloadMode,
  rxMemory: values['rx-memory'] as 'zero-copy' | 'copy',
  qdiscBypass: values['qdisc-bypass'],
};
const portA = AfPacketPort.open({ ifname: values.a, ...common, index: 0 });
const portB = AfPacketPort.open({ ifname: values.b, ...common, index: 1 });

interface Side {
  port: AfPacketPort;
  /** Our MAC on this side, as bytes. */
  mac: Uint8Array;
  /** Next hop reached through this side. */
  peer: Uint8Array;
  out: Uint16Array;
  forwarded: number;
  filtered: number;
}
const side = (port: AfPacketPort, peer: string): Side => ({
  port,
  mac: macBytes(port.link().mac ?? '00:00:00:00:00:00'),
  peer: macBytes(peer),
  out: new Uint16Array(port.batchSize),
  forwarded: 0,
  filtered: 0,
});
const A = side(portA, values['mac-a']);
const B = side(portB, values['mac-b']);

let snat = false;
let snatIn = 0;
let snatOut = 0;
if (values.snat) {
  const [i, o] = values.snat.split(',');
  snat = true;
  snatIn = ip4(i!);
  snatOut = ip4(o!);
}

const rd16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const wr16 = (b: Uint8Array, o: number, v: number) => {
  b[o] = v >>> 8;
  b[o + 1] = v & 0xff;
};
const rd32 = (b: Uint8Array, o: number) =>
  ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** Rewrites frame i in place; false = not ours to forward. dir 0: A->B (SNAT src), 1: B->A (dst). */
function rewrite(batch: PacketBatch, i: number, s: Side, o: Side, dir: number): boolean {
  const b = batch.data;
  const f = batch.offset[i]!;
  const len = batch.length[i]!;
  if (len < 34) return false;
  const m = s.mac;
  if (
    b[f] !== m[0] ||
    b[f + 1] !== m[1] ||
    b[f + 2] !== m[2] ||
    b[f + 3] !== m[3] ||
    b[f + 4] !== m[4] ||
    b[f + 5] !== m[5]
  )
    return false;
  if (b[f + 12] !== 0x08 || b[f + 13] !== 0x00) return false;
  const ip = f + 14;
  if (b[ip]! >> 4 !== 4) return false;
  const ihl = (b[ip]! & 15) * 4;
  if (ihl < 20 || len < 14 + ihl || b[ip + 8]! <= 1) return false;
  b.set(o.peer, f);
  b.set(o.mac, f + 6);
  // TTL-- : the 16-bit word TTL|protocol drops by 0x0100 (RFC 1624 eqn. 3)
  const ttlWord = rd16(b, ip + 8);
  wr16(b, ip + 10, csumReplace16(rd16(b, ip + 10), ttlWord, ttlWord - 0x0100));
  b[ip + 8] = b[ip + 8]! - 1;
  if (!snat) return true;
  const a = ip + (dir === 0 ? 12 : 16);
  const from = dir === 0 ? snatIn : snatOut;
  const to = dir === 0 ? snatOut : snatIn;
  if (rd32(b, a) !== from) return true;
  wr16(b, ip + 10, csumReplace32(rd16(b, ip + 10), from, to));
  if ((rd16(b, ip + 6) & 0x1fff) === 0) {
    const l4 = ip + ihl;
    const proto = b[ip + 9];
    const at =
      proto === 6 && len >= 14 + ihl + 18 ? l4 + 16 : proto === 17 && len >= 14 + ihl + 8 ? l4 + 6 : -1;
    if (at >= 0) {
      const c = rd16(b, at);
      if (batch.flags[i]! & PKT_CSUM_NOT_READY) {
        // partial checksum: the field is the folded pseudo-header sum itself
        wr16(b, at, ~csumReplace32(~c & 0xffff, from, to) & 0xffff);
      } else if (proto === 6 || c !== 0) {
        const n = csumReplace32(c, from, to);
        wr16(b, at, proto === 17 && n === 0 ? 0xffff : n); // RFC 768: 0 means "no checksum"
      }
    }
  }
  b[a] = to >>> 24;
  b[a + 1] = (to >>> 16) & 0xff;
  b[a + 2] = (to >>> 8) & 0xff;
  b[a + 3] = to & 0xff;
  return true;
}

const vnet = common.offloads === 'vnet';
function forward(s: Side, o: Side, dir: number) {
  return (batch: PacketBatch, port: NativePort) => {
    const out = s.out;
    let k = 0;
    for (let i = 0; i < batch.count; i++) {
      if (rewrite(batch, i, s, o, dir)) out[k++] = i;
      else s.filtered++;
    }
    if (k) s.forwarded += o.port.sendBatch(batch, out, k, vnet ? { meta: port.rxMeta } : undefined);
  };
}

portA.start(forward(A, B, 0));
portB.start(forward(B, A, 1));
console.error(
  `ferry forwarder: ${values.a}<->${values.b} rx=${portA.rxMode} tx=${portA.txMode} offloads=${common.offloads} ` +
    `rx-memory=${portA.rxCopy ? 'copy' : 'zero-copy'} pid=${process.pid}`,
);

function done(): void {
  const cpu = process.cpuUsage();
  const report = {
    a: { forwarded: A.forwarded, filtered: A.filtered, ...portA.stats },
    b: { forwarded: B.forwarded, filtered: B.filtered, ...portB.stats },
    cpuUser: cpu.user / 1e6,
    cpuSys: cpu.system / 1e6,
  };
  portA.close();
  portB.close();
  console.log(JSON.stringify(report));
  process.exit(0);
}
setTimeout(done, Number(values.secs) * 1000).unref();
process.on('SIGTERM', done);
process.on('SIGINT', done);
