/**
 * An AF_PACKET port: one packet socket bound to one interface, RX through a PACKET_MMAP ring,
 * TX batched (native/README.md explains the choices and has the measurements).
 *
 *   const port = AfPacketPort.open({ ifname: 'eth1' });
 *   port.start((batch) => { for (let i = 0; i < batch.count; i++) { ...batch.data[batch.offset[i]]... } });
 *   port.sendBatch(batch, slots, n);
 *   port.close();
 *
 * Modes: 'l2' (SOCK_RAW, Ethernet frames; the default) or 'l3' (SOCK_DGRAM: IP packets), which
 * is how ferry attaches to a TUN another daemon owns, such as wireguard-go's wg0.
 */

import type { PacketBatch } from '../batch.js';
import { FerryIoError, ioError } from './io-error.js';
import { disableOffloads, type NetnsOption, type OffloadChange, restoreOffloads } from './link.js';
import { loadNative, type NativeAfpOptions, type NativeIo, type NativeOpenResult } from './native.js';
import { NativePort } from './native-port.js';

/**
 * RX default: the TPACKET_V2 ring (per-frame status, woken per frame, no block timer).
 * TX default: the TPACKET_V2 TX ring, one send() kick per batch (cheaper per packet than
 * sendmmsg when forwarding). See native/README.md for both choices and the measurements.
 */
export const DEFAULT_RX: RxMode = 'v2';
export const DEFAULT_TX: TxMode = 'ring';

export type RxMode = 'v2' | 'v3' | 'mmsg';
export type TxMode = 'ring' | 'mmsg';
export type FanoutMode = 'hash' | 'lb' | 'cpu' | 'rollover' | 'random' | 'qm';
/**
 * 'off' (default): turn receive aggregation and checksum/segmentation offloads off on this
 * interface on open (restored on close), so frames are complete and at most MTU-sized.
 * 'vnet': keep them and receive the virtio-net header (PACKET_VNET_HDR): GSO super-frames and
 * partial checksums arrive described in `rxMeta` and can be forwarded as they are.
 * 'keep': touch nothing, receive no header (frames may be partial: see PKT_CSUM_NOT_READY, PKT_GSO).
 */
export type OffloadMode = 'off' | 'vnet' | 'keep';

export interface AfPacketOptions extends NetnsOption {
  ifname: string;
  mode?: 'l2' | 'l3';
  rx?: RxMode;
  tx?: TxMode;
  /** Packets per RX batch (one JS call each), 1..1024. Default 256. */
  batchSize?: number;
  /** RX ring geometry (TPACKET_V2/V3). frameSize also sizes recvmmsg slots. */
  ring?: { blockSize?: number; blockCount?: number; frameSize?: number; blockTimeoutMs?: number };
  txRing?: { frameSize?: number; frameCount?: number };
  offloads?: OffloadMode;
  /** Receive frames for every MAC (PACKET_MR_PROMISC membership, dropped on close). Default true on L2. */
  promisc?: boolean;
  /** Do not see our own transmissions (PACKET_IGNORE_OUTGOING). Default true. */
  ignoreOutgoing?: boolean;
  /** Join a PACKET_FANOUT group: several sockets (workers) share the interface's traffic. */
  fanout?: { group: number; mode?: FanoutMode; rollover?: boolean; defrag?: boolean };
  /** PACKET_QDISC_BYPASS: straight to the driver, no qdisc/tc, other taps do not see it. Opt-in. */
  qdiscBypass?: boolean;
  /** 'zero-copy' (default): rx.data is the ring, mapped into JS. 'copy': a slab the addon copies into. */
  rxMemory?: 'zero-copy' | 'copy';
  /** Socket buffer sizes in bytes (recvmmsg RX, all TX). */
  rcvbuf?: number;
  sndbuf?: number;
  /** Initial `index` (written into rx.port[]). */
  index?: number;
}

const PAGE = 4096;
const roundUp = (v: number, m: number) => Math.ceil(v / m) * m;

/** Ring geometry: frames hold MTU + Ethernet + VLAN + ring headers (+ a 64 KiB GSO frame on vnet). */
function geometry(o: AfPacketOptions, rx: RxMode, vnet: boolean, mtu: number) {
  const frameSize = o.ring?.frameSize ?? (vnet ? 65536 + 512 : Math.max(2048, roundUp(mtu + 18 + 128, 16)));
  let blockSize: number;
  let blockCount: number;
  if (rx === 'v3') {
    blockSize = o.ring?.blockSize ?? Math.max(1 << 18, roundUp(frameSize, PAGE));
    blockCount = o.ring?.blockCount ?? Math.max(8, Math.ceil((8 << 20) / blockSize));
  } else {
    blockSize =
      o.ring?.blockSize ??
      (vnet ? roundUp(frameSize * 4, PAGE) : Math.max(1 << 16, roundUp(frameSize, PAGE)));
    const frames = vnet ? 256 : 4096;
    blockCount = o.ring?.blockCount ?? Math.ceil(frames / Math.floor(blockSize / frameSize));
  }
  return {
    frameSize,
    blockSize,
    blockCount,
    blockTimeoutMs: o.ring?.blockTimeoutMs ?? 1,
    txFrameSize: o.txRing?.frameSize ?? frameSize,
    txFrameCount: o.txRing?.frameCount ?? (vnet ? 128 : 1024),
  };
}

