import { beforeEach, describe, expect, it } from 'vitest';
import { startWireguardGo } from '../../../src/control/overlay/wireguard-go.js';
import { FakeHost, memoryLog } from './fake-host.js';

const LIMITS = { readyMs: 200, termMs: 60, killMs: 60 };

let host: FakeHost;
let log: ReturnType<typeof memoryLog>;

beforeEach(() => {
  host = new FakeHost();
  log = memoryLog();
});

describe('supervising wireguard-go', () => {
  it('runs it in the foreground and is ready once the socket and the link exist', async () => {
    const p = await startWireguardGo(host, 'fywg0', log, LIMITS);
    expect(host.calls[0]).toEqual({
      cmd: 'wireguard-go',
      args: ['fywg0'],
      env: { WG_PROCESS_FOREGROUND: '1' },
    });
    expect(host.lines()).toEqual([
      'wireguard-go fywg0',
      'ip link show dev fywg0',
      'wg show fywg0 listen-port',
    ]);
    expect(p.running()).toBe(true);
    await p.stop();
    expect(p.running()).toBe(false);
    expect(host.daemons[0]!.signals).toEqual(['SIGTERM']);
  });

  it('does not take a stale socket of a killed wireguard-go for readiness', async () => {
    host.sockets.add('/var/run/wireguard/fywg0.sock');
    host.wgShowRefusals = 2;
    await startWireguardGo(host, 'fywg0', log, LIMITS);
    expect(host.lines().filter((l) => l.startsWith('wg show'))).toHaveLength(3);
  });

  it('SIGKILL when SIGTERM is ignored past the limit', async () => {
    host.daemonStubborn = 'term';
    const p = await startWireguardGo(host, 'fywg0', log, LIMITS);
    await p.stop();
    expect(host.daemons[0]!.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(log.entries.at(-1)).toMatchObject({
      level: 'warn',
      msg: 'wireguard-go ignored SIGTERM for 60 ms; SIGKILL',
    });
    await p.stop();
    expect(host.daemons[0]!.signals).toEqual(['SIGTERM', 'SIGKILL']);
  });

  it('says so when even SIGKILL does not end it', async () => {
    host.daemonStubborn = 'all';
    const p = await startWireguardGo(host, 'fywg0', log, LIMITS);
    await expect(p.stop()).rejects.toThrow(
      'wireguard-go for fywg0 (pid 4242) is still running after SIGKILL',
    );
  });

  it('gives up after the ready limit and stops what it started', async () => {
    host.daemonHangs = true;
    const t0 = Date.now();
    await expect(startWireguardGo(host, 'fywg0', log, LIMITS)).rejects.toThrow(
      'wireguard-go for fywg0 was not ready within 200 ms (no /var/run/wireguard/fywg0.sock or no link fywg0)',
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(host.daemons[0]!.hasExited()).toBe(true);
    expect(host.links.size).toBe(0);
  });

  it('logs an unexpected exit as a warning; a stop is not one', async () => {
    const p = await startWireguardGo(host, 'fywg0', log, LIMITS);
    host.daemons[0]!.exit({ exitCode: null, signal: 'SIGSEGV' });
    await host.daemons[0]!.exited;
    expect(p.running()).toBe(false);
    expect(log.entries.at(-1)).toMatchObject({
      level: 'warn',
      fields: { interface: 'fywg0', pid: 4242, signal: 'SIGSEGV' },
      msg: 'wireguard-go for fywg0 exited (killed by SIGSEGV): the overlay is down',
    });
    await p.stop();
    expect(host.daemons[0]!.signals).toEqual([]);
  });
});
