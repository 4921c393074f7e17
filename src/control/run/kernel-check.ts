/**
 * What ferry expects of the kernel around it, checked at start and reported as warnings (ferry
 * still starts): kernel IPv4 forwarding off on its ports, since ferry forwards in userspace and
 * needs neither the kernel's routing of transit packets nor netfilter; and, with a host port, a
 * reverse-path filter that stays strict on ferry's NICs.
 */
import { confKey, readConf, readSysctl } from './host-setup.js';

export interface KernelWarning {
  readonly sysctl: string;
  readonly value: string;
  /** The command that fixes it. */
  readonly fix: string;
  readonly msg: string;
}

/**
 * Kernel forwarding on ferry's port devices: with it on, the kernel would route what ferry also
 * forwards (frames reach both the AF_PACKET socket and the stack), sending duplicates.
 * net.ipv4.ip_forward=1 turns forwarding on for every interface, so it is reported alone.
 */
export function forwardingWarnings(devices: readonly string[]): KernelWarning[] {
  const global = readSysctl('/proc/sys/net/ipv4/ip_forward');
  if (global === '1') {
    return [
      {
        sysctl: 'net.ipv4.ip_forward',
        value: global,
        fix: 'sysctl -w net.ipv4.ip_forward=0',
        msg: `kernel IPv4 forwarding is on (net.ipv4.ip_forward=1, so on ${devices.join(', ')} too): the kernel may forward packets ferry forwards as well; ferry needs no kernel forwarding, turn it off with \`sysctl -w net.ipv4.ip_forward=0\``,
      },
    ];
  }
  const out: KernelWarning[] = [];
  for (const dev of devices) {
    const v = readConf(dev, 'forwarding');
    if (v !== '1') continue;
    const key = confKey(dev, 'forwarding');
    out.push({
      sysctl: key,
      value: v,
      fix: `sysctl -w ${key}=0`,
      msg: `kernel forwarding is on for ${dev} (${key}=1): the kernel may forward packets ferry forwards as well; turn it off with \`sysctl -w ${key}=0\``,
    });
  }
  return out;
}

/**
 * The kernel applies max(conf.all.rp_filter, conf.<dev>.rp_filter): all=2 (loose) overrides the
 * strict filter the host port sets on ferry's NICs, and the kernel would answer there.
 */
export function rpFilterWarning(): KernelWarning | null {
  const all = readConf('all', 'rp_filter');
  if (all !== '2') return null;
  return {
    sysctl: 'net.ipv4.conf.all.rp_filter',
    value: all,
    fix: 'sysctl -w net.ipv4.conf.all.rp_filter=1',
    msg: "net.ipv4.conf.all.rp_filter=2 (loose) overrides the strict filter ferry sets on its NICs for the host port, so the kernel may answer packets there that are ferry's; set it to 1 (`sysctl -w net.ipv4.conf.all.rp_filter=1`) or 0",
  };
}
