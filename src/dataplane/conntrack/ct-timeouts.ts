/**
 * Conntrack timeouts in seconds (what FlowTable takes), from the config's milliseconds, plus the
 * check of a timeout set against the NAT RFCs' floors. Linux's defaults (nf_conntrack-sysctl.rst)
 * sit below several of them, so ferry's defaults are raised to the floors; a config that lowers
 * them is allowed, and `rfcShortfalls` names what falls short, so `ferry check` can say so.
 */
import type { ConntrackConfig, ConntrackTimeouts } from '../../control/config/types.js';

export class CtTimeouts {
  // The config's defaults (src/control/config/semantic/services.ts): RFC floors, none short.
  tcpSynSent = 240;
  tcpSynRecv = 240;
  tcpEstablished = 432_000;
  tcpFinWait = 240;
  tcpCloseWait = 240;
  tcpLastAck = 240;
  tcpTimeWait = 240;
  tcpClose = 240;
  udp = 120;
  udpStream = 300;
  icmp = 60;
  generic = 600;

  static fromConfig(t: ConntrackTimeouts): CtTimeouts {
    const c = new CtTimeouts();
    c.tcpSynSent = t.tcpSynSent / 1000;
    c.tcpSynRecv = t.tcpSynRecv / 1000;
    c.tcpEstablished = t.tcpEstablished / 1000;
    c.tcpFinWait = t.tcpFinWait / 1000;
    c.tcpCloseWait = t.tcpCloseWait / 1000;
    c.tcpLastAck = t.tcpLastAck / 1000;
    c.tcpTimeWait = t.tcpTimeWait / 1000;
    c.tcpClose = t.tcpClose / 1000;
    c.udp = t.udp / 1000;
    c.udpStream = t.udpStream / 1000;
    c.icmp = t.icmp / 1000;
    c.generic = t.generic / 1000;
    return c;
  }
}

/** Runtime settings of connection tracking, from the config. */
export interface CtSettings {
  capacity: number;
  liberal: boolean;
  timeouts: CtTimeouts;
}

export function ctSettings(c: ConntrackConfig): CtSettings {
  return { capacity: c.capacity, liberal: c.liberal, timeouts: CtTimeouts.fromConfig(c.timeouts) };
}

/**
 * The timeouts below the NAT RFCs' floors, as sentences (empty when none):
 * RFC 4787 REQ-5 (UDP mapping ≥ 2 min, 5 min RECOMMENDED — checked against the 5 min after a
 * reply), RFC 5382 REQ-5 (TCP established ≥ 2 h 4 min, transitory ≥ 4 min), RFC 5508 REQ-2
 * (ICMP query ≥ 60 s).
 */
export function rfcShortfalls(t: CtTimeouts): string[] {
  const out: string[] = [];
  const below = (what: string, v: number, floor: number, req: string): void => {
    if (v < floor) out.push(`${what} ${v} s < ${floor} s (${req})`);
  };
  below('udp-stream', t.udpStream, 300, 'RFC 4787 REQ-5');
  below('udp', t.udp, 120, 'RFC 4787 REQ-5');
  below('tcp-established', t.tcpEstablished, 7440, 'RFC 5382 REQ-5');
  below('tcp-syn-sent', t.tcpSynSent, 240, 'RFC 5382 REQ-5 transitory');
  below('tcp-syn-recv', t.tcpSynRecv, 240, 'RFC 5382 REQ-5 transitory');
  below('tcp-fin-wait', t.tcpFinWait, 240, 'RFC 5382 REQ-5 transitory');
  below('tcp-close-wait', t.tcpCloseWait, 240, 'RFC 5382 REQ-5 transitory');
  below('tcp-last-ack', t.tcpLastAck, 240, 'RFC 5382 REQ-5 transitory');
  below('tcp-time-wait', t.tcpTimeWait, 240, 'RFC 5382 REQ-5 transitory');
  below('icmp', t.icmp, 60, 'RFC 5508 REQ-2');
  return out;
}
