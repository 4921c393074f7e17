/**
 * What `ferry run` changes in the kernel besides opening sockets, and how each change is undone:
 * the host port's TAP (its addresses, link state and default routes) and the sysctls that keep
 * the kernel quiet on the NICs ferry owns. Every change is recorded in a `HostChanges` journal as
 * it is made; `undoAll` walks it back newest first at exit, or when startup fails half-way, so
 * ferry leaves the box as it found it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { FerryIoError } from '../../dataplane/io/io-error.js';
import { setLinkUp } from '../../dataplane/io/link.js';
import { TunPort } from '../../dataplane/io/tun-port.js';
import { formatMac, setU48, u48 } from '../../dataplane/wire/bytes.js';
import { formatAddress, formatPrefix } from '../config/net.js';
import type { PortConfig } from '../config/types.js';
import type { Logger } from '../log.js';

/** A startup failure with a one-line message that says what to do. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

interface HostChange {
  readonly what: string;
  readonly undo: () => void | Promise<void>;
}

export class HostChanges {
  readonly #done: HostChange[] = [];

  /** Records a change just made, with how to take it back. */
  record(what: string, undo: () => void | Promise<void>): void {
    this.#done.push({ what, undo });
  }

  get size(): number {
    return this.#done.length;
  }

  /** Undoes every change, newest first; a failure is logged and the rest still run. */
  async undoAll(log: Logger): Promise<void> {
    for (let c = this.#done.pop(); c; c = this.#done.pop()) {
      try {
        await c.undo();
        log.debug({ change: c.what }, 'undone');
      } catch (err) {
        log.warn({ change: c.what, err: (err as Error).message }, 'could not undo a change');
      }
    }
  }
}

/** Runs `ip …`; a failure becomes a StartupError quoting the command and iproute2's words. */
export async function ip(args: readonly string[]): Promise<void> {
  const r = await execa('ip', args, { reject: false, timeout: 10_000 });
  if (!r.failed) return;
  const cmd = `ip ${args.join(' ')}`;
  if (r.code === 'ENOENT') {
    throw new StartupError(`${cmd}: the ip command is missing (install iproute2)`);
  }
  const said = String(r.stderr).trim().split('\n')[0] || String(r.shortMessage);
  const hint = /Operation not permitted/.test(said)
    ? ' (ferry needs CAP_NET_ADMIN: run it as root)'
    : /File exists/.test(said) && args.includes('route')
      ? ' (the kernel already has this route: remove it, the host port gives the kernel its default route)'
      : '';
  throw new StartupError(`${cmd}: ${said}${hint}`);
}

/** `net.ipv4.conf.<dev>.<key>` as sysctl(8) spells it (a dot in the device name becomes "/"). */
export function confKey(dev: string, key: string): string {
  return `net.ipv4.conf.${dev.replaceAll('.', '/')}.${key}`;
}

function confPath(dev: string, key: string): string {
  return `/proc/sys/net/ipv4/conf/${dev}/${key}`;
}

