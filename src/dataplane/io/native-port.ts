/**
 * What AfPacketPort and TunPort share: a native handle, the RX PacketBatch the addon fills, and
 * batched TX.
 *
 * RX: `start(handler)` registers the fd with libuv; per batch of up to `batchSize` packets the
 * addon writes the descriptors into `rx` (offset/length/wireLength/tsSec/tsNsec/port/flags) and
 * `rxMeta`, then calls `handler(rx)` ONCE. Offsets are absolute in `rx.data`, which is either
 * the kernel's RX ring itself (zero-copy) or a slab the addon copies into. The frames belong to
 * the handler only until it returns (or until it calls `release()`): after that the kernel
 * reuses the memory, so anything kept must be copied.
 *
 * TX: `sendBatch` hands a whole batch to the kernel in ONE native call (one sendmmsg, or one
 * TX-ring kick, or one drain of write()s on a TUN).
 */
import { PacketBatch } from '../batch.js';
import { FerryIoError, socketError } from './io-error.js';
import { type LinkInfo, linkInfo, toLinkInfo } from './link.js';
import type { NativeHandle, NativeIo, NativeOpenResult } from './native.js';
import { newPortMeta } from './port-meta.js';
import { type IoPortStats, statsFrom } from './port-stats.js';

export type BatchHandler = (batch: PacketBatch, port: NativePort) => void;
export type PortErrorHandler = (err: FerryIoError, port: NativePort) => void;

export interface SendOptions {
  /** Bytes prepended per slot: head[slot * stride .. + headLen[slot]] (stride = head.length / headLen.length). */
  head?: Uint8Array;
  headLen?: Uint8Array;
  /** The side table that came with the frames (offload info for vnet ports, see port-meta.ts). */
  meta?: Uint16Array;
}

export abstract class NativePort {
  /** The batch the addon fills on RX; handed to the RX handler. */
  readonly rx: PacketBatch;
  /** Per-slot side table of `rx` (port-meta.ts). */
  readonly rxMeta: Uint16Array;
  /** Interface name. */
  readonly name: string;
  /** True when packets carry an Ethernet header. */
  readonly l2: boolean;
  /** True when `rx.data` is a slab the addon copies into, false when it is the kernel's ring. */
  readonly rxCopy: boolean;
  readonly batchSize: number;
  /** The port's MAC as a 48-bit number (0 on L3 ports). */
  mac: number;
  mtu: number;
  readonly ifindex: number;

  #native: NativeIo;
  #handle: NativeHandle | null;
  #index: number;
  readonly #statsBuf: Float64Array;
  /** The addon counts received frames (Port.countsRx): the engine must not read `stats` per packet. */
  readonly countsRx = true;
  readonly #netns: string | undefined;
  /** transmit()'s send options, reused per batch. */
  readonly #txOptions: SendOptions = {};

  protected constructor(
    native: NativeIo,
    res: NativeOpenResult,
    rx: PacketBatch,
    rxMeta: Uint16Array,
    netns?: string,
  ) {
    this.#native = native;
    this.#handle = res.handle;
    this.#netns = netns;
    this.rx = rx;
    this.rxMeta = rxMeta;
    rx.data = new Uint8Array(res.rxBuffer);
    this.rxCopy = res.rxCopy;
    this.batchSize = res.batchSize;
    this.name = res.name ?? res.link.name;
    this.l2 = !res.l3;
    const link = toLinkInfo(res.link);
    this.mac = this.l2 ? link.macNumber : 0;
    this.mtu = link.mtu;
    this.ifindex = link.ifindex;
    this.#index = 0;
    this.#statsBuf = new Float64Array(native.counterCount);
  }

  /** Creates the RX batch and side table the addon writes into. */
  protected static descriptors(capacity: number): { rx: PacketBatch; rxMeta: Uint16Array } {
    return { rx: new PacketBatch(capacity, 0), rxMeta: newPortMeta(capacity) };
  }

  protected static descriptorArrays(rx: PacketBatch, rxMeta: Uint16Array) {
    return {
      offset: rx.offset,
      length: rx.length,
      wireLength: rx.wireLength,
      tsSec: rx.tsSec,
      tsNsec: rx.tsNsec,
      port: rx.port,
      flags: rx.flags,
      extra: rxMeta,
    };
  }

