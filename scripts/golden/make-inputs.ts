/**
 * Writes the input captures of the golden replay cases (fixtures/replay/<case>/in/<port>.pcap).
 * Deterministic: the same bytes every run. Run: `npx tsx scripts/golden/make-inputs.ts`, then
 * `npx tsx scripts/golden/update.ts` to regenerate the expected outputs after a deliberate change.
 */
import { mkdir } from 'node:fs/promises';
import { LINKTYPE_ETHERNET, LINKTYPE_RAW, PcapWriter } from '../../src/dataplane/pcap/index.js';
import { tcp } from '../../test/helpers/classifier-rig.js';
import { arpReply, arpRequest, icmpEcho, ipFrame, udp } from '../../test/helpers/frames.js';

type Frame = [seconds: number, bytes: Uint8Array];

async function write(path: string, frames: Frame[], l2 = true): Promise<void> {
  const w = await PcapWriter.open(path, { linkType: l2 ? LINKTYPE_ETHERNET : LINKTYPE_RAW });
  for (const [t, f] of frames) {
    const sec = Math.floor(t);
    await w.writePacket(f, 1_700_000_000 + sec, Math.round((t - sec) * 1e6) * 1000);
  }
  await w.close();
}

const T0 = 0;

// ---- brouter: examples/brouter.yaml, seed 000 ----
{
  const dir = 'fixtures/replay/brouter/in';
  await mkdir(dir, { recursive: true });
  const ETH0 = '02:00:00:00:00:e0';
  const ETH1 = '02:00:00:00:00:e1';
  const CLIENT = '0a:00:00:00:00:35';
  const ISP = '0a:00:00:00:00:01';
  const junk = ipFrame(ETH1, CLIENT, udp({ src: '192.168.0.53', dst: '192.168.0.1' }, 1, 2));
  const badSum = junk.slice();
  badSum[24]! ^= 0x55;
  const lie = junk.slice();
  lie[17] = 0xff;
  await write(`${dir}/eth1.pcap`, [
    // The client asks for the ISP router: the brouter does not know its side yet and asks eth0.
    [T0 + 0.0, arpRequest(CLIENT, '192.168.0.53', '192.168.0.1')],
    // The client's retry after the ISP router answered on eth0 (see eth0.pcap): proxy reply.
    [T0 + 1.0, arpRequest(CLIENT, '192.168.0.53', '192.168.0.1')],
    // Ping the ISP router through the brouter, then the Jellyfin host over the overlay.
    [T0 + 1.1, ipFrame(ETH1, CLIENT, icmpEcho({ src: '192.168.0.53', dst: '192.168.0.1' }, 1))],
    [T0 + 1.2, ipFrame(ETH1, CLIENT, icmpEcho({ src: '192.168.0.53', dst: '192.168.1.30' }, 2))],
    [
      T0 + 1.3,
      ipFrame(ETH1, CLIENT, udp({ src: '192.168.0.53', dst: '192.168.1.30', df: true }, 50000, 8096, 100)),
    ],
    // A traceroute probe with TTL 1: time exceeded from the brouter.
    [
      T0 + 1.4,
      ipFrame(ETH1, CLIENT, udp({ src: '192.168.0.53', dst: '192.168.1.30', ttl: 1 }, 50001, 33434)),
    ],
    // Ping the brouter itself.
    [T0 + 1.5, ipFrame(ETH1, CLIENT, icmpEcho({ src: '192.168.0.53', dst: '192.168.0.126' }, 3))],
    // Junk: a runt, a bad header checksum, a total-length lie, a frame for another host.
    [T0 + 1.6, junk.subarray(0, 12)],
    [T0 + 1.6, badSum],
    [T0 + 1.6, lie],
    [T0 + 1.6, ipFrame('0a:00:00:00:00:99', CLIENT, udp({ src: '192.168.0.53', dst: '192.168.0.99' }, 1, 2))],
  ]);
  await write(`${dir}/eth0.pcap`, [
    // The ISP router answers the brouter's question from eth0.
    [T0 + 0.2, arpReply(ISP, '192.168.0.1', ETH0, '192.168.0.125')],
    // Its echo reply to the client comes back through the brouter.
    [T0 + 1.15, ipFrame(ETH0, ISP, icmpEcho({ src: '192.168.0.1', dst: '192.168.0.53' }, 1, 56, 0))],
  ]);
  await write(
    `${dir}/tailscale0.pcap`,
    [[T0 + 1.25, icmpEcho({ src: '192.168.1.30', dst: '100.120.7.128' }, 2, 56, 0)]],
    false,
  );
}

