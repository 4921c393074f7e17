/**
 * Chains of type nat see only the first packet of a connection, as netfilter's nat chains do
 * (chain-program.ts): their counters count connections, a flow keeps what its first packet
 * decided — a translation or none (netfilter's null binding) — and a changed nat chain, once
 * reloaded over the same flows, applies to new connections only. Built from YAML by buildRouter
 * over memory ports, as `ferry run` builds it; counters read as `ferry status` reads them.
 */
import { describe, expect, it } from 'vitest';
import { type BuiltRouter, buildRouter } from '../../../src/control/build-router.js';
import { parseConfig } from '../../../src/control/config/loader.js';
import { chainsStatus } from '../../../src/control/status/services.js';
import { PacketBatch } from '../../../src/dataplane/batch.js';
import { CT_NAT_DST, CT_NAT_SRC } from '../../../src/dataplane/conntrack/flow-layout.js';
import { MemoryPort } from '../../../src/dataplane/ports/memory-port.js';
import { checksum } from '../../../src/dataplane/wire/checksum.js';
import { arpRequest, icmpEcho, ip, ipFrame, macNum, udp } from '../../helpers/frames.js';
import { hdr } from '../nat/nat-rig.js';

const R_LAN = '02:00:00:00:00:01';
const R_WAN = '02:00:00:00:00:02';
const GW_MAC = '0a:00:00:00:00:01';
const HOST_MAC = '0a:00:00:00:00:33';
const HOST = '10.1.0.33';
const SERVER = '198.51.100.7';
const WAN_IP = '192.0.2.2';

/** lan 10.1.0.1/24, wan 192.0.2.2/24 with a default route via .1, and the given chains. */
const config = (chains: string, capacity = 1024): string => `
ports:
  - { name: lan, kind: memory, mac: ${R_LAN}, addresses: [10.1.0.1/24] }
  - { name: wan, kind: memory, mac: ${R_WAN}, addresses: [${WAN_IP}/24] }
tables:
  main:
    - { to: default, via: 192.0.2.1, dev: wan }
chains:
${chains}
conntrack:
  capacity: ${capacity}
`;

/** Masquerade out wan, counted; ICMP matches no rule (the policy counts it). */
const MASQUERADE_UDP = `
  nat-postrouting:
    hook: postrouting
    type: nat
    rules:
      - match: { oif: wan, proto: udp }
        action: [counter, masquerade]
`;

class Rig {
  readonly ports = [new MemoryPort('lan', true, macNum(R_LAN)), new MemoryPort('wan', true, macNum(R_WAN))];
  built: BuiltRouter;
  now = 1000;
  private readonly batch = new PacketBatch(16, 16 * 2048);

  constructor(chains: string, capacity?: number) {
    this.built = buildRouter(parseConfig(config(chains, capacity), 'ferry.yaml'), this.ports, {
      dhcpClient: false,
    });
    this.recvFrames('wan', [arpRequest(GW_MAC, '192.0.2.1', WAN_IP)]);
    this.recvFrames('lan', [arpRequest(HOST_MAC, HOST, '10.1.0.1')]);
    this.sent('wan');
    this.sent('lan');
  }

  get engine() {
    return this.built.engine;
  }

  /** Rebuilds the router from new chains over the same ports, taking its flows, as a reload does. */
  reload(chains: string): void {
    const cfg = parseConfig(config(chains), 'ferry.yaml');
    this.built = buildRouter(cfg, this.ports, { dhcpClient: false, previous: this.built });
  }

  /** IPv4 packets arriving on a port, as one batch. */
  recv(port: 'lan' | 'wan', ...pkts: Uint8Array[]): void {
    this.recvFrames(
      port,
      pkts.map((p) => (port === 'lan' ? ipFrame(R_LAN, HOST_MAC, p) : ipFrame(R_WAN, GW_MAC, p))),
    );
  }