  /** Position in the engine's port list; written into `rx.port[]` for every received packet. */
  get index(): number {
    return this.#index;
  }

  set index(i: number) {
    this.#native.portSetIndex(this.#live(), i);
    this.#index = i;
  }

  get closed(): boolean {
    return this.#handle === null;
  }

  get netns(): string | undefined {
    return this.#netns;
  }

  #live(): NativeHandle {
    if (!this.#handle)
      throw new FerryIoError(`${this.name}: the port is closed`, 'ERR_PORT_CLOSED', 0, 'port');
    return this.#handle;
  }

  /**
   * Starts receiving: `onBatch(rx, port)` once per batch. Socket errors (link down, interface
   * removed) go to `onError`; without one they become process warnings. Never fatal by itself.
   */
  start(onBatch: BatchHandler, onError?: PortErrorHandler): void {
    const rx = this.rx;
    const handle = this.#live();
    this.#native.portStart(
      handle,
      (n: number) => {
        rx.count = n;
        onBatch(rx, this);
      },
      (code: string, errno: number) => {
        const err = socketError(this.name, code, errno);
        if (onError) onError(err, this);
        else process.emitWarning(err.message, { code: `FERRY_${code}` });
      },
    );
  }

  /** Stops receiving (the port stays open; `start` again to resume). */
  stop(): void {
    if (this.#handle) this.#native.portStop(this.#handle);
  }

  /** Gives the current RX batch back to the kernel before the handler returns. */
  release(): void {
    if (this.#handle) this.#native.portRelease(this.#handle);
  }

  /**
   * Sends `count` packets of `batch` in one native call: slot `slots[k]` for k < count (or slots
   * 0..count-1 without `slots`). Returns how many the kernel accepted; the rest are counted as
   * txErrors (bad descriptor, too long) or txEagain (socket or ring full).
   */
  sendBatch(
    batch: PacketBatch,
    slots?: Uint16Array | Uint32Array,
    count = slots ? slots.length : batch.count,
    opts?: SendOptions,
  ): number {
    return this.#native.portSend(
      this.#live(),
      batch.data,
      batch.offset,
      batch.length,
      count,
      slots ?? null,
      opts?.head ?? null,
      opts?.headLen ?? null,
      opts?.meta ?? null,
    );
  }

  /**
   * The pipeline's Port contract (src/dataplane/ports/port.ts): sends slots[0..n) of `batch`,
   * each preceded by the slot's prepended head bytes in `meta.head`.
   */
  transmit(
    batch: PacketBatch,
    meta: { head: Uint8Array; headLen: Uint8Array; txOffload?: Uint16Array },
    slots: Uint16Array,
    n: number,
  ): void {
    const o = this.#txOptions;
    o.head = meta.head;
    o.headLen = meta.headLen;
    o.meta = this.txOffload ? meta.txOffload : undefined;
    this.sendBatch(batch, slots, n, o);
  }

  /** Counters (a snapshot; also folds in the kernel's drop counters). */
  get stats(): IoPortStats {
    if (this.#handle) this.#native.portStats(this.#handle, this.#statsBuf);
    return statsFrom(this.#statsBuf);
  }

  /** Link facts, read now. */
  link(): LinkInfo {
    return linkInfo(this.name, { netns: this.#netns });
  }

  /**
   * Idempotent. Stops RX, detaches `rx.data` (it becomes empty), unmaps the rings and closes the
   * fd; the last counters stay readable through `stats`.
   */
  close(): void {
    const h = this.#handle;
    if (!h) return;
    this.#native.portStats(h, this.#statsBuf);
    this.#native.portClose(h);
    this.#handle = null;
    this.onClosed();
  }

  /**
   * True on a port that exchanges virtio-net headers (AF_PACKET `offloads: 'vnet'`): received
   * frames come with their offload descriptors (`rxOffload`), and transmit sends each frame with
   * the header in `meta.txOffload` (GSO super-frames and partial checksums leave as they are).
   */
  get txOffload(): boolean {
    return false;
  }

  /** `rxMeta` when the port receives offload descriptors (`txOffload`), else null. */
  get rxOffload(): Uint16Array | null {
    return this.txOffload ? this.rxMeta : null;
  }

  /** Hook for subclasses (restoring offloads). */
  protected onClosed(): void {}
}
