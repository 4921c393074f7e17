/**
 * Shared state of the semantic checks: the findings so far and the name indexes that later
 * sections resolve references against.
 */
import type { RawIssue } from '../issues.js';
import type { Anchor } from '../locate.js';
import { didYouMean } from '../suggest.js';
import type { PortConfig } from '../types.js';

export type Path = readonly PropertyKey[];

export class Checker {
  readonly issues: RawIssue[] = [];

  error(path: Path, message: string, anchor: Anchor = 'value'): void {
    this.issues.push({ path, message, anchor });
  }
}

/** Looks `name` up; reports `no <what> named "x" (did you mean "y"?)` at `path` when absent. */
export function lookup<T>(
  ck: Checker,
  index: ReadonlyMap<string, T>,
  name: string,
  what: string,
  path: Path,
): T | undefined {
  const v = index.get(name);
  if (v === undefined) ck.error(path, `no ${what} named "${name}"${didYouMean(name, index.keys())}`);
  return v;
}

export interface PortIndex {
  readonly ports: readonly PortConfig[];
  readonly byName: ReadonlyMap<string, number>;
}

/** Resolves a port name to its index, or -1 after reporting. */
export function portRef(ck: Checker, pi: PortIndex, name: string, path: Path): number {
  return lookup(ck, pi.byName, name, 'port', path) ?? -1;
}

/** Ports that carry Ethernet frames (ARP, DHCP, bridging make sense on them). */
export function isL2(p: PortConfig): boolean {
  return p.kind === 'afpacket' || p.kind === 'tap' || p.kind === 'pcap' || p.kind === 'memory';
}