  private recvFrames(port: 'lan' | 'wan', frames: Uint8Array[]): void {
    this.now += 0.01;
    const b = this.batch;
    b.count = 0;
    frames.forEach((f, i) => {
      const s = b.count++;
      b.data.set(f, i * 2048);
      b.offset[s] = i * 2048;
      b.length[s] = f.length;
      b.wireLength[s] = f.length;
      b.port[s] = port === 'lan' ? 0 : 1;
      b.tsSec[s] = Math.floor(this.now);
      b.tsNsec[s] = 0;
    });
    this.engine.receive(b, this.now);
  }

  /** IPv4 packets a port sent (Ethernet stripped), taken. */
  sent(port: 'lan' | 'wan'): Uint8Array[] {
    return this.ports[port === 'lan' ? 0 : 1]!.sent.splice(0)
      .filter((f) => f[12] === 0x08 && f[13] === 0x00)
      .map((f) => f.subarray(14));
  }

  /** Sources (address:port) of what wan sent, taken. */
  wanSources(): string[] {
    return this.sent('wan').map((p) => {
      const h = hdr(p);
      return `${h.src}:${h.sport}`;
    });
  }

  /** `ferry status`'s counters: [packets, bytes] of a counted rule, packets of a base chain's policy. */
  ruleCounter(chain: string, rule: number): [number, number] {
    const row = chainsStatus(this.engine)!.rules.find((r) => r.chain === chain && r.rule === rule)!;
    return [row.packets, row.bytes];
  }

  policyCounter(chain: string): number {
    return chainsStatus(this.engine)!.policies.find((p) => p.chain === chain)!.packets;
  }
}

const toServer = (sport: number, dport = 53, payload = 18): Uint8Array =>
  udp({ src: HOST, dst: SERVER }, sport, dport, payload);

/** The packet with its DSCP set (ECN kept) and its header checksum redone. */
function withDscp(pkt: Uint8Array, dscp: number): Uint8Array {
  const out = pkt.slice();
  out[1] = (dscp << 2) | (out[1]! & 3);
  out[10] = 0;
  out[11] = 0;
  const c = checksum(out, 0, (out[0]! & 15) * 4);
  out[10] = c >> 8;
  out[11] = c & 255;
  return out;
}

