/**
 * `ferry status` for people: one section per part of the router, in aligned columns the way
 * `ip -s link`, `ip neigh`, `ip route`, `conntrack -S` and `wg show` print theirs. Sections with
 * nothing to show are left out.
 */
import { bytes, duration, si, table } from './text.js';
import type { PortStatus, StatusSnapshot } from './types.js';

function linkText(p: PortStatus): string {
  if (!p.link) return '-';
  if (!p.link.up) return 'down';
  return p.link.running ? 'up' : `up (${p.link.operstate})`;
}

function dropTotal(p: PortStatus): number {
  return Object.values(p.drops).reduce((a, b) => a + b, 0);
}

function rateText(pps: number, bps: number): string {
  return `${si(pps)} pps ${si(bps)}bit/s`;
}

function portsSection(s: StatusSnapshot): string[] {
  const withRate = s.ports.find((p) => p.rate !== null)?.rate;
  const head = withRate ? `ports (rates over the last ${duration(withRate.seconds)})` : 'ports';
  const rows = s.ports.map((p) => [
    p.name,
    p.kind,
    linkText(p),
    p.mac ?? '-',
    String(p.mtu),
    String(p.rx.packets),
    bytes(p.rx.bytes),
    String(p.tx.packets),
    bytes(p.tx.bytes),
    String(dropTotal(p)),
    p.rate ? rateText(p.rate.rxPacketsPerSec, p.rate.rxBitsPerSec) : '-',
    p.rate ? rateText(p.rate.txPacketsPerSec, p.rate.txBitsPerSec) : '-',
  ]);
  const lines = [
    head,
    ...table(
      [
        { title: 'NAME' },
        { title: 'KIND' },
        { title: 'LINK' },
        { title: 'MAC' },
        { title: 'MTU', right: true },
        { title: 'RX PACKETS', right: true },
        { title: 'RX BYTES', right: true },
        { title: 'TX PACKETS', right: true },
        { title: 'TX BYTES', right: true },
        { title: 'DROPS', right: true },
        { title: 'RX RATE' },
        { title: 'TX RATE' },
      ],
      rows,
    ),
  ];
  for (const p of s.ports) {
    const nonZero = Object.entries(p.drops).filter(([, v]) => v > 0);
    if (nonZero.length) lines.push(`  ${p.name} drops: ${nonZero.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  return lines;
}

function neighboursSection(s: StatusSnapshot): string[] {
  if (s.neighbours.length === 0) return [];
  return [
    'neighbours',
    ...table(
      [
        { title: 'ADDRESS' },
        { title: 'PORT' },
        { title: 'MAC' },
        { title: 'STATE' },
        { title: 'AGE', right: true },
        { title: 'QUEUED', right: true },
      ],
      s.neighbours.map((n) => [n.address, n.port, n.mac ?? '-', n.state, duration(n.age), String(n.queued)]),
    ),
  ];
}

function routesSection(s: StatusSnapshot): string[] {
  const lines: string[] = [];
  for (const t of s.routes) {
    lines.push(`routes, table ${t.name}${t.name === String(t.id) ? '' : ` (${t.id})`}`);
    for (const r of t.routes) lines.push(`  ${r.text}`);
  }
  if (s.rules.length) {
    lines.push('rules (no per-rule hit counters: the route lookup keeps none)');
    for (const r of s.rules) lines.push(`  ${`${r.priority}:`.padEnd(7)}${r.text}`);
  }
  return lines;
}

function chainsSection(s: StatusSnapshot): string[] {
  const c = s.chains;
  if (!c) return [];
  const lines: string[] = [];
  if (c.rules.length) {
    lines.push(
      'rule counters',
      ...table(
        [
          { title: 'CHAIN' },
          { title: 'RULE', right: true },
          { title: 'PACKETS', right: true },
          { title: 'BYTES', right: true },
          { title: 'RULE TEXT' },
        ],
        c.rules.map((r) => [
          r.chain,
          String(r.rule),
          String(r.packets),
          bytes(r.bytes),
          r.comment ? `${r.text}  # ${r.comment}` : r.text,
        ]),
      ),
    );
  }
  if (c.policies.length) {
    lines.push(
      'chain policies',
      ...table(
        [{ title: 'CHAIN' }, { title: 'HOOK' }, { title: 'POLICY' }, { title: 'PACKETS', right: true }],
        c.policies.map((p) => [p.chain, p.hook, p.policy, String(p.packets)]),
      ),
    );
  }
  if (c.jumpTooDeep) lines.push(`  ${c.jumpTooDeep} packets dropped for jumps nested too deep`);
  return lines;
}

