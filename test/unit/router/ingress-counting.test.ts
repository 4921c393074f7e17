/**
 * ingress counts received packets into a port's `stats` only where the port does not count them
 * itself: on the native ports `stats` is a getter that reads the addon's counters into a new object,
 * so touching it per packet would be a JS/native crossing and an allocation per packet.
 */
import { describe, expect, it } from 'vitest';
import { PacketBatch } from '../../../src/dataplane/batch.js';
import { RouterEngine } from '../../../src/dataplane/engine/router-engine.js';
import type { PacketMeta } from '../../../src/dataplane/pipeline/packet-meta.js';
import { MemoryPort } from '../../../src/dataplane/ports/memory-port.js';
import { newPortStats, type Port, type PortStats } from '../../../src/dataplane/ports/port.js';
import { icmpEcho, ip, ipFrame, macNum } from '../../helpers/frames.js';
import { StaticRoutes } from '../../helpers/static-routes.js';

/** A port that counts in "hardware", as the native ports do: `stats` is a fresh snapshot per read, reads counted. */
class SelfCountingPort implements Port {
  readonly kind = 'afpacket' as const;
  readonly l2 = true;
  readonly countsRx = true;
  index = -1;
  mtu = 1500;
  reads = 0;
  private readonly own = newPortStats();
  constructor(
    readonly name: string,
    public mac: number,
  ) {}
  get stats(): PortStats {
    this.reads++;
    return { ...this.own };
  }
  transmit(_b: PacketBatch, _m: PacketMeta, _s: Uint16Array, _n: number): void {}
  close(): void {}
}

function batchOf(frames: Uint8Array[], port: number): PacketBatch {
  const b = new PacketBatch(16, 16 * 2048);
  frames.forEach((f, i) => {
    b.data.set(f, i * 2048);
    b.offset[i] = i * 2048;
    b.length[i] = f.length;
    b.wireLength[i] = f.length;
    b.port[i] = port;
  });
  b.count = frames.length;
  return b;
}

describe('ingress: receive counters', () => {
  const MAC = '02:00:00:00:00:01';
  const frames = [1, 2, 3].map(() =>
    ipFrame(MAC, '0a:00:00:00:00:33', icmpEcho({ src: '192.168.0.53', dst: '192.168.0.1' })),
  );

  it('counts into stats on a port that does not count for itself', () => {
    const port = new MemoryPort('eth0', true, macNum(MAC), 1500);
    const engine = new RouterEngine([port], new StaticRoutes());
    engine.addAddress(ip('192.168.0.1'), 24, 0);
    engine.receive(batchOf(frames, 0), 1);
    expect(port.stats.rxPackets).toBe(3);
    expect(port.stats.rxBytes).toBe(frames.reduce((n, f) => n + f.length, 0));
  });

  it('never reads stats per packet on a port that counts for itself', () => {
    const port = new SelfCountingPort('eth0', macNum(MAC));
    const engine = new RouterEngine([port], new StaticRoutes());
    engine.addAddress(ip('192.168.0.1'), 24, 0);
    const before = port.reads;
    engine.receive(batchOf(frames, 0), 1);
    expect(port.reads - before).toBe(0);
  });
});
