/** Scenarios after netfilter's and VPP's NAT tests: TCP close and reopen, RST, reordering, connmark return routing. */
import { describe, expect, it } from 'vitest';
import { CT_ESTABLISHED, CT_NEW } from '../../../src/control/config/types.js';
import {
  TCP_CLOSE,
  TCP_ESTABLISHED,
  TCP_SYN_SENT,
  TCP_TIME_WAIT,
} from '../../../src/dataplane/conntrack/tcp-states.js';
import type { Pipeline } from '../../../src/dataplane/pipeline/pipeline.js';
import { VERDICT_ACCEPT } from '../../../src/dataplane/stages/hook.js';
import { udp } from '../../helpers/frames.js';
import { ctProbe, fromLan, fromWan, hdr, idle, natRig, out, tcp, WAN_IP } from './nat-rig.js';

const SERVER = '198.51.100.7';
const H = '10.1.0.33';

function open(r: ReturnType<typeof natRig>, isn = 1000, sisn = 5000): void {
  fromLan(r, H, tcp({ src: H, dst: SERVER }, 40000, 443, { seq: isn, flags: 0x02 }));
  fromWan(r, tcp({ src: SERVER, dst: WAN_IP }, 443, 40000, { seq: sisn, ack: isn + 1, flags: 0x12 }));
  fromLan(r, H, tcp({ src: H, dst: SERVER }, 40000, 443, { seq: isn + 1, ack: sisn + 1, flags: 0x10 }));
}

const flowState = (r: ReturnType<typeof natRig>): number => {
  const t = r.engine.conntrack!.table;
  return t.getState(t.nextFlow(-1));
};

describe('TCP through masquerade', () => {
  it('close with FINs reaches TIME_WAIT; a new SYN on the same tuple reopens it (RFC 9293 §3.10.7.4)', () => {
    const r = natRig();
    open(r);
    expect(flowState(r)).toBe(TCP_ESTABLISHED);
    fromLan(r, H, tcp({ src: H, dst: SERVER }, 40000, 443, { seq: 1001, ack: 5001, flags: 0x11 }));
    fromWan(r, tcp({ src: SERVER, dst: WAN_IP }, 443, 40000, { seq: 5001, ack: 1002, flags: 0x11 }));
    fromLan(r, H, tcp({ src: H, dst: SERVER }, 40000, 443, { seq: 1002, ack: 5002, flags: 0x10 }));
    expect(flowState(r)).toBe(TCP_TIME_WAIT);
    out(r, 'wan');
    fromLan(r, H, tcp({ src: H, dst: SERVER }, 40000, 443, { seq: 90_000, flags: 0x02 }));
    expect(hdr(out(r, 'wan')[0]!)).toMatchObject({ src: WAN_IP, sport: 40000 });
    expect(flowState(r)).toBe(TCP_SYN_SENT);
    expect(r.engine.conntrack!.table.count).toBe(1);
  });

  it('an in-window RST closes the connection (CLOSE, tcp-close timeout); one far out of window does not', () => {
    const r = natRig();
    open(r);
    fromWan(r, tcp({ src: SERVER, dst: WAN_IP }, 443, 40000, { seq: 3_000_000_000, flags: 0x04 }));
    expect(flowState(r)).toBe(TCP_ESTABLISHED);
    fromWan(r, tcp({ src: SERVER, dst: WAN_IP }, 443, 40000, { seq: 5001, flags: 0x04 }));
    expect(flowState(r)).toBe(TCP_CLOSE);
    expect(hdr(out(r, 'lan').at(-1)!)).toMatchObject({ dst: H, dport: 40000 });
    idle(r, 241); // tcp-close: 4 min after a RST (RFC 7857 §2.2)
    fromWan(r, tcp({ src: SERVER, dst: WAN_IP }, 443, 40000, { seq: 5001, ack: 1001, flags: 0x10 }));
    expect(out(r, 'lan')).toEqual([]);
  });

  it('segments reordered within the window stay ESTABLISHED', () => {
    const r = natRig();
    const seen = ctProbe(r, 'forward');
    open(r);
    fromWan(
      r,
      tcp({ src: SERVER, dst: WAN_IP }, 443, 40000, { seq: 6001, ack: 1001, flags: 0x10, payload: 1000 }),
    );
    fromWan(
      r,
      tcp({ src: SERVER, dst: WAN_IP }, 443, 40000, { seq: 5001, ack: 1001, flags: 0x10, payload: 1000 }),
    );
    expect(seen.slice(3).map((x) => x.state)).toEqual([CT_ESTABLISHED, CT_ESTABLISHED]);
    expect(out(r, 'lan').filter((p) => p[9] === 6)).toHaveLength(3);
  });

  it('a reply with an unsolicited SYN/ACK to a mapped port is not a flow (INVALID, not forwarded inside)', () => {
    const r = natRig();
    fromWan(r, tcp({ src: SERVER, dst: WAN_IP }, 443, 40000, { seq: 1, ack: 1, flags: 0x12 }));
    expect(out(r, 'lan')).toEqual([]);
  });
});

describe('seed 002: connmark-tagged return routing', () => {
  it('a connection tagged on arrival (ct mark 42) has its replies routed by table 42 via the tunnel', () => {
    const r = natRig({
      forward: { port: 1194, to: { kind: 'dnat', addr: '10.1.0.53', min: 1194, max: 1194 } },
    });
    // prerouting: `iif wan dscp 42 ct mark set 42`; `iif lan meta mark set ct mark` (restore on the way back).
    r.engine.hooks.prerouting.programs.unshift({
      run(pipe: Pipeline, s: number): number {
        const m = pipe.meta;
        const tos = pipe.batch.data[m.l3Off[s]! + 1]!;
        if (m.inPort[s] === 1 && tos >>> 2 === 42) m.ctMark[s] = 42;
        if (m.inPort[s] === 0) m.mark[s] = m.ctMark[s]!;
        return VERDICT_ACCEPT;
      },
    });
    const seen = ctProbe(r, 'forward');
    const req = udp({ src: '203.0.113.9', dst: WAN_IP }, 5000, 1194);
    req[1] = 42 << 2;
    req[10] = 0;
    req[11] = 0;
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += (req[i]! << 8) | req[i + 1]!;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    req[10] = (~sum >> 8) & 255;
    req[11] = ~sum & 255;
    fromWan(r, req);
    expect(hdr(out(r, 'lan')[0]!)).toMatchObject({ dst: '10.1.0.53', dport: 1194 });
    fromLan(r, '10.1.0.53', udp({ src: '10.1.0.53', dst: '203.0.113.9' }, 1194, 5000));
    expect(out(r, 'wan')).toEqual([]);
    const [back] = out(r, 'tun');
    expect(hdr(back!)).toMatchObject({ src: WAN_IP, sport: 1194, dst: '203.0.113.9', dport: 5000 });
    expect(seen.map((x) => [x.state, x.ctMark, x.mark])).toEqual([
      [CT_NEW, 42, 0],
      [CT_ESTABLISHED, 42, 42],
    ]);
  });
});
