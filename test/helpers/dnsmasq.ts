/**
 * A real DHCP server for namespace tests: dnsmasq on one interface, no DNS (`--port=0`), its
 * lease file and log in `dir`, options as given. Started through the sandbox, so cleanup stops it.
 */
import { join } from 'node:path';
import type { ResultPromise } from 'execa';
import type { NetnsSandbox } from './netns.js';

export function startDnsmasq(
  sb: NetnsSandbox,
  ns: string,
  iface: string,
  dir: string,
  extra: string[],
  timeoutMs = 300_000,
): ResultPromise {
  return sb.spawn(
    ns,
    'dnsmasq',
    [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--port=0',
      '--user=root',
      `--interface=${iface}`,
      '--bind-interfaces',
      `--pid-file=${join(dir, 'dnsmasq.pid')}`,
      `--dhcp-leasefile=${join(dir, 'dnsmasq.leases')}`,
      '--dhcp-authoritative',
      '--log-dhcp',
      `--log-facility=${join(dir, 'dnsmasq.log')}`,
      ...extra,
    ],
    { timeout: timeoutMs },
  );
}