export class AfPacketPort extends NativePort {
  readonly kind = 'afpacket' as const;
  readonly rxMode: RxMode;
  readonly txMode: TxMode;
  readonly offloads: OffloadMode;
  /** What 'off' changed on the interface (restored on close). */
  readonly offloadChange: OffloadChange | undefined;
  /** Bytes of the mmap'd rings. */
  readonly ringBytes: number;

  static open(o: AfPacketOptions): AfPacketPort {
    const native = loadNative();
    const l3 = (o.mode ?? 'l2') === 'l3';
    const offloads = o.offloads ?? 'off';
    // vnet frames may be 64 KiB: fixed ring slots that size would hold few packets, so by
    // default vnet ports receive with recvmmsg, whose socket queue holds small packets densely
    const rx = o.rx ?? (offloads === 'vnet' ? 'mmsg' : DEFAULT_RX);
    const tx = o.tx ?? DEFAULT_TX;
    const ctx = { iface: o.ifname, netns: o.netns };
    if (offloads === 'vnet' && l3) {
      throw new FerryIoError(
        `${o.ifname}: offloads 'vnet' needs mode 'l2' (the kernel adds the virtio-net header to link-layer frames only)`,
        'EINVAL',
        0,
        'open',
      );
    }
    let change: OffloadChange | undefined;
    let mtu: number;
    try {
      mtu = native.linkInfo(o.ifname, o.netns).mtu;
      // before the socket exists, so the ring never sees an aggregated frame
      if (offloads === 'off') change = acquireOffloadsOff(o.ifname, o.netns);
    } catch (err) {
      throw ioError(err, ctx);
    }
    const g = geometry(o, rx, offloads === 'vnet', mtu);
    const batchSize = o.batchSize ?? 256;
    const { rx: batch, rxMeta } = NativePort.descriptors(batchSize);
    const opts: NativeAfpOptions = {
      ifname: o.ifname,
      l3,
      rx,
      tx,
      vnet: offloads === 'vnet',
      promisc: o.promisc ?? !l3,
      ignoreOutgoing: o.ignoreOutgoing ?? true,
      qdiscBypass: o.qdiscBypass ?? false,
      copy: o.rxMemory === 'copy',
      ...g,
      batchSize,
      portIndex: o.index ?? 0,
      ...(o.rcvbuf !== undefined && { rcvbuf: o.rcvbuf }),
      ...(o.sndbuf !== undefined && { sndbuf: o.sndbuf }),
      ...(o.fanout && {
        fanoutGroup: o.fanout.group,
        fanoutMode: o.fanout.mode ?? 'hash',
        fanoutRollover: o.fanout.rollover ?? false,
        fanoutDefrag: o.fanout.defrag ?? false,
      }),
    };
    let res: NativeOpenResult;
    try {
      res = native.afpOpen(opts, NativePort.descriptorArrays(batch, rxMeta), o.netns);
    } catch (err) {
      if (offloads === 'off') releaseOffloadsOff(o.ifname, o.netns);
      throw ioError(err, ctx);
    }
    return new AfPacketPort(native, res, batch, rxMeta, o, rx, tx, offloads, change);
  }

  private constructor(
    native: NativeIo,
    res: NativeOpenResult,
    batch: PacketBatch,
    rxMeta: Uint16Array,
    o: AfPacketOptions,
    rx: RxMode,
    tx: TxMode,
    offloads: OffloadMode,
    change: OffloadChange | undefined,
  ) {
    super(native, res, batch, rxMeta, o.netns);
    this.rxMode = rx;
    this.txMode = tx;
    this.offloads = offloads;
    this.offloadChange = change;
    this.ringBytes = res.ringBytes ?? 0;
    if (o.index !== undefined) this.index = o.index;
  }

  override get txOffload(): boolean {
    return this.offloads === 'vnet';
  }

  protected override onClosed(): void {
    if (this.offloads === 'off') releaseOffloadsOff(this.name, this.netns);
  }
}

/**
 * Offloads turned off by 'off' ports, per interface: several ports on one interface (a fanout
 * group) share one change, restored when the last of them closes.
 */
const offloadUsers = new Map<string, { users: number; change: OffloadChange | undefined }>();

function acquireOffloadsOff(ifname: string, netns: string | undefined): OffloadChange | undefined {
  const key = `${netns ?? ''}/${ifname}`;
  const held = offloadUsers.get(key);
  if (held) {
    held.users++;
    return held.change;
  }
  let change: OffloadChange | undefined;
  try {
    change = disableOffloads(ifname, { netns });
  } catch (err) {
    // devices without ethtool support have nothing to turn off
    if (!(err instanceof FerryIoError && err.code === 'EOPNOTSUPP')) throw err;
  }
  offloadUsers.set(key, { users: 1, change });
  return change;
}

function releaseOffloadsOff(ifname: string, netns: string | undefined): void {
  const key = `${netns ?? ''}/${ifname}`;
  const held = offloadUsers.get(key);
  if (!held || --held.users > 0) return;
  offloadUsers.delete(key);
  if (held.change) restoreOffloads(ifname, held.change.previous, { netns });
}
