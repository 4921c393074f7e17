/**
 * A TUN (IP packets) or TAP (Ethernet frames) port that ferry creates or attaches to by name.
 * RX drains the non-blocking fd with read() until EAGAIN or a full batch, in one native call;
 * TX writes a whole batch in one native call. IFF_NO_PI always (packets start at the IP header);
 * `multiQueue` opens one more queue of a multi-queue device per port (IFF_MULTI_QUEUE).
 *
 * A TUN that another daemon holds (wireguard-go's wg0) cannot be attached here (EBUSY): attach
 * to it with AfPacketPort in mode 'l3'.
 */
import type { PacketBatch } from '../batch.js';
import { ioError } from './io-error.js';
import { type NetnsOption, setLinkMtu, setLinkUp } from './link.js';
import { loadNative, type NativeIo, type NativeOpenResult } from './native.js';
import { NativePort } from './native-port.js';

export interface TunOptions extends NetnsOption {
  /** Device name; "fy%d" lets the kernel pick a free number. */
  name: string;
  type?: 'tun' | 'tap';
  multiQueue?: boolean;
  /** Keep the device when the port closes (TUNSETPERSIST). */
  persist?: boolean;
  /** Fail if the device already exists instead of attaching (IFF_TUN_EXCL). */
  exclusive?: boolean;
  batchSize?: number;
  /** Bring the link up after opening (a new device starts down). */
  up?: boolean;
  mtu?: number;
  index?: number;
}

export class TunPort extends NativePort {
  readonly kind: 'tun' | 'tap';

  static open(o: TunOptions): TunPort {
    const native = loadNative();
    const type = o.type ?? 'tun';
    const batchSize = o.batchSize ?? 256;
    const { rx, rxMeta } = NativePort.descriptors(batchSize);
    let res: NativeOpenResult;
    try {
      res = native.tunOpen(
        {
          name: o.name,
          tap: type === 'tap',
          multiQueue: o.multiQueue ?? false,
          persist: o.persist ?? false,
          exclusive: o.exclusive ?? false,
          batchSize,
          portIndex: o.index ?? 0,
        },
        NativePort.descriptorArrays(rx, rxMeta),
        o.netns,
      );
    } catch (err) {
      throw ioError(err, { iface: o.name, netns: o.netns, tun: { type, exclusive: o.exclusive ?? false } });
    }
    const port = new TunPort(native, res, rx, rxMeta, o, type);
    try {
      if (o.mtu !== undefined) setLinkMtu(port.name, o.mtu, { netns: o.netns });
      if (o.up) setLinkUp(port.name, true, { netns: o.netns });
      if (o.mtu !== undefined) port.mtu = o.mtu;
    } catch (err) {
      port.close();
      throw err;
    }
    return port;
  }

  private constructor(
    native: NativeIo,
    res: NativeOpenResult,
    rx: PacketBatch,
    rxMeta: Uint16Array,
    o: TunOptions,
    type: 'tun' | 'tap',
  ) {
    super(native, res, rx, rxMeta, o.netns);
    this.kind = type;
    if (o.index !== undefined) this.index = o.index;
  }
}
