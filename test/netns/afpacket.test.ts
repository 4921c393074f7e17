/**
 * AF_PACKET ports on a veth pair between two namespaces: RX in every ring mode and memory mode
 * (byte-exact, batched, with metadata), frames built by the kernel itself, TX byte-exact as
 * tcpdump sees it, socket options, errors, and open/close without leaking fds or mappings.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PKT_CSUM_NOT_READY } from '../../src/dataplane/batch.js';
import { AfPacketPort, type RxMode, type TxMode } from '../../src/dataplane/io/afpacket-port.js';
import { FerryIoError } from '../../src/dataplane/io/io-error.js';
import { linkInfo, offloadFeatures, setLinkMtu, setLinkUp } from '../../src/dataplane/io/link.js';
import { PACKET_BROADCAST, PACKET_HOST, PACKET_OUTGOING } from '../../src/dataplane/io/port-meta.js';
import { verify } from '../../src/dataplane/wire/checksum.js';
import { NetnsSandbox, needsRoot } from '../helpers/netns.js';
import { batchOf, collect, macBytes, pcapPackets, sleep, testFrame } from './fixtures/frames.js';

const reason = needsRoot('ethtool', 'tcpdump', 'setpriv');

describe.skipIf(reason)('AF_PACKET port (veth pair in two namespaces)', () => {
  const sb = new NetnsSandbox();
  let A = '';
  let B = '';
  let macA: Uint8Array = new Uint8Array(6);
  let macB: Uint8Array = new Uint8Array(6);

  beforeAll(async () => {
    A = await sb.ns();
    B = await sb.ns();
    await sb.veth(A, 'va', B, 'vb');
    macA = macBytes(await sb.mac(A, 'va'));
    macB = macBytes(await sb.mac(B, 'vb'));
  });
  afterAll(() => sb.cleanup());

  /** 300 frames of 60..1514 bytes (some broadcast), sent from vb by a second port. */
  const burst = () =>
    Array.from({ length: 300 }, (_, i) =>
      testFrame(i % 10 === 0 ? new Uint8Array(6).fill(0xff) : macA, macB, i, 60 + ((i * 97) % 1455)),
    );

  for (const rx of ['v2', 'v3', 'mmsg'] as RxMode[]) {
    for (const rxMemory of ['zero-copy', 'copy'] as const) {
      it(`RX ${rx}, ${rxMemory}: injected frames arrive in batches, byte-exact, with metadata`, async () => {
        const port = AfPacketPort.open({
          ifname: 'va',
          netns: A,
          rx,
          rxMemory,
          index: 7,
          ring: { blockTimeoutMs: 2 },
        });
        const inj = AfPacketPort.open({ ifname: 'vb', netns: B });
        try {
          expect(port.rxCopy).toBe(rx === 'mmsg' || rxMemory === 'copy');
          expect(port.mac).toBe(linkInfo('va', { netns: A }).macNumber);
          const frames = burst();
          const got = collect(port, frames.length);
          for (let k = 0; k < 3; k++)
            expect(inj.sendBatch(batchOf(frames.slice(k * 100, k * 100 + 100)))).toBe(100);
          const r = await got;
          expect(r.frames.length).toBe(frames.length);
          r.frames.forEach((f, i) => {
            expect(Buffer.compare(f, frames[i]!), `frame ${i}`).toBe(0);
          });
          const now = Date.now() / 1000;
          r.info.forEach(([wire, flags, portIdx, tsSec, pktType], i) => {
            expect(wire).toBe(frames[i]!.length);
            expect(flags).toBe(0);
            expect(portIdx).toBe(7);
            expect(Math.abs(tsSec! - now)).toBeLessThan(30);
            expect(pktType).toBe(i % 10 === 0 ? PACKET_BROADCAST : PACKET_HOST);
          });
          // one JS call per batch, not per frame
          expect(r.batches).toBeLessThan(frames.length / 4);
          expect(r.maxBatch).toBeLessThanOrEqual(port.batchSize);
          expect(port.stats.rxPackets).toBeGreaterThanOrEqual(frames.length);
        } finally {
          port.close();
          inj.close();
        }
      });
    }
  }

  it('frames built by the kernel arrive intact; a partial checksum is flagged CSUM_NOT_READY', async () => {
    await sb.exec(A, 'ip', ['addr', 'add', '10.77.0.1/24', 'dev', 'va']);
    await sb.exec(B, 'ip', ['addr', 'add', '10.77.0.2/24', 'dev', 'vb']);
    const port = AfPacketPort.open({ ifname: 'va', netns: A, offloads: 'keep' });
    const isUdp9 = (d: Uint8Array, o: number) =>
      d[o + 12] === 8 && d[o + 13] === 0 && d[o + 23] === 17 && d[o + 37] === 9;
    try {
      for (const txCsum of ['on', 'off']) {
        await sb.exec(B, 'ethtool', ['-K', 'vb', 'tx', txCsum]);
        const got = collect(port, 20, 5000, isUdp9);
        // bash's /dev/udp: the kernel builds Ethernet, IPv4 and UDP (ARP first)
        await sb.exec(B, 'bash', [
          '-c',
          'for i in $(seq 1 20); do printf "payload-%02d" $i > /dev/udp/10.77.0.1/9; done',
        ]);
        const r = await got;
        expect(r.frames.length).toBe(20);
        r.frames.forEach((f, i) => {
          expect(verify(f, 14, 20)).toBe(true); // IPv4 header checksum
          expect(Buffer.from(f.subarray(42)).toString()).toBe(`payload-${String(i + 1).padStart(2, '0')}`);
          const flags = r.info[i]![1]!;
          if (txCsum === 'on') {
            expect(flags & PKT_CSUM_NOT_READY).toBe(PKT_CSUM_NOT_READY);
          } else {
            expect(flags & PKT_CSUM_NOT_READY).toBe(0);
            // UDP checksum over pseudo-header + datagram must verify
            const src = (f[26]! << 8) | f[27]!;
            const src2 = (f[28]! << 8) | f[29]!;
            const dst = (f[30]! << 8) | f[31]!;
            const dst2 = (f[32]! << 8) | f[33]!;
            const udpLen = f.length - 34;
            expect(verify(f, 34, udpLen, src + src2 + dst + dst2 + 17 + udpLen)).toBe(true);
          }
        });
      }
    } finally {
      port.close();
      await sb.exec(B, 'ethtool', ['-K', 'vb', 'tx', 'on']);
    }
  });

  for (const tx of ['mmsg', 'ring'] as TxMode[]) {
    it(`TX ${tx}: a batch (slots subset, prepended heads) arrives on the peer byte-exact (tcpdump)`, async () => {
      const port = AfPacketPort.open({ ifname: 'va', netns: A, tx });
      try {
        const frames = Array.from({ length: 120 }, (_, i) =>
          testFrame(macB, macA, 1000 + i, 60 + ((i * 131) % 1455)),
        );
        const batch = batchOf(frames);
        // send the odd slots in reverse order, every fourth with its first 14 bytes as a separate head
        const slots = Uint16Array.from(frames.map((_, i) => i).filter((i) => i % 2 === 1)).reverse();
        const head = new Uint8Array(frames.length * 32);
        const headLen = new Uint8Array(frames.length);
        for (const s of slots) {
          if (s % 4 !== 3) continue;
          head.set(frames[s]!.subarray(0, 14), s * 32);
          headLen[s] = 14;
          batch.offset[s] = batch.offset[s]! + 14;
          batch.length[s] = batch.length[s]! - 14;
        }
        const dump = sb.exec(
          B,
          'tcpdump',
          ['-i', 'vb', '-nn', '-U', '-w', '-', '-c', String(slots.length), 'ether proto 0x88b5'],
          {
            encoding: 'buffer',
            timeout: 15_000,
          },
        );
        await waitListening(dump);
        expect(port.sendBatch(batch, slots, slots.length, { head, headLen })).toBe(slots.length);
        const packets = pcapPackets(new Uint8Array((await dump).stdout as unknown as Buffer));
        expect(packets.length).toBe(slots.length);
        packets.forEach((p, k) => {
          expect(Buffer.compare(p, frames[slots[k]!]!), `slot ${slots[k]}`).toBe(0);
        });
        const st = port.stats;
        expect(st.txPackets).toBe(slots.length);
        expect(st.txErrors + st.txEagain).toBe(0);
        if (tx === 'ring') expect(st.txKicks).toBe(1);
      } finally {
        port.close();
      }
    });
  }

  it('counts bad TX descriptors as errors instead of sending them', () => {
    const port = AfPacketPort.open({ ifname: 'va', netns: A });
    try {
      const b = batchOf([testFrame(macB, macA, 1, 100), testFrame(macB, macA, 2, 100)]);
      b.offset[1] = b.data.length; // points past the data
      expect(port.sendBatch(b)).toBe(1);
      expect(port.stats.txErrors).toBe(1);
      expect(() => port.sendBatch(b, Uint16Array.of(0, 1), 5)).toThrow(/count exceeds/);
    } finally {
      port.close();
    }
  });

  it('ignoreOutgoing hides our own transmissions; without it they show as PACKET_OUTGOING', async () => {
    const quiet = AfPacketPort.open({ ifname: 'va', netns: A });
    const tap = AfPacketPort.open({ ifname: 'va', netns: A, ignoreOutgoing: false });
    try {
      const seen = collect(tap, 5, 2000);
      const own = collect(quiet, 1, 500);
      expect(quiet.sendBatch(batchOf([1, 2, 3, 4, 5].map((i) => testFrame(macB, macA, i, 80))))).toBe(5);
      const r = await seen;
      expect(r.frames.length).toBe(5);
      for (const info of r.info) expect(info[4]).toBe(PACKET_OUTGOING);
      expect((await own).frames.length).toBe(0);
    } finally {
      quiet.close();
      tap.close();
    }
  });

  it('promiscuous membership lasts while the port is open; PACKET_FANOUT splits the traffic', async () => {
    const promiscuity = async () =>
      Number(
        /promiscuity (\d+)/.exec(String((await sb.exec(A, 'ip', ['-d', 'link', 'show', 'va'])).stdout))?.[1],
      );
    const base = await promiscuity();
    const group = 1 + Math.floor(Math.random() * 60000);
    const p1 = AfPacketPort.open({ ifname: 'va', netns: A, fanout: { group, mode: 'lb' } });
    const p2 = AfPacketPort.open({ ifname: 'va', netns: A, fanout: { group, mode: 'lb' }, promisc: false });
    const inj = AfPacketPort.open({ ifname: 'vb', netns: B });
    try {
      expect(await promiscuity()).toBe(base + 1);
      const frames = Array.from({ length: 200 }, (_, i) => testFrame(macA, macB, i, 64));
      const g1 = collect(p1, 200, 1500);
      const g2 = collect(p2, 200, 1500);
      inj.sendBatch(batchOf(frames));
      const [r1, r2] = await Promise.all([g1, g2]);
      const seqs = [...r1.frames, ...r2.frames]
        .map((f) => new DataView(f.buffer).getUint32(14))
        .sort((x, y) => x - y);
      expect(seqs).toEqual(frames.map((_, i) => i));
      expect(r1.frames.length).toBeGreaterThan(0);
      expect(r2.frames.length).toBeGreaterThan(0);
    } finally {
      p1.close();
      p2.close();
      inj.close();
    }
    expect(await promiscuity()).toBe(base);
  });

  it('PACKET_QDISC_BYPASS (opt-in) still delivers', async () => {
    const port = AfPacketPort.open({ ifname: 'va', netns: A, qdiscBypass: true });
    const rx = AfPacketPort.open({ ifname: 'vb', netns: B });
    try {
      const got = collect(rx, 10, 2000);
      port.sendBatch(batchOf(Array.from({ length: 10 }, (_, i) => testFrame(macB, macA, i, 100))));
      expect((await got).frames.length).toBe(10);
    } finally {
      port.close();
      rx.close();
    }
  });

  it("offloads 'off' turns aggregation and checksum offload off on open and restores them when the last port closes", async () => {
    await sb.exec(A, 'ethtool', ['-K', 'va', 'tx', 'on', 'gro', 'on']);
    const first = AfPacketPort.open({ ifname: 'va', netns: A });
    const second = AfPacketPort.open({ ifname: 'va', netns: A });
    try {
      const during = offloadFeatures('va', { netns: A });
      expect(during['rx-gro']!.active).toBe(false);
      expect(during['tx-checksum-ip-generic']!.active).toBe(false);
      expect(first.offloadChange?.previous['rx-gro']).toBe(true);
      first.close();
      expect(offloadFeatures('va', { netns: A })['rx-gro']!.active).toBe(false); // second still open
    } finally {
      first.close();
      second.close();
    }
    const after = offloadFeatures('va', { netns: A });
    expect(after['rx-gro']!.active).toBe(true);
    expect(after['tx-checksum-ip-generic']!.active).toBe(true);
    await sb.exec(A, 'ethtool', ['-K', 'va', 'gro', 'off']);
  });

  it('GSO super-frames: described by the virtio-net header on a vnet port, flagged and warned about otherwise', async () => {
    const vnet = AfPacketPort.open({ ifname: 'va', netns: A, offloads: 'vnet' });
    const keep = AfPacketPort.open({ ifname: 'va', netns: A, offloads: 'keep' });
    const warnings: string[] = [];
    const server = sb.spawn(A, 'iperf3', ['-s', '-1', '-p', '5299']);
    try {
      const isTcp = (d: Uint8Array, o: number) => d[o + 12] === 8 && d[o + 13] === 0 && d[o + 23] === 6;
      const bigV: number[][] = [];
      const bigK: number[] = [];
      vnet.start((b, p) => {
        for (let i = 0; i < b.count; i++) {
          if (!isTcp(b.data, b.offset[i]!) || b.length[i]! <= 1514) continue;
          bigV.push([b.flags[i]!, p.rxMeta[i * 8 + 2]!, p.rxMeta[i * 8 + 4]!, p.rxMeta[i * 8 + 5]!]);
        }
      });
      keep.start(
        (b) => {
          for (let i = 0; i < b.count; i++)
            if (isTcp(b.data, b.offset[i]!) && b.length[i]! > 1514) bigK.push(b.flags[i]!);
        },
        (err) => warnings.push(`${err.code}: ${err.message}`),
      );
      await sleep(300);
      await sb.exec(B, 'iperf3', ['-c', '10.77.0.1', '-p', '5299', '-t', '1', '-l', '64K'], {
        timeout: 20_000,
      });
      await sleep(100);
      expect(bigV.length).toBeGreaterThan(0);
      for (const [flags, gsoType, gsoSize, csumStart] of bigV) {
        expect(flags! & 0x100).toBe(0x100); // PKT_GSO
        expect(gsoType! & 0x7f).toBe(1); // VIRTIO_NET_HDR_GSO_TCPV4
        expect(gsoSize).toBeGreaterThan(500);
        expect(csumStart).toBe(34); // Ethernet + IPv4 header: the TCP checksum is partial
      }
      expect(bigK.length).toBeGreaterThan(0);
      for (const flags of bigK) expect(flags & 0x100).toBe(0x100);
      expect(keep.stats.rxGso).toBeGreaterThan(0);
      expect(warnings.length).toBe(1);
      expect(warnings[0]).toMatch(
        /GSO_WITHOUT_VNET: va received GSO super-frames.*ethtool -K <peer> tx off tso off gso off/,
      );
    } finally {
      vnet.close();
      keep.close();
      server.kill();
    }
  });

  it('a down link is reported (operstate, ENETDOWN once, no busy loop), not fatal; frames flow once it is up', async () => {
    await sb.exec(A, 'ip', ['link', 'set', 'va', 'down']);
    const errors: string[] = [];
    const port = AfPacketPort.open({ ifname: 'va', netns: A });
    const inj = AfPacketPort.open({ ifname: 'vb', netns: B });
    try {
      expect(port.link().operstate).toBe('down');
      port.start(
        () => {},
        (err) => errors.push(err.message),
      );
      await sleep(300);
      expect(errors.length).toBe(1);
      expect(errors[0]).toMatch(/va: socket error ENETDOWN \(the link is down/);
      const st = port.stats;
      expect(st.socketErrors).toBe(1);
      expect(st.wakeups).toBeLessThan(5); // the error was cleared, poll does not spin
      port.stop();
      await sb.exec(A, 'ip', ['link', 'set', 'va', 'up']);
      await sleep(100);
      expect(port.link().operstate).toBe('up');
      const got = collect(port, 10, 3000);
      inj.sendBatch(batchOf(Array.from({ length: 10 }, (_, i) => testFrame(macA, macB, i, 70))));
      expect((await got).frames.length).toBe(10);
    } finally {
      port.close();
      inj.close();
    }
  });

  it('link facts and control: MTU, admin state, operstate, MAC', async () => {
    const before = linkInfo('vb', { netns: B });
    expect(before.mac).toBe(await sb.mac(B, 'vb'));
    expect(before.macNumber).toBe(Number.parseInt(before.mac!.replace(/:/g, ''), 16));
    expect(before.hwType).toBe(1);
    try {
      setLinkMtu('vb', 1400, { netns: B });
      setLinkUp('vb', false, { netns: B });
      const down = linkInfo('vb', { netns: B });
      expect(down.mtu).toBe(1400);
      expect(down.up).toBe(false);
      expect(down.operstate).toBe('down');
      expect(String((await sb.exec(B, 'ip', ['link', 'show', 'vb'])).stdout)).toMatch(
        /mtu 1400 .*state DOWN/,
      );
      expect(() => setLinkMtu('vb', 20, { netns: B })).toThrow(/mtu must be an integer in \[68, 65535\]/);
    } finally {
      setLinkMtu('vb', before.mtu, { netns: B });
      setLinkUp('vb', true, { netns: B });
    }
    await sleep(50);
    expect(linkInfo('vb', { netns: B })).toMatchObject({ mtu: before.mtu, up: true, operstate: 'up' });
  });

  it('errors name the problem and the fix: missing interface, missing privilege, closed port', async () => {
    expect(() => AfPacketPort.open({ ifname: 'nosuch0', netns: A })).toThrow(
      new RegExp(
        `interface nosuch0 does not exist in network namespace ${A}; list the interfaces with \`ip -n ${A} link\``,
      ),
    );
    expect(() => AfPacketPort.open({ ifname: 'va', netns: 'fy-no-such-ns' })).toThrow(
      /network namespace fy-no-such-ns does not exist \(see `ip netns list`\)/,
    );
    // the same open without CAP_NET_RAW / CAP_NET_ADMIN, in a child process
    const child = await execa(
      'setpriv',
      [
        '--bounding-set=-net_raw,-net_admin',
        '--inh-caps=-net_raw,-net_admin',
        process.execPath,
        '--import',
        'tsx',
        'test/netns/fixtures/open-port.ts',
        'va',
        A,
      ],
      { reject: false, timeout: 30_000 },
    );
    const out = JSON.parse(String(child.stdout).trim().split('\n').pop()!);
    expect(out.code).toBe('EPERM');
    expect(out.message).toBe(
      'ferry needs CAP_NET_RAW and CAP_NET_ADMIN to open va in network namespace ' +
        `${A} (run as root or \`setcap cap_net_raw,cap_net_admin+ep $(command -v node)\`)`,
    );
    const port = AfPacketPort.open({ ifname: 'va', netns: A });
    port.close();
    port.close(); // idempotent
    expect(port.rx.data.byteLength).toBe(0); // the ring's ArrayBuffer was detached before munmap
    expect(() => port.sendBatch(batchOf([testFrame(macB, macA, 0, 60)]))).toThrow(FerryIoError);
  });

  it('ports dropped without close() are finalized: fds closed, rings unmapped', async () => {
    const r = await execa(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', 'test/netns/fixtures/gc-ports.ts', 'va', A],
      {
        timeout: 60_000,
      },
    );
    const m = JSON.parse(String(r.stdout).trim().split('\n').pop()!);
    expect(m.mapsWhileOpen - m.mapsBefore).toBe(20); // the rings were there
    expect(m.fdsAfter).toBe(m.fdsBefore);
    expect(m.mapsAfter).toBe(m.mapsBefore); // and are all unmapped
  });

  it('open/close cycles in every mode leak no fds and no mappings', () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    // a ring mapping shows in /proc/self/maps as "socket:[inode]"
    const maps = () =>
      readFileSync('/proc/self/maps', 'utf8')
        .split('\n')
        .filter((l) => l.includes('socket:[')).length;
    const modes: [RxMode, TxMode, 'zero-copy' | 'copy'][] = [];
    for (const rx of ['v2', 'v3', 'mmsg'] as RxMode[])
      for (const tx of ['ring', 'mmsg'] as TxMode[])
        for (const m of ['zero-copy', 'copy'] as const) modes.push([rx, tx, m]);
    const cycle = (n: number) => {
      for (let i = 0; i < n; i++) {
        const [rx, tx, rxMemory] = modes[i % modes.length]!;
        const p = AfPacketPort.open({ ifname: 'va', netns: A, rx, tx, rxMemory, offloads: 'keep' });
        p.start(() => {});
        p.close();
      }
    };
    cycle(modes.length * 2); // warm-up: JIT, heap pages
    const fd0 = fds();
    const map0 = maps();
    cycle(modes.length * 10); // 120 ports, each with an 8 MiB ring mapping
    expect(fds()).toBe(fd0);
    expect(maps()).toBe(map0);
  });
});

/** Resolves once tcpdump says it is capturing (it prints "listening on" to stderr). */
function waitListening(p: ReturnType<NetnsSandbox['exec']>): Promise<void> {
  return new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error('tcpdump did not start')), 10_000);
    p.stderr?.on('data', (d: Buffer) => {
      if (String(d).includes('listening on')) {
        clearTimeout(t);
        ok();
      }
    });
  });
}
