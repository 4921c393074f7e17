/**
 * The relay's side of the relay agent information option (option 82, RFC 3046): the value it
 * inserts for each port, encoded once when the relay is built, and the two message edits the
 * codec in `wire/dhcpv4-options.ts` leaves to the relay: finding option 82 in the options field
 * only, and adding a second instance after one a downstream agent put there.
 */
import { EMPTY } from '../wire/bytes.js';
import {
  AREA_OPTIONS,
  DHCP_OPT_END,
  DHCP_OPT_RELAY_AGENT_INFO,
  Dhcpv4OptionCursor,
  type Dhcpv4View,
} from '../wire/dhcpv4.js';
import {
  emitRelayAgentInfo,
  RELAY_SUBOPT_CIRCUIT_ID,
  RELAY_SUBOPT_REMOTE_ID,
  type RelayAgentInfoView,
} from '../wire/dhcpv4-options.js';
import { WireError } from '../wire/errors.js';

/** An option's value is at most 255 bytes (RFC 2132 §2). */
export const AGENT_INFO_MAX = 255;

/**
 * Encodes the option 82 value this relay adds: sub-option 1, the circuit the request came in on
 * (RFC 3046 §3.1), then sub-option 2 when a remote id is configured (§3.2). Throws RangeError
 * when the identifiers do not fit one option (a configuration error, found at build time).
 */
export function encodeAgentInfo(circuitId: Uint8Array, remoteId: Uint8Array | null): Uint8Array {
  const subs = [{ code: RELAY_SUBOPT_CIRCUIT_ID, data: circuitId }];
  if (remoteId !== null) subs.push({ code: RELAY_SUBOPT_REMOTE_ID, data: remoteId });
  const out = new Uint8Array(AGENT_INFO_MAX);
  const n = emitRelayAgentInfo(subs, out, 0);
  return out.slice(0, n);
}

/**
 * Finds option `code` in the options field proper, never in an overloaded `file`/`sname`: a relay
 * SHALL NOT parse or remove option 82 there (RFC 3046 §2.1). Reuse one instance: no allocation.
 */
export class OptionsFieldFinder {
  /** Absolute offset and length of the value found by the last successful `find`. */
  off = 0;
  len = 0;
  private readonly cursor = new Dhcpv4OptionCursor();

  find(v: Dhcpv4View, code: number): boolean {
    const c = this.cursor;
    c.start(v);
    while (c.next()) {
      if (c.area !== AREA_OPTIONS) return false;
      if (c.code === code) {
        this.off = c.valueOff;
        this.len = c.len;
        return true;
      }
    }
    return false;
  }
}

/**
 * Adds option 82 with value info[0..infoLen) as the last option, before END, even though the
 * message already carries one: the "append" policy for a request a downstream agent already
 * tagged (ISC dhcrelay `-m append`). A receiver joins the instances into one value (RFC 3396 §6),
 * so this reads as our sub-options after theirs. Grows the message only as far as `maxLen`;
 * NoRoom otherwise (RFC 3046 §2.1: the caller forwards without it and counts). On Ok the view's
 * `len` and `endOff` describe the grown message.
 */
export function appendAgentInfo(v: Dhcpv4View, maxLen: number, info: Uint8Array, infoLen: number): WireError {
  if (!v.hasMagic) return WireError.Unsupported;
  if (infoLen > AGENT_INFO_MAX || infoLen > info.length) return WireError.BadLength;
  const b = v.buf;
  const at = v.endOff >= 0 ? v.endOff : v.off + v.len;
  const newEnd = at + 2 + infoLen + 1;
  const newLen = Math.max(newEnd - v.off, v.len);
  if (newLen > maxLen || v.off + newLen > b.length) return WireError.NoRoom;
  b[at] = DHCP_OPT_RELAY_AGENT_INFO;
  b[at + 1] = infoLen;
  for (let i = 0; i < infoLen; i++) b[at + 2 + i] = info[i]!;
  b[newEnd - 1] = DHCP_OPT_END;
  v.len = newLen;
  v.endOff = newEnd - 1;
  return WireError.Ok;
}

/** True when sub-option `code` of `ri` holds exactly want[0..wantLen). */
export function subOptionEquals(
  ri: RelayAgentInfoView,
  code: number,
  want: Uint8Array,
  wantLen: number,
): boolean {
  if (!ri.find(code) || ri.subLen !== wantLen) return false;
  for (let i = 0; i < wantLen; i++) if (ri.buf[ri.subOff + i] !== want[i]) return false;
  return true;
}

/** UTF-8 bytes of a configured identifier (port names and ids are ASCII in practice). */
export function identifierBytes(s: string | null): Uint8Array | null {
  return s === null ? null : s.length === 0 ? EMPTY : new TextEncoder().encode(s);
}