function dhcpSection(s: StatusSnapshot): string[] {
  const lines: string[] = [];
  if (s.dhcpClients.length) {
    lines.push(
      'dhcp clients',
      ...table(
        [
          { title: 'PORT' },
          { title: 'STATE' },
          { title: 'ADDRESS' },
          { title: 'SERVER' },
          { title: 'RENEW (T1)' },
          { title: 'REBIND (T2)' },
          { title: 'EXPIRES' },
        ],
        s.dhcpClients.map((c) => {
          const l = c.lease;
          if (!l) return [c.port, c.state, '-', '-', '-', '-', '-'];
          return [
            c.port,
            c.state,
            `${l.address}/${l.prefixLen}`,
            l.server,
            duration(l.t1In),
            duration(l.t2In),
            l.expiresIn === null ? 'never' : duration(l.expiresIn),
          ];
        }),
      ),
    );
  }
  const r = s.dhcpRelay;
  if (r) {
    const counters = Object.entries(r.counters).filter(([k]) => !/^(request|reply)-/.test(k));
    lines.push(
      `dhcp relay: ${counters.length ? counters.map(([k, v]) => `${k} ${v}`).join(', ') : 'nothing relayed yet'}`,
    );
    if (r.messages.length) {
      const types = [...new Set(r.messages.map((m) => m.type))];
      const get = (t: string, d: string): string =>
        String(r.messages.find((m) => m.type === t && m.direction === d)?.count ?? 0);
      lines.push(
        ...table(
          [{ title: 'TYPE' }, { title: 'TO SERVER', right: true }, { title: 'TO CLIENT', right: true }],
          types.map((t) => [t, get(t, 'to-server'), get(t, 'to-client')]),
        ),
      );
    }
  }
  return lines;
}

function conntrackSection(s: StatusSnapshot): string[] {
  const c = s.conntrack;
  if (!c) return [];
  const pct = c.capacity ? ((100 * c.flows) / c.capacity).toFixed(1) : '0';
  const lines = [
    `conntrack: ${c.flows} flows of ${c.capacity} (${pct}%), ${c.natBindings} NAT bindings, ` +
      `${c.earlyDrops} early drops, ${c.insertFailed} refused when full, ${c.created} created, ${c.expired} expired` +
      (c.natExhausted ? `, NAT ports exhausted ${c.natExhausted} times` : ''),
  ];
  if (c.byState.length)
    lines.push(
      ...table(
        [{ title: 'PROTO' }, { title: 'STATE' }, { title: 'FLOWS', right: true }],
        c.byState.map((b) => [b.proto, b.state, String(b.flows)]),
      ),
    );
  return lines;
}

function dropsSection(s: StatusSnapshot): string[] {
  const d = Object.entries(s.drops).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (d.length === 0) return ['drops: none'];
  return [
    'drops',
    ...table(
      [{ title: 'REASON' }, { title: 'PACKETS', right: true }],
      d.map(([k, v]) => [k, String(v)]),
    ),
  ];
}

function overlaysSection(s: StatusSnapshot): string[] {
  if (s.overlaysError !== null) return [`overlay peers: cannot read them: ${s.overlaysError}`];
  if (s.overlays.length === 0) return [];
  return [
    'overlay peers',
    ...table(
      [
        { title: 'INTERFACE' },
        { title: 'PEER' },
        { title: 'ENDPOINT' },
        { title: 'ALLOWED IPS' },
        { title: 'HANDSHAKE' },
        { title: 'RX', right: true },
        { title: 'TX', right: true },
      ],
      s.overlays.map((p) => [
        p.interface,
        p.publicKey,
        p.endpoint ?? '(none)',
        p.allowedIps.join(',') || '(none)',
        p.handshakeAge === null ? 'never' : `${duration(p.handshakeAge)} ago`,
        bytes(p.rxBytes),
        bytes(p.txBytes),
      ]),
    ),
  ];
}

export function formatStatus(s: StatusSnapshot): string {
  const f = s.ferry;
  const sections = [
    [`ferry ${f.version}, pid ${f.pid}, up ${duration(f.uptime)}, config ${f.configPath}`],
    portsSection(s),
    s.portErrors.length ? ['port errors', ...s.portErrors.map((e) => `  ${e}`)] : [],
    neighboursSection(s),
    routesSection(s),
    chainsSection(s),
    dhcpSection(s),
    conntrackSection(s),
    dropsSection(s),
    overlaysSection(s),
  ].filter((sec) => sec.length > 0);
  return `${sections.map((sec) => sec.join('\n')).join('\n\n')}\n`;
}
