/**
 * A router on memory ports with a compiled ruleset attached, a probe that records what the chains
 * left in a packet's metadata, and TCP/fragment builders for the classifier tests.
 */

import { DEFAULT_TIMEOUTS } from '../../src/control/config/semantic/services.js';
import type { ChainConfig, SetConfig } from '../../src/control/config/types.js';
import {
  attachRuleset,
  type CompiledRuleset,
  compileRuleset,
  rulesetDeps,
} from '../../src/dataplane/classifier/index.js';
import type { Pipeline } from '../../src/dataplane/pipeline/pipeline.js';
import { type ChainProgram, type HookName, VERDICT_ACCEPT } from '../../src/dataplane/stages/hook.js';
import { setU16, setU32 } from '../../src/dataplane/wire/bytes.js';
import { checksum, pseudoSumV4 } from '../../src/dataplane/wire/checksum.js';
import { emitIpv4, IPV4_FLAG_DF } from '../../src/dataplane/wire/ipv4.js';
import { arpRequest, type IpOpts, ip, ipFrame } from './frames.js';
import { RouterRig } from './router-rig.js';

export const R0 = '02:00:00:00:00:01'; // router on lan
export const R1 = '02:00:00:00:00:02'; // router on wan
export const HOST = '0a:00:00:00:00:33';
export const GW = '0a:00:00:00:00:01';

/**
 * lan 10.1.0.1/24 (port 0), wan 192.0.2.2/24 (port 1, default via 192.0.2.1), tun 100.64.0.2/32
 * (port 2, L3, mtu 1280, 172.16.0.0/12); the gateway and host 10.1.0.33 already resolved.
 * `conntrack`: run the conntrack and NAT stages (with the config's default timeouts).
 */
export function routerRig(opts: { conntrack?: boolean } = {}): RouterRig {
  const r = new RouterRig(
    [
      { name: 'lan', mac: R0, address: '10.1.0.1' },
      { name: 'wan', mac: R1, address: '192.0.2.2' },
      { name: 'tun', mtu: 1280, address: '100.64.0.2', prefixLen: 32 },
    ],
    opts.conntrack ? { conntrack: { capacity: 1024, liberal: false, timeouts: DEFAULT_TIMEOUTS } } : {},
  );
  r.routes.add(0, 0, 1, ip('192.0.2.1'));
  r.routes.add(ip('172.16.0.0'), 12, 2);
  r.send('wan', [arpRequest(GW, '192.0.2.1', '192.0.2.2')]);
  r.send('lan', [arpRequest(HOST, '10.1.0.33', '10.1.0.1')]);
  r.sent('wan');
  r.sent('lan');
  return r;
}

export function withRuleset(r: RouterRig, chains: ChainConfig[], sets: SetConfig[] = []): CompiledRuleset {
  const compiled = compileRuleset(chains, sets, r.ports.length, rulesetDeps(r.engine));
  attachRuleset(r.engine, compiled);
  return compiled;
}

export interface Seen {
  mark: number;
  ctMark: number;
  natKind: number;
  natAddr: number;
  natPortMin: number;
  natPortMax: number;
  inPort: number;
  outPort: number;
}

/** Appends a program to `hook` that records each packet's metadata there (and accepts it). */
export function probe(r: RouterRig, hook: HookName): Seen[] {
  const seen: Seen[] = [];
  const p: ChainProgram = {
    run(pipe: Pipeline, s: number): number {
      const m = pipe.meta;
      seen.push({
        mark: m.mark[s]!,
        ctMark: m.ctMark[s]!,
        natKind: m.natKind[s]!,
        natAddr: m.natAddr[s]!,
        natPortMin: m.natPortMin[s]!,
        natPortMax: m.natPortMax[s]!,
        inPort: m.inPort[s]!,
        outPort: m.outPort[s]!,
      });
      return VERDICT_ACCEPT;
    },
  };
  r.engine.hooks[hook].programs.push(p);
  return seen;
}

export interface TcpOpts {
  seq?: number;
  ack?: number;
  /** TCP flag bits (SYN 0x02, RST 0x04, ACK 0x10, FIN 0x01). */
  flags?: number;
  payload?: number;
}

/** An IPv4/TCP segment with valid checksums. */
export function tcp(o: IpOpts, sport: number, dport: number, t: TcpOpts = {}): Uint8Array {
  const payload = t.payload ?? 0;
  const out = new Uint8Array(20 + 20 + payload);
  emitIpv4(
    {
      dscp: 0,
      ecn: 0,
      id: o.id ?? 0x5555,
      flags: o.df === false ? 0 : IPV4_FLAG_DF,
      fragOffset: 0,
      ttl: o.ttl ?? 64,
      protocol: 6,
      src: ip(o.src),
      dst: ip(o.dst),
      options: new Uint8Array(0),
      payloadLen: 20 + payload,
    },
    out,
    0,
  );
  const p = 20;
  setU16(out, p, sport);
  setU16(out, p + 2, dport);
  setU32(out, p + 4, t.seq ?? 1000);
  setU32(out, p + 8, t.ack ?? 0);
  out[p + 12] = 5 << 4;
  out[p + 13] = t.flags ?? 0x02;
  setU16(out, p + 14, 64240);
  for (let i = 0; i < payload; i++) out[p + 20 + i] = (i * 13) & 255;
  const c = checksum(out, p, 20 + payload, pseudoSumV4(ip(o.src), ip(o.dst), 6, 20 + payload));
  setU16(out, p + 16, c);
  return out;
}

/** Rewrites an IPv4 packet's fragment fields (offset in 8-byte units, MF) and fixes its header checksum. */
export function asFragment(pkt: Uint8Array, offsetUnits: number, more: boolean): Uint8Array {
  const out = pkt.slice();
  setU16(out, 6, (more ? 0x2000 : 0) | offsetUnits);
  setU16(out, 10, 0);
  setU16(out, 10, checksum(out, 0, (out[0]! & 15) * 4));
  return out;
}

/** Sends an IPv4 packet from the lan host to the router. */
export function fromLan(r: RouterRig, pkt: Uint8Array): void {
  r.send('lan', [ipFrame(R0, HOST, pkt)]);
}

/** Sends an IPv4 packet from the wan gateway to the router. */
export function fromWan(r: RouterRig, pkt: Uint8Array): void {
  r.send('wan', [ipFrame(R1, GW, pkt)]);
}