// ---- routing: two Ethernet legs and a 1280-byte overlay; fragmentation and ICMP errors ----
{
  const dir = 'fixtures/replay/routing/in';
  await mkdir(dir, { recursive: true });
  const LAN = '02:00:00:00:01:01';
  const HOST = '0a:00:00:00:01:33';
  await write(`${dir}/lan.pcap`, [
    [T0, arpRequest(HOST, '10.1.0.33', '10.1.0.1')],
    [
      T0 + 0.1,
      ipFrame(LAN, HOST, icmpEcho({ src: '10.1.0.33', dst: '172.16.0.9', df: false, id: 0xbeef }, 1, 3000)),
    ],
    [T0 + 0.2, ipFrame(LAN, HOST, icmpEcho({ src: '10.1.0.33', dst: '172.16.0.9', df: true }, 2, 1400))],
    [T0 + 0.3, ipFrame(LAN, HOST, udp({ src: '10.1.0.33', dst: '203.0.113.1' }, 4000, 53))],
    [T0 + 0.4, ipFrame(LAN, HOST, udp({ src: '10.1.0.33', dst: '10.1.0.1' }, 4000, 9))],
    // A host that never answers ARP: three requests, then ICMP host unreachable.
    [T0 + 0.5, ipFrame(LAN, HOST, udp({ src: '10.1.0.33', dst: '10.1.0.99' }, 4001, 9))],
    [T0 + 5.0, ipFrame(LAN, HOST, icmpEcho({ src: '10.1.0.33', dst: '10.1.0.1' }, 3))],
  ]);
}
// ---- host-port: examples/brouter.yaml's host port (ferry0, 192.168.0.125 like eth0), linux-cp style ----
{
  const dir = 'fixtures/replay/host-port/in';
  await mkdir(dir, { recursive: true });
  const ETH0 = '02:00:00:00:00:e0';
  const HOSTP = '02:00:00:00:00:f0'; // ferry's side of the TAP
  const KERNEL = '0a:00:00:00:00:c0'; // the kernel's side
  const ISP = '0a:00:00:00:00:01';
  const BOX = '192.168.0.125';
  const REMOTE = '203.0.113.9';
  await write(`${dir}/host.pcap`, [
    // The kernel resolves its gateway: side unknown at first (ferry asks the legs), then answered.
    [T0 + 0.0, arpRequest(KERNEL, BOX, '192.168.0.1')],
    [T0 + 1.0, arpRequest(KERNEL, BOX, '192.168.0.1')],
    // sshd's SYN-ACK, then a DNS query from the box's resolver.
    [
      T0 + 1.11,
      ipFrame(
        HOSTP,
        KERNEL,
        tcp({ src: BOX, dst: REMOTE }, 22, 40000, { seq: 5000, ack: 1001, flags: 0x12 }),
      ),
    ],
    [T0 + 1.4, ipFrame(HOSTP, KERNEL, udp({ src: BOX, dst: '1.1.1.1' }, 53000, 53, 30))],
  ]);
  await write(`${dir}/eth0.pcap`, [
    // The ISP router answers the question ferry asked on eth0 for the kernel.
    [T0 + 0.1, arpReply(ISP, '192.168.0.1', ETH0, BOX)],
    // SSH to the box from the Internet: SYN, then the ACK of the handshake.
    [T0 + 1.1, ipFrame(ETH0, ISP, tcp({ src: REMOTE, dst: BOX, ttl: 50 }, 40000, 22, { seq: 1000 }))],
    [
      T0 + 1.12,
      ipFrame(
        ETH0,
        ISP,
        tcp({ src: REMOTE, dst: BOX, ttl: 50 }, 40000, 22, { seq: 1001, ack: 5001, flags: 0x10 }),
      ),
    ],
    // A ping of the box: ferry answers it itself.
    [T0 + 1.2, ipFrame(ETH0, ISP, icmpEcho({ src: REMOTE, dst: BOX }, 9))],
    // The ISP router asks for the box's address on eth0: ferry answers (eth0 owns it too).
    [T0 + 1.3, arpRequest(ISP, '192.168.0.1', BOX)],
    // The DNS answer for the box's resolver.
    [T0 + 1.45, ipFrame(ETH0, ISP, udp({ src: '1.1.1.1', dst: BOX }, 53, 53000, 46))],
  ]);
}
console.log('golden inputs written');