/** Reads an IPv4 sysctl by its /proc/sys path; null when it does not exist. */
export function readSysctl(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

export function readConf(dev: string, key: string): string | null {
  return readSysctl(confPath(dev, key));
}

function writeConf(dev: string, key: string, value: string): void {
  try {
    writeFileSync(confPath(dev, key), value);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied (run ferry as root)'
        : code === 'EROFS'
          ? '/proc/sys is read-only here (a container without CAP_SYS_ADMIN?)'
          : code === 'ENOENT'
            ? `no interface ${dev}`
            : (err as Error).message;
    throw new StartupError(`cannot set ${confKey(dev, key)}=${value}: ${why}`);
  }
}

/** Sets `net.ipv4.conf.<dev>.<key>` and records how to put the previous value back. */
export function setConf(changes: HostChanges, dev: string, key: string, value: string, log: Logger): void {
  const before = readConf(dev, key);
  if (before === value) return;
  writeConf(dev, key, value);
  log.info({ sysctl: confKey(dev, key), from: before, to: value }, 'sysctl set');
  if (before !== null) changes.record(`${confKey(dev, key)}=${value}`, () => writeConf(dev, key, before));
}

/**
 * The kernel must not answer on a NIC ferry owns (the host port's addresses are also ferry's, on
 * the NIC's MAC, and Linux's weak host model would answer for them on any interface): never
 * answer ARP there (arp_ignore 8) and drop what arrives there for its addresses, whose sources
 * it routes through the TAP (strict reverse-path filter, RFC 3704 §2.2).
 */
export function quietKernelOn(changes: HostChanges, dev: string, log: Logger): void {
  setConf(changes, dev, 'arp_ignore', '8', log);
  setConf(changes, dev, 'rp_filter', '1', log);
}

/**
 * ferry's side of a TAP it created: the configured `mac`, else the kernel side's MAC with the
 * last bit flipped: the two ends of the TAP must differ, or the kernel would take ferry's frames
 * for its own.
 */
export function ferrySideMac(p: PortConfig, kernelMac: number): number {
  if (p.mac) return u48(p.mac, 0);
  return kernelMac % 2 === 0 ? kernelMac + 1 : kernelMac - 1;
}

function macText(mac: number): string {
  const b = new Uint8Array(6);
  setU48(b, 0, mac);
  return formatMac(b);
}

/** Opens a TAP (or TUN) ferry creates; the device must not exist yet (it is removed at exit). */
export function createTunTap(p: PortConfig, type: 'tun' | 'tap', up: boolean): TunPort {
  try {
    return TunPort.open({ name: p.device, type, exclusive: true, mtu: p.mtu, up, index: p.index });
  } catch (err) {
    if (err instanceof FerryIoError && err.code === 'EBUSY') {
      const attach = p.kind === 'host' ? '' : ', or set attach: true to use it';
      throw new StartupError(
        `port ${p.name}: device ${p.device} already exists and ferry creates it: pick another device name or remove it (\`ip link del ${p.device}\`)${attach}`,
      );
    }
    throw err;
  }
}

/**
 * The host port: a TAP whose kernel side carries the box's addresses, up, with a default route
 * through ferry per family (`via` each configured gateway, else `dev <tap>`). ferry's side gets
 * a MAC of its own (ferrySideMac).
 */
export async function setUpHostPort(p: PortConfig, changes: HostChanges, log: Logger): Promise<TunPort> {
  const tap = createTunTap(p, 'tap', false);
  changes.record(`TAP ${p.device}`, () => tap.close());
  const kernelMac = tap.mac;
  setLinkUp(tap.name, true);
  for (const a of p.addresses) {
    const cidr = formatPrefix(a);
    await ip(['addr', 'add', cidr, 'dev', tap.name]);
    changes.record(`address ${cidr} on ${tap.name}`, () => ip(['addr', 'del', cidr, 'dev', tap.name]));
  }
  const routes: string[][] = [];
  for (const g of p.gateways)
    routes.push([`-${g.family}`, 'route', 'add', 'default', 'via', formatAddress(g)]);
  if (p.gateways.length === 0) {
    for (const fam of new Set(p.addresses.map((a) => a.family)))
      routes.push([`-${fam}`, 'route', 'add', 'default']);
  }
  for (const r of routes) {
    const args = [...r, 'dev', tap.name];
    await ip(args);
    const del = args.map((w) => (w === 'add' ? 'del' : w));
    changes.record(args.slice(1).join(' '), () => ip(del));
  }
  tap.mac = ferrySideMac(p, kernelMac);
  log.info(
    {
      port: p.name,
      device: tap.name,
      addresses: p.addresses.map(formatPrefix),
      gateways: p.gateways.map(formatAddress),
      kernelMac: macText(kernelMac),
      ferryMac: macText(tap.mac),
    },
    'host port up',
  );
  return tap;
}
