/**
 * The committed captures under fixtures/pcap (made by scripts/make-fixtures.sh), read with ferry's
 * own pcap/pcapng reader, plus how each must be decoded: L2TPv3 session layout is configuration,
 * not wire format, so the cookie length comes from the file name for both ferry and tshark.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type CapturePacket, parseCaptureBuffer } from '../../../src/dataplane/pcap/index.js';
import type { DissectLink, DissectOptions } from '../../../src/dataplane/wire/dissect.js';

export const FIXTURE_DIR = fileURLToPath(new URL('../../../fixtures/pcap/', import.meta.url));

export interface FixturePacket extends CapturePacket {
  /** 1-based, as tshark numbers frames. */
  number: number;
  link: DissectLink;
}

export interface FixtureCapture {
  file: string;
  path: string;
  packets: FixturePacket[];
  dissect: DissectOptions;
  /** tshark options that make it decode the file the way ferry is told to. */
  tsharkArgs: string[];
}

export function fixtureFiles(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => /\.pcap(ng)?$/.test(f))
    .sort();
}

/**
 * L2TPv3 captures name their session layout: crafted-l2tpv3-{ip,udp}-{nocookie,cookie4,cookie8},
 * plus `-sublayer` when the Default L2-Specific Sublayer is present.
 */
function l2tpProfile(file: string): { dissect: DissectOptions; tsharkArgs: string[] } {
  if (!file.includes('l2tpv3')) return { dissect: {}, tsharkArgs: [] };
  const cookie = /cookie([48])/.exec(file);
  const len = cookie ? Number(cookie[1]) : 0;
  const sublayer = file.includes('sublayer');
  const size = len === 0 ? 'None' : `${len} Byte Cookie`;
  const specific = sublayer ? 'Default L2-Specific' : 'None';
  return {
    dissect: { l2tpCookieLen: len, l2tpSublayer: sublayer },
    // No session is set up in the capture, so tshark is told the layout and that the pseudowire
    // (type 0, unknown to it) carries Ethernet.
    tsharkArgs: [
      '-o',
      `l2tp.cookie_size:${size}`,
      '-o',
      `l2tp.l2_specific:${specific}`,
      '-d',
      'l2tp.pw_type==0,eth',
    ],
  };
}

export function loadFixture(file: string): FixtureCapture {
  const path = FIXTURE_DIR + file;
  const reader = parseCaptureBuffer(readFileSync(path), file);
  const packets: FixturePacket[] = [];
  for (const p of reader.packets()) {
    const kind = reader.interfaces[p.iface]?.link.kind;
    if (kind !== 'ethernet' && kind !== 'raw-ip') throw new Error(`${file}: unexpected link type ${kind}`);
    packets.push({ ...p, number: packets.length + 1, link: kind });
  }
  if (reader.error) throw reader.error;
  return { file, path, packets, ...l2tpProfile(file) };
}
