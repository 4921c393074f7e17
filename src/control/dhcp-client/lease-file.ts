/**
 * A lease on disk: one JSON file per port (written to a temporary name and renamed, so a crash
 * leaves the old file or the new one). Read back at start for INIT-REBOOT (RFC 2131 §3.2).
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { formatIpv4, parseIpv4 } from '../../dataplane/wire/bytes.js';
import type { Lease } from './client.js';
import type { LeaseRoute } from './messages.js';

/** Where leases live unless configured: $FERRY_STATE_DIR, else /var/lib/ferry. */
export function defaultStateDir(): string {
  return process.env.FERRY_STATE_DIR ?? '/var/lib/ferry';
}

export function leasePath(stateDir: string, port: string): string {
  return join(stateDir, `dhcp-${port}.json`);
}

interface LeaseJson {
  version: 1;
  port: string;
  /** aa:bb:cc:dd:ee:ff: a lease for another MAC (a changed NIC) is not re-requested. */
  mac: string;
  address: string;
  prefixLen: number;
  serverId: string;
  routers: string[];
  classless: { prefix: string; len: number; gateway: string }[] | null;
  leaseTime: number;
  /** null for an infinite lease. */
  t1: number | null;
  t2: number | null;
  obtainedAt: number;
}

function ip(s: unknown, what: string): number {
  const v = typeof s === 'string' ? parseIpv4(s) : null;
  if (v === null) throw new Error(`${what}: not an IPv4 address`);
  return v;
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${what}: not a number`);
  return v;
}

export function leaseToJson(l: Lease, port: string, mac: string): string {
  const j: LeaseJson = {
    version: 1,
    port,
    mac,
    address: formatIpv4(l.address),
    prefixLen: l.prefixLen,
    serverId: formatIpv4(l.serverId),
    routers: l.routers.map(formatIpv4),
    classless:
      l.classless?.map((r) => ({
        prefix: formatIpv4(r.prefix),
        len: r.len,
        gateway: formatIpv4(r.gateway),
      })) ?? null,
    leaseTime: l.leaseTime,
    t1: Number.isFinite(l.t1) ? l.t1 : null,
    t2: Number.isFinite(l.t2) ? l.t2 : null,
    obtainedAt: l.obtainedAt,
  };
  return `${JSON.stringify(j, null, 2)}\n`;
}

/** Parses a lease file's text; throws with the reason when it is not one of ours. */
export function leaseFromJson(text: string, port: string, mac: string): Lease | null {
  const j = JSON.parse(text) as Partial<LeaseJson>;
  if (j.version !== 1) throw new Error('unknown lease file version');
  if (j.port !== port || j.mac !== mac) return null;
  const len = num(j.prefixLen, 'prefixLen');
  if (len > 32) throw new Error('prefixLen: over 32');
  const classless: LeaseRoute[] | null = Array.isArray(j.classless)
    ? j.classless.map((r, i) => ({
        prefix: ip(r.prefix, `classless[${i}].prefix`),
        len: num(r.len, `classless[${i}].len`),
        gateway: ip(r.gateway, `classless[${i}].gateway`),
      }))
    : null;
  return {
    address: ip(j.address, 'address'),
    prefixLen: len,
    serverId: ip(j.serverId, 'serverId'),
    routers: Array.isArray(j.routers) ? j.routers.map((r, i) => ip(r, `routers[${i}]`)) : [],
    classless,
    leaseTime: num(j.leaseTime, 'leaseTime'),
    t1: j.t1 === null ? Number.POSITIVE_INFINITY : num(j.t1, 't1'),
    t2: j.t2 === null ? Number.POSITIVE_INFINITY : num(j.t2, 't2'),
    obtainedAt: num(j.obtainedAt, 'obtainedAt'),
  };
}

/** Load/save for one port's lease file. */
export class LeaseFile {
  constructor(
    readonly path: string,
    private readonly port: string,
    private readonly mac: string,
  ) {}

  load(): Lease | null {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return leaseFromJson(text, this.port, this.mac);
  }

  save(lease: Lease | null): void {
    if (lease === null) {
      rmSync(this.path, { force: true });
      return;
    }
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, leaseToJson(lease, this.port, this.mac));
    renameSync(tmp, this.path);
  }
}
