/**
 * Turns the addon's errno errors into messages that say what is wrong and how to fix it.
 * The addon throws Errors carrying `code` ("EPERM"), `errno`, `syscall` and `target`.
 */
export class FerryIoError extends Error {
  override readonly name = 'FerryIoError';
  constructor(
    message: string,
    /** errno name ("EPERM", "ENODEV", ...) or a ferry code ("GSO_WITHOUT_VNET"). */
    readonly code: string,
    readonly errno: number,
    readonly syscall: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface SysError {
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
  target?: unknown;
  message?: unknown;
}

const CAPS_HINT = 'run as root or `setcap cap_net_raw,cap_net_admin+ep $(command -v node)`';

/** What was being opened, for the messages. */
export interface IoErrorContext {
  /** Interface (or TUN/TAP name) being opened. */
  iface: string;
  netns?: string | undefined;
  tun?: { type: 'tun' | 'tap'; exclusive?: boolean } | undefined;
}

/** Wraps whatever the addon threw into a FerryIoError with an actionable message. */
export function ioError(err: unknown, ctx: IoErrorContext): Error {
  if (err instanceof FerryIoError || !(err instanceof Error)) return err as Error;
  const e = err as Error & SysError;
  if (typeof e.code !== 'string' || typeof e.syscall !== 'string') return err;
  const code = e.code;
  const syscall = e.syscall;
  const errno = typeof e.errno === 'number' ? e.errno : 0;
  const target = typeof e.target === 'string' ? e.target : ctx.iface;
  const where = ctx.netns ? ` in network namespace ${ctx.netns}` : '';
  const ipLink = ctx.netns ? `ip -n ${ctx.netns} link` : 'ip link';
  let msg: string;
  if (syscall === 'open netns' || syscall === 'setns') {
    msg =
      code === 'ENOENT'
        ? `network namespace ${ctx.netns ?? target} does not exist (see \`ip netns list\`)`
        : code === 'EPERM' || code === 'EACCES'
          ? `ferry needs CAP_SYS_ADMIN to enter network namespace ${ctx.netns ?? target} (run as root)`
          : `cannot enter network namespace ${ctx.netns ?? target}: ${e.message}`;
  } else if (syscall === 'open' && target === '/dev/net/tun') {
    msg =
      code === 'ENOENT' || code === 'ENODEV'
        ? '/dev/net/tun is missing: load the tun module (`modprobe tun`) or create the device node ' +
          '(`mkdir -p /dev/net && mknod /dev/net/tun c 10 200`)'
        : code === 'EPERM' || code === 'EACCES'
          ? `ferry cannot open /dev/net/tun to create ${ctx.iface} (permission denied): ${CAPS_HINT}`
          : `cannot open /dev/net/tun: ${e.message}`;
  } else if (code === 'EPERM' || code === 'EACCES') {
    msg = `ferry needs CAP_NET_RAW and CAP_NET_ADMIN to open ${ctx.iface}${where} (${CAPS_HINT})`;
  } else if (code === 'ENODEV' || (code === 'ENXIO' && syscall.startsWith('bind'))) {
    msg = `interface ${target} does not exist${where}; list the interfaces with \`${ipLink}\``;
  } else if (syscall === 'TUNSETIFF' && code === 'EBUSY' && ctx.tun?.exclusive) {
    // tun_set_iff() answers IFF_TUN_EXCL on an existing device with EBUSY
    msg = `${ctx.iface} already exists and exclusive: true was asked for`;
  } else if (syscall === 'TUNSETIFF' && code === 'EBUSY') {
    msg =
      `${ctx.iface} is already attached by another process (for example wireguard-go): attach to it through ` +
      `AF_PACKET instead, AfPacketPort.open({ ifname: '${ctx.iface}', mode: 'l3' })`;
  } else if (syscall === 'TUNSETIFF' && code === 'EINVAL') {
    msg =
      `${ctx.iface} exists but is not a ${ctx.tun?.type ?? 'tun'} device with these flags ` +
      '(tun vs tap and multiQueue must match how it was created; see `ip -d link show`)';
  } else if (code === 'ENOPROTOOPT' || code === 'EOPNOTSUPP') {
    msg = `${syscall} is not supported by this kernel on ${ctx.iface}: ${e.message}`;
  } else if (code === 'ENOMEM' && syscall.includes('RING')) {
    msg = `the kernel cannot allocate the packet ring for ${ctx.iface}: lower ring.blockCount / ring.blockSize`;
  } else if (code === 'EINVAL' && syscall.includes('RING')) {
    msg = `the kernel rejected the ring geometry for ${ctx.iface} (${syscall}): check ring.blockSize / frameSize`;
  } else {
    msg = `${ctx.iface}${where}: ${e.message}`;
  }
  return new FerryIoError(msg, code, errno, syscall, { cause: err });
}

/** A FerryIoError for an asynchronous socket error reported on a running port. */
export function socketError(iface: string, code: string, errno: number): FerryIoError {
  if (code === 'GSO_WITHOUT_VNET') {
    return new FerryIoError(
      `${iface} received GSO super-frames larger than its MTU: the sender keeps TSO/GSO/tx checksum offload ` +
        "on (a veth peer in another namespace is out of ferry's reach). Run `ethtool -K <peer> tx off tso off " +
        "gso off` where the peer lives, or open this port with offloads: 'vnet'",
      code,
      0,
      'recv',
    );
  }
  const hint =
    code === 'ENETDOWN'
      ? ` (the link is down; frames flow again when it comes up: \`ip link set ${iface} up\`)`
      : code === 'ENXIO' || code === 'ENODEV'
        ? ' (the interface was removed)'
        : '';
  return new FerryIoError(`${iface}: socket error ${code}${hint}`, code, errno, 'poll');
}