describe('nat chains see the first packet of a connection only', () => {
  it('a nat rule counter counts connections, not packets; so does the policy', () => {
    const r = new Rig(MASQUERADE_UDP);
    for (let i = 0; i < 3; i++) r.recv('lan', toServer(40000, 53, 18));
    for (let i = 0; i < 2; i++) r.recv('lan', toServer(40001, 53, 100));
    // Every packet was translated, from the binding the first one made.
    expect(r.wanSources()).toEqual([
      ...Array(3).fill(`${WAN_IP}:40000`),
      ...Array(2).fill(`${WAN_IP}:40001`),
    ]);
    // Two connections; bytes are their first packets' (46 and 128 bytes of IP).
    expect(r.ruleCounter('nat-postrouting', 1)).toEqual([2, 46 + 128]);
    // Replies are translated back by conntrack, without the chain.
    r.recv('wan', udp({ src: SERVER, dst: WAN_IP }, 53, 40000));
    expect(r.sent('lan').map((p) => `${hdr(p).dst}:${hdr(p).dport}`)).toEqual([`${HOST}:40000`]);
    expect(r.ruleCounter('nat-postrouting', 1)).toEqual([2, 46 + 128]);
    // Four echo requests of one ICMP query flow match no rule: the policy took one connection.
    for (let seq = 1; seq <= 4; seq++) r.recv('lan', icmpEcho({ src: HOST, dst: SERVER }, seq));
    expect(r.sent('wan')).toHaveLength(4);
    expect(r.policyCounter('nat-postrouting')).toBe(1);
  });

  it('a port forward (dnat at prerouting) counts its connections; later packets follow the binding', () => {
    const r = new Rig(`
  nat-prerouting:
    hook: prerouting
    type: nat
    rules:
      - match: { iif: wan, proto: udp, dport: 2222 }
        action: [counter, { dnat: "${HOST}:22" }]
`);
    for (let i = 0; i < 3; i++) r.recv('wan', udp({ src: SERVER, dst: WAN_IP }, 5555, 2222));
    expect(r.sent('lan').map((p) => `${hdr(p).dst}:${hdr(p).dport}`)).toEqual(Array(3).fill(`${HOST}:22`));
    r.recv('lan', udp({ src: HOST, dst: SERVER }, 22, 5555));
    expect(r.wanSources()).toEqual([`${WAN_IP}:2222`]);
    expect(r.ruleCounter('nat-prerouting', 1)[0]).toBe(1);
  });

  it('a flow whose first packet matched no NAT rule stays untranslated when later packets would match', () => {
    const r = new Rig(`
  nat-postrouting:
    hook: postrouting
    type: nat
    rules:
      - match: { oif: wan, dscp: 46 }
        action: [counter, masquerade]
`);
    r.recv('lan', toServer(40000));
    r.engine.pipe.tracer.arm(1);
    // Still ct state NEW (no reply yet), but confirmed: the flow has its (null) binding.
    r.recv('lan', withDscp(toServer(40000), 46), withDscp(toServer(40000), 46));
    expect(r.wanSources()).toEqual([`${HOST}:40000`, `${HOST}:40000`, `${HOST}:40000`]);
    expect(r.ruleCounter('nat-postrouting', 1)).toEqual([0, 0]);
    const table = r.engine.conntrack!.table;
    const f = table.lookup(ip(HOST) | 0, ip(SERVER) | 0, 40000, 53, 17) >>> 1;
    expect(table.hasStatus(f, CT_NAT_SRC | CT_NAT_DST)).toBe(false);
    const [story] = r.engine.pipe.drainTrace();
    expect(story!.steps.map((s) => `${s.stage}: ${s.text}`)).toContain(
      `postrouting: chain nat-postrouting not run: flow ${f}'s NAT was decided at its first packet (nat chains see a connection's first packet only)`,
    );
    // The reply reaches the host untranslated; a new flow with DSCP 46 is masqueraded.
    r.recv('wan', udp({ src: SERVER, dst: HOST }, 53, 40000));
    expect(r.sent('lan').map((p) => hdr(p).dst)).toEqual([HOST]);
    r.recv('lan', withDscp(toServer(40001), 46));
    expect(r.wanSources()).toEqual([`${WAN_IP}:40001`]);
    expect(r.ruleCounter('nat-postrouting', 1)).toEqual([1, 46]);
  });

  it('a rule added to a nat chain by a reload applies to new connections, not to existing flows', () => {
    const r = new Rig(`
  nat-postrouting:
    hook: postrouting
    type: nat
    rules:
      - match: { oif: wan, proto: udp, dport: 53 }
        action: masquerade
`);
    r.recv('lan', toServer(40000, 53)); // masqueraded
    r.recv('lan', toServer(40000, 123)); // no rule: untranslated
    expect(r.wanSources()).toEqual([`${WAN_IP}:40000`, `${HOST}:40000`]);
    const flows = r.engine.conntrack!;
    // A new first rule: everything out wan to ports 20000-20099.
    r.reload(`
  nat-postrouting:
    hook: postrouting
    type: nat
    rules:
      - match: { oif: wan }
        action: [counter, { snat: "${WAN_IP}:20000-20099" }]
      - match: { oif: wan, proto: udp, dport: 53 }
        action: masquerade
`);
    expect(r.engine.conntrack).toBe(flows);
    r.recv('lan', toServer(40000, 53), toServer(40000, 123));
    expect(r.wanSources()).toEqual([`${WAN_IP}:40000`, `${HOST}:40000`]);
    expect(r.ruleCounter('nat-postrouting', 1)).toEqual([0, 0]);
    // New connections take the new rule.
    r.recv('lan', toServer(40001, 53));
    r.recv('lan', toServer(40001, 123));
    const fresh = r.wanSources();
    expect(fresh.map((s) => s.split(':')[0])).toEqual([WAN_IP, WAN_IP]);
    for (const s of fresh) expect(Number(s.split(':')[1])).toBeGreaterThanOrEqual(20000);
    for (const s of fresh) expect(Number(s.split(':')[1])).toBeLessThanOrEqual(20099);
    expect(r.ruleCounter('nat-postrouting', 1)).toEqual([2, 92]);
  });

  it('in one vector, first packets are evaluated in order among established ones; a drop stops only its packet', () => {
    for (const withFilter of [false, true]) {
      // With a second chain at postrouting the hook runs each chain per packet instead of per vector.
      const filter = withFilter
        ? `
  filter-postrouting:
    hook: postrouting
    rules:
      - match: { proto: udp }
        action: counter
`
        : '';
      const r = new Rig(`
  nat-postrouting:
    hook: postrouting
    type: nat
    rules:
      - match: { proto: udp, dport: 9 }
        action: [counter, drop]
      - match: { oif: wan, proto: udp }
        action: [counter, masquerade]
${filter}`);
      r.recv('lan', toServer(40000));
      r.sent('wan');
      r.recv(
        'lan',
        toServer(40000),
        toServer(40001, 9),
        toServer(40002),
        toServer(40000),
        toServer(40003, 9),
        toServer(40004),
        toServer(40000),
        toServer(40005),
        toServer(40006, 9),
        toServer(40007),
      );
      expect(r.wanSources()).toEqual([
        `${WAN_IP}:40000`,
        `${WAN_IP}:40002`,
        `${WAN_IP}:40000`,
        `${WAN_IP}:40004`,
        `${WAN_IP}:40000`,
        `${WAN_IP}:40005`,
        `${WAN_IP}:40007`,
      ]);
      expect(r.engine.drops()['postrouting-drop']).toBe(3);
      expect(r.ruleCounter('nat-postrouting', 1)[0]).toBe(3);
      expect(r.ruleCounter('nat-postrouting', 2)[0]).toBe(5);
      if (withFilter) expect(r.ruleCounter('filter-postrouting', 1)[0]).toBe(11);
    }
  });

  it('packets of a new connection in one batch, before it is confirmed, are each first packets', () => {
    const r = new Rig(`
  nat-postrouting:
    hook: postrouting
    type: nat
    rules:
      - match: { oif: wan, dscp: 46 }
        action: [counter, masquerade]
      - match: { oif: wan, proto: udp, dport: 53 }
        action: [counter, masquerade]
`);
    // The same translation: the second packet joins the flow the first one confirmed.
    r.recv('lan', toServer(40000), toServer(40000));
    expect(r.wanSources()).toEqual([`${WAN_IP}:40000`, `${WAN_IP}:40000`]);
    expect(r.ruleCounter('nat-postrouting', 2)[0]).toBe(2);
    expect(r.engine.conntrack!.table.count).toBe(1);
    // A different one (the first packet is not translated, the second would be): a clash, dropped.
    r.recv('lan', toServer(40001, 123), withDscp(toServer(40001, 123), 46));
    expect(r.wanSources()).toEqual([`${HOST}:40001`]);
    expect(r.engine.drops()['ct-insert-clash']).toBe(1);
    expect(r.ruleCounter('nat-postrouting', 1)[0]).toBe(1);
    expect(r.engine.conntrack!.pool.count).toBe(1);
  });

  it('a full flow table: the dropped first packet bound nothing, so the next one is a first packet again', () => {
    // One flow fits; an answered (assured) flow is never evicted to make room (early drop).
    const r = new Rig(MASQUERADE_UDP, 1);
    r.recv('lan', toServer(40000));
    r.recv('wan', udp({ src: SERVER, dst: WAN_IP }, 53, 40000));
    r.sent('wan');
    r.sent('lan');
    r.recv('lan', toServer(40001));
    r.recv('lan', toServer(40001));
    expect(r.sent('wan')).toHaveLength(0);
    expect(r.engine.drops()['ct-table-full']).toBe(2);
    // Each attempt ran the chain (as a new connection would); neither left a flow or a mapping.
    expect(r.ruleCounter('nat-postrouting', 1)[0]).toBe(3);
    expect(r.engine.conntrack!.table.count).toBe(1);
    expect(r.engine.conntrack!.pool.count).toBe(1);
  });
});
