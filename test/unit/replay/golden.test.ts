/**
 * Golden replay tests: each case in fixtures/replay/ is replayed with `ferry replay` and every
 * output must match what was reviewed and committed in expected/: each port's capture byte for
 * byte, summary.json, and the trace told as a story. After a deliberate change, regenerate with
 * `npx tsx scripts/golden/update.ts` and review the diff of expected/trace.txt.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { goldenCases, runCase } from '../../../scripts/golden/cases.js';
import { parseCaptureBuffer } from '../../../src/dataplane/pcap/index.js';

const cases = goldenCases();

describe('golden replays', () => {
  it('has cases to run', () => {
    expect(cases.map((c) => c.name).sort()).toEqual(['brouter', 'host-port', 'routing']);
  });

  for (const c of cases) {
    it(`${c.name}: outputs, summary and trace match expected/`, async () => {
      const out = await mkdtemp(join(tmpdir(), `ferry-golden-${c.name}-`));
      try {
        const r = await runCase(c, out);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        const expectedDir = join(c.dir, 'expected');
        const files = (await readdir(expectedDir)).sort();
        expect((await readdir(out)).sort()).toEqual(files);
        for (const f of files) {
          const got = await readFile(join(out, f));
          const want = await readFile(join(expectedDir, f));
          if (f.endsWith('.pcap')) {
            // Compare packet by packet first, for a readable failure.
            const g = [...parseCaptureBuffer(got).packets()].map((p) => Buffer.from(p.data).toString('hex'));
            const w = [...parseCaptureBuffer(want).packets()].map((p) => Buffer.from(p.data).toString('hex'));
            expect(g, `${c.name}/${f}`).toEqual(w);
          } else {
            expect(got.toString(), `${c.name}/${f}`).toBe(want.toString());
          }
          expect(got.equals(want), `${c.name}/${f} byte for byte`).toBe(true);
        }
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    });
  }

  it('host-port: the kernel got the SSH and DNS packets, its replies left eth0, nothing else was lost', async () => {
    const s = JSON.parse(await readFile('fixtures/replay/host-port/expected/summary.json', 'utf8'));
    // host: the proxy-ARP reply for its gateway, the SYN, the ACK, the DNS answer.
    expect(s.ports.host).toMatchObject({ rx: 4, tx: 4 });
    // The only drop: the kernel's first ARP, while the gateway's side was being asked for.
    expect(s.drops).toEqual({ 'arp-not-for-us': 1 });
  });

  it('brouter: what the summary says matches the seed-000 behaviour', async () => {
    const s = JSON.parse(await readFile('fixtures/replay/brouter/expected/summary.json', 'utf8'));
    // The client's traffic reached the ISP router (eth0) and the overlay (tailscale0)...
    expect(s.ports.tailscale0.tx).toBe(2);
    expect(s.ports.eth0.tx).toBeGreaterThanOrEqual(2);
    // ...and every junk frame was dropped and counted by reason.
    expect(s.drops).toMatchObject({
      'eth-truncated': 1,
      'ip4-bad-checksum': 1,
      'ip4-bad-length': 1,
      'eth-not-for-us': 1,
      'ip4-ttl-exceeded': 1,
    });
  });
});
