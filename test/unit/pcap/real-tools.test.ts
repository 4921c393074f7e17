/**
 * Captures written by the real tools (tcpdump, dumpcap, tshark, editcap, mergecap), generated
 * at test time on loopback, read by ferry and compared field by field with tshark's reading.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/dataplane/wire/bytes.js';
import { type ReadResult, readPath } from './read-helpers.js';

function installed(tool: string): boolean {
  try {
    execFileSync('which', [tool], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const TOOLS = ['tcpdump', 'dumpcap', 'tshark', 'editcap', 'mergecap'] as const;
const missing = TOOLS.filter((t) => !installed(t));
const canCapture = process.getuid?.() === 0;
const skipReason =
  missing.length > 0
    ? `needs ${missing.join(', ')} (not installed)`
    : !canCapture
      ? 'needs root to capture on lo'
      : '';

const COUNT = 6;
const PORT = 20_000 + (process.pid % 20_000);
const FILTER = `udp and port ${PORT}`;

/** Runs a capture tool until it has `COUNT` packets, sending loopback UDP datagrams meanwhile. */
async function capture(cmd: string, args: string[], ready: RegExp): Promise<void> {
  const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const deadline = Date.now() + 15_000;
  await new Promise<void>((resolve) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (ready.test(stderr)) resolve();
    });
    void exited.then(() => resolve());
    setTimeout(resolve, 10_000);
  });
  const sock = createSocket('udp4');
  try {
    // Bounded by count and by time: at most 200 datagrams, all to 127.0.0.1.
    for (let i = 0; i < 200 && !done && Date.now() < deadline; i++) {
      await new Promise<void>((resolve) => sock.send(`ferry-${i}`, PORT, '127.0.0.1', () => resolve()));
      await new Promise((r) => setTimeout(r, 30));
    }
  } finally {
    sock.close();
  }
  if (!done) child.kill('SIGKILL');
  const code = await exited;
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${code}): ${stderr}`);
}

interface TsharkRow {
  time: string;
  len: number;
  capLen: number;
  ifaceId: number;
  ifaceName: string;
  payload: string;
}

function tsharkRows(path: string): TsharkRow[] {
  const out = execFileSync(
    'tshark',
    [
      '-r',
      path,
      '-T',
      'fields',
      '-E',
      'separator=/t',
      '-e',
      'frame.time_epoch',
      '-e',
      'frame.len',
      '-e',
      'frame.cap_len',
      '-e',
      'frame.interface_id',
      '-e',
      'frame.interface_name',
      '-e',
      'data',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return out
    .trimEnd()
    .split('\n')
    .map((line) => {
      const [time, len, capLen, ifaceId, ifaceName, payload] = line.split('\t');
      return {
        time: time!,
        len: Number(len),
        capLen: Number(capLen),
        ifaceId: Number(ifaceId),
        ifaceName: ifaceName!,
        payload: payload ?? '',
      };
    });
}

/** tshark has no interface name for pcap files ("") nor for IDBs without if_name ("unknown"). */
const NO_NAME = '(none)';
const normalName = (name: string | undefined): string =>
  name === undefined || name === '' || name === 'unknown' ? NO_NAME : name;

/**
 * ferry's reading in tshark's terms. The payload is the tail of ferry's bytes as long as the
 * UDP payload tshark decoded, so equal rows mean the packet bytes end the same way.
 */
function ferryRows(r: ReadResult, rows: readonly TsharkRow[]): TsharkRow[] {
  return r.packets.map((p, i) => ({
    time: `${p.tsSec}.${String(p.tsNsec).padStart(9, '0')}`,
    len: p.wireLength,
    capLen: p.data.length,
    ifaceId: p.iface,
    ifaceName: normalName(r.interfaces[p.iface]?.name),
    payload: toHex(p.data, Math.max(0, p.data.length - (rows[i]?.payload.length ?? 0) / 2)),
  }));
}

async function compareWithTshark(file: string): Promise<ReadResult> {
  const path = join(dir, file);
  const r = await readPath(path, file);
  expect(r.error).toBeUndefined();
  const rows = tsharkRows(path).map((row) => ({ ...row, ifaceName: normalName(row.ifaceName) }));
  // Every captured packet is one of ours: a UDP datagram whose payload is "ferry-<n>".
  for (const row of rows) expect(row.payload).toMatch(/^66657272792d[0-9a-f]+$/);
  expect(ferryRows(r, rows)).toEqual(rows);
  return r;
}

let dir = '';

describe.skipIf(skipReason !== '')(
  `captures written by real tools${skipReason ? ` — skipped: ${skipReason}` : ''}`,
  () => {
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'ferry-tools-'));
      // tcpdump drops to its own user after opening the file unless told otherwise; -U writes each packet at once.
      await capture(
        'tcpdump',
        ['-i', 'lo', '-Z', 'root', '-U', '-n', '-c', `${COUNT}`, '-w', join(dir, 'us.pcap'), FILTER],
        /listening on/,
      );
      await capture(
        'tcpdump',
        [
          '-i',
          'lo',
          '-Z',
          'root',
          '-U',
          '-n',
          '--time-stamp-precision=nano',
          '-c',
          `${COUNT}`,
          '-w',
          join(dir, 'ns.pcap'),
          FILTER,
        ],
        /listening on/,
      );
      await capture(
        'dumpcap',
        ['-i', 'lo', '-c', `${COUNT}`, '-f', FILTER, '-w', join(dir, 'dumpcap.pcapng')],
        /Capturing on/,
      );
      await capture(
        'tshark',
        ['-i', 'lo', '-c', `${COUNT}`, '-f', FILTER, '-w', join(dir, 'tshark.pcapng')],
        /Capturing on/,
      );
      const run = (tool: string, ...args: string[]) => execFileSync(tool, args, { stdio: 'ignore' });
      run('editcap', '-F', 'pcapng', join(dir, 'us.pcap'), join(dir, 'from-pcap.pcapng'));
      run('editcap', '-F', 'pcap', join(dir, 'dumpcap.pcapng'), join(dir, 'from-pcapng.pcap'));
      run('editcap', '-F', 'nsecpcap', join(dir, 'dumpcap.pcapng'), join(dir, 'from-pcapng-ns.pcap'));
      // Chop the 14-byte Ethernet header and relabel: genuine raw IP captures (LINKTYPE_IPV4 / LINKTYPE_RAW).
      run('editcap', '-F', 'pcap', '-C', '14', '-T', 'rawip4', join(dir, 'us.pcap'), join(dir, 'raw4.pcap'));
      run(
        'editcap',
        '-F',
        'pcapng',
        '-C',
        '14',
        '-T',
        'rawip',
        join(dir, 'ns.pcap'),
        join(dir, 'raw.pcapng'),
      );
      run(
        'mergecap',
        '-I',
        'none',
        '-F',
        'pcapng',
        '-w',
        join(dir, 'merged.pcapng'),
        join(dir, 'dumpcap.pcapng'),
        join(dir, 'raw.pcapng'),
      );
      run('editcap', '-F', 'modpcap', join(dir, 'us.pcap'), join(dir, 'modified.pcap'));
    }, 90_000);

    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const magic = async (file: string) => toHex(await readFile(join(dir, file)), 0, 4);

    it('tcpdump, microseconds', async () => {
      expect(await magic('us.pcap')).toBe('d4c3b2a1');
      const r = await compareWithTshark('us.pcap');
      expect(r.packets).toHaveLength(COUNT);
      expect(r.interfaces[0]).toMatchObject({ linkType: 1, tsresol: 6 });
      expect(r.packets.every((p) => p.tsNsec % 1000 === 0)).toBe(true);
    });

    it('tcpdump --time-stamp-precision=nano', async () => {
      expect(await magic('ns.pcap')).toBe('4d3cb2a1');
      const r = await compareWithTshark('ns.pcap');
      expect(r.interfaces[0]).toMatchObject({ linkType: 1, tsresol: 9 });
    });

    it('dumpcap and tshark pcapng (if_name "lo", if_tsresol 9, trailing statistics block)', async () => {
      for (const f of ['dumpcap.pcapng', 'tshark.pcapng']) {
        expect(await magic(f)).toBe('0a0d0d0a');
        const r = await compareWithTshark(f);
        expect(r.interfaces.map((i) => [i.name, i.linkType])).toEqual([['lo', 1]]);
      }
    });

    it('editcap conversions between pcap, nanosecond pcap and pcapng', async () => {
      await compareWithTshark('from-pcap.pcapng');
      await compareWithTshark('from-pcapng.pcap');
      const ns = await compareWithTshark('from-pcapng-ns.pcap');
      expect(ns.interfaces[0]!.tsresol).toBe(9);
    });

    it('raw IP captures (editcap -T rawip4 / rawip): link type and family, truncated packets', async () => {
      const v4 = await compareWithTshark('raw4.pcap');
      expect(v4.interfaces[0]).toMatchObject({ linkType: 228, link: { kind: 'raw-ip', ipFamily: 4 } });
      expect(v4.packets.every((p) => p.wireLength === p.data.length + 14 && p.data[0]! >> 4 === 4)).toBe(
        true,
      );
      const raw = await compareWithTshark('raw.pcapng');
      expect(raw.interfaces[0]).toMatchObject({ linkType: 101, link: { kind: 'raw-ip', ipFamily: 0 } });
    });

    it('mergecap -I none: one section, two interfaces, packets on both', async () => {
      const r = await compareWithTshark('merged.pcapng');
      expect(r.interfaces.map((i) => i.linkType)).toEqual([1, 101]);
      expect(new Set(r.packets.map((p) => p.iface))).toEqual(new Set([0, 1]));
    });

    it('modified pcap (editcap -F modpcap) is refused by name', async () => {
      const r = await readPath(join(dir, 'modified.pcap'), 'modified.pcap');
      expect(r.openFailed).toBe(true);
      expect(r.error?.message).toMatch(/^modified\.pcap: bad magic number at byte 0: .*Kuznetzov/);
    });
  },
);
