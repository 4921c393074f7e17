/**
 * Turns trace records into a story a person can read: where the packet came from, what its
 * headers say, what each stage decided, and how it ended.
 *
 *   #3  1700000000.000001000  in eth1, 98 bytes
 *       eth 0a:00:00:00:00:33 → 02:00:00:00:00:01 · ip 192.168.0.53 → 192.168.1.30 ttl 64 · icmp echo request id 119 seq 1
 *     1 eth-input    unicast to us IPv4 frame
 *     2 ip4-input    192.168.0.53 → 192.168.1.30 proto icmp ttl 64 len 84: header valid
 *     …
 *       ⇒ sent on tailscale0
 */
import { fromHex } from '../../dataplane/wire/bytes.js';
import { type DissectLayer, dissectFrame } from '../../dataplane/wire/dissect.js';
import type { TraceRecord } from './record.js';

const ICMP_TYPES: Record<string, string> = {
  '0': 'echo reply',
  '3': 'destination unreachable',
  '8': 'echo request',
  '11': 'time exceeded',
  '12': 'parameter problem',
  '5': 'redirect',
};

const DHCP_TYPES = ['', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM'];

function field(l: DissectLayer, name: string): string | undefined {
  return l.fields.find((f) => f.name === name)?.value;
}

/** One short phrase per layer, the way `tcpdump` summarises a packet. */
export function summariseLayer(l: DissectLayer): string {
  const f = (n: string) => field(l, n) ?? '?';
  let text: string;
  switch (l.name) {
    case 'eth':
      text = `eth ${f('eth.src')} → ${f('eth.dst')}`;
      break;
    case 'vlan':
      text = `vlan ${f('vlan.id')}`;
      break;
    case 'arp':
      text =
        f('arp.opcode') === '1'
          ? `arp who-has ${f('arp.dst.proto_ipv4')} tell ${f('arp.src.proto_ipv4')}`
          : `arp ${f('arp.src.proto_ipv4')} is-at ${f('arp.src.hw_mac')}`;
      break;
    case 'ip':
      text = `ip ${f('ip.src')} → ${f('ip.dst')} ttl ${f('ip.ttl')}${field(l, 'ip.flags.mf') === '1' || field(l, 'ip.frag_offset') !== '0' ? ` frag@${f('ip.frag_offset')}` : ''}`;
      break;
    case 'ipv6':
      text = `ipv6 ${f('ipv6.src')} → ${f('ipv6.dst')} hlim ${f('ipv6.hlim')}`;
      break;
    case 'icmp':
      text = `icmp ${ICMP_TYPES[f('icmp.type')] ?? `type ${f('icmp.type')}`}${field(l, 'icmp.ident') ? ` id ${f('icmp.ident')} seq ${f('icmp.seq')}` : ` code ${f('icmp.code')}`}`;
      break;
    case 'icmpv6':
      text = `icmpv6 type ${f('icmpv6.type')} code ${f('icmpv6.code')}`;
      break;
    case 'udp':
      text = `udp ${f('udp.srcport')} → ${f('udp.dstport')}`;
      break;
    case 'tcp':
      text = `tcp ${f('tcp.srcport')} → ${f('tcp.dstport')} flags ${f('tcp.flags')}`;
      break;
    case 'dhcp': {
      const t = Number(field(l, 'dhcp.option.dhcp') ?? 0);
      text = `dhcp ${DHCP_TYPES[t] || 'BOOTP'} xid ${f('dhcp.id')}`;
      break;
    }
    default:
      text = l.name;
  }
  return l.error ? `${text} [${l.error}]` : text;
}

/** How the packet's journey ended, from its last step. */
function ending(r: TraceRecord): string {
  const last = r.steps[r.steps.length - 1];
  if (!last) return 'no stage recorded anything';
  if (last.text.startsWith('drop: ')) return `✗ dropped: ${last.text.slice(6)}`;
  const sent = /^transmitted on (\S+)/.exec(last.text);
  if (sent) return `⇒ sent on ${sent[1]}`;
  return `· no further output of this packet (it ends at ${last.stage})`;
}

export function formatStory(r: TraceRecord): string {
  const lines: string[] = [];
  lines.push(
    `#${r.id}  ${r.ts}  ${r.port === '(router)' ? 'originated by the router' : `in ${r.port}`}, ${r.length} bytes`,
  );
  // The trace keeps only the first bytes; give the dissector a frame of the real length (the
  // missing payload as zeros) so length fields hold and the headers read as they arrived.
  const head = fromHex(r.head);
  const frame = head.length < r.length && r.length <= 65_535 ? new Uint8Array(r.length) : head;
  if (frame !== head) frame.set(head);
  const layers = dissectFrame(frame, r.link);
  if (layers.length) {
    const cut = frame !== head ? ` (headers from the first ${head.length} bytes)` : '';
    lines.push(`    ${layers.map(summariseLayer).join(' · ')}${cut}`);
  }
  const width = Math.max(0, ...r.steps.map((s) => s.stage.length));
  r.steps.forEach((s, i) => {
    lines.push(`  ${String(i + 1).padStart(2)} ${s.stage.padEnd(width)}  ${s.text}`);
  });
  lines.push(`    ${ending(r)}`);
  return lines.join('\n');
}
