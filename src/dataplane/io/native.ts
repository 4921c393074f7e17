/**
 * Loads ferry's native I/O addon (native/, plain C against Node-API, built by `npm install` with
 * node-gyp) and declares what it exports. Only the port classes in this directory call it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Opaque handle of an open port (a Node-API external). */
export interface NativeHandle {
  readonly __nativePort: unique symbol;
}

/** Link facts as the addon reads them (ioctl SIOCGIF* + rtnetlink IFLA_OPERSTATE). */
export interface NativeLink {
  name: string;
  ifindex: number;
  mtu: number;
  /** IFF_* flags (16 bits: SIOCGIFFLAGS truncates). */
  flags: number;
  /** ARPHRD_* type: 1 Ethernet, 65534 none (TUN, WireGuard), 772 loopback. */
  hwType: number;
  mac: string | null;
  /** IF_OPER_* (RFC 2863), -1 when rtnetlink did not answer. */
  operstate: number;
}

/** Where RX descriptors go: the arrays of a PacketBatch plus the port's side table. */
export interface NativeDescriptors {
  offset: Uint32Array;
  length: Uint32Array;
  wireLength: Uint32Array;
  tsSec: Float64Array;
  tsNsec: Uint32Array;
  port: Uint16Array;
  flags: Uint32Array;
  extra: Uint16Array;
}

export interface NativeAfpOptions {
  ifname: string;
  l3: boolean;
  rx: 'v2' | 'v3' | 'mmsg';
  tx: 'ring' | 'mmsg';
  vnet: boolean;
  promisc: boolean;
  ignoreOutgoing: boolean;
  qdiscBypass: boolean;
  copy: boolean;
  blockSize: number;
  blockCount: number;
  frameSize: number;
  blockTimeoutMs: number;
  txFrameSize: number;
  txFrameCount: number;
  batchSize: number;
  portIndex: number;
  rcvbuf?: number;
  sndbuf?: number;
  fanoutGroup?: number;
  fanoutMode?: string;
  fanoutRollover?: boolean;
  fanoutDefrag?: boolean;
}

export interface NativeTunOptions {
  name: string;
  tap: boolean;
  multiQueue: boolean;
  persist: boolean;
  exclusive: boolean;
  batchSize: number;
  portIndex: number;
}

export interface NativeOpenResult {
  handle: NativeHandle;
  /** RX memory: the mmap'd ring (zero-copy) or a slab the addon copies frames into. */
  rxBuffer: ArrayBuffer;
  rxCopy: boolean;
  l3: boolean;
  batchSize: number;
  ringBytes?: number;
  /** TUN/TAP: the device name the kernel assigned (resolves "%d" patterns). */
  name?: string;
  link: NativeLink;
}

export interface FeatureState {
  active: boolean;
  requested: boolean;
  changeable: boolean;
}

export interface NativeIo {
  afpOpen(options: NativeAfpOptions, d: NativeDescriptors, netns: string | undefined): NativeOpenResult;
  tunOpen(options: NativeTunOptions, d: NativeDescriptors, netns: string | undefined): NativeOpenResult;
  portStart(
    h: NativeHandle,
    onBatch: (count: number) => void,
    onError: (code: string, errno: number) => void,
  ): void;
  portStop(h: NativeHandle): void;
  portRelease(h: NativeHandle): void;
  portSend(
    h: NativeHandle,
    data: Uint8Array,
    offset: Uint32Array,
    length: Uint32Array,
    count: number,
    slots: Uint16Array | Uint32Array | null,
    head: Uint8Array | null,
    headLen: Uint8Array | null,
    extra: Uint16Array | null,
  ): number;
  portStats(h: NativeHandle, out: Float64Array): void;
  portSetIndex(h: NativeHandle, index: number): void;
  portClose(h: NativeHandle): void;
  linkInfo(name: string, netns: string | undefined): NativeLink;
  linkSetUp(name: string, up: boolean, netns: string | undefined): void;
  linkSetMtu(name: string, mtu: number, netns: string | undefined): void;
  featuresGet(name: string, netns: string | undefined): Record<string, FeatureState>;
  featuresSet(
    name: string,
    want: Record<string, boolean>,
    netns: string | undefined,
  ): Record<string, FeatureState>;
  readonly counterCount: number;
}

/** Absolute path of the built addon. */
export const ADDON_PATH = fileURLToPath(
  new URL('../../../native/build/Release/ferry_io.node', import.meta.url),
);

let cached: NativeIo | undefined;

/** The addon, loaded once; throws an error that names the missing build step. */
export function loadNative(): NativeIo {
  if (cached) return cached;
  if (process.platform !== 'linux') {
    throw new Error(`ferry's native I/O (AF_PACKET, TUN/TAP) is Linux-only; this is ${process.platform}`);
  }
  if (!existsSync(ADDON_PATH)) {
    throw new Error(
      `ferry's native I/O addon is not built (${ADDON_PATH} is missing): ` +
        'run "npm install" (builds native/ with node-gyp; needs g++ and Node headers)',
    );
  }
  const require = createRequire(import.meta.url);
  try {
    cached = require(ADDON_PATH) as NativeIo;
  } catch (err) {
    throw new Error(
      `ferry's native I/O addon at ${ADDON_PATH} failed to load (${(err as Error).message}): ` +
        'rebuild it with "npm run install" (node-gyp; needs g++ and Node headers)',
    );
  }
  return cached;
}
