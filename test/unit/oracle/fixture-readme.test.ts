/**
 * fixtures/pcap/README.md describes every capture scripts/make-fixtures.sh writes, one table row
 * each: no capture without a row, no row without its capture.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIXTURE_DIR, fixtureFiles } from './fixture-set.js';

describe('fixtures/pcap/README.md', () => {
  it('has one row per capture, and only for captures that exist', () => {
    const readme = readFileSync(`${FIXTURE_DIR}README.md`, 'utf8');
    const rows = [...readme.matchAll(/^\|\s*`([^`]+\.pcap(?:ng)?)`\s*\|/gm)].map((m) => m[1]!);
    expect([...rows].sort()).toEqual(fixtureFiles());
  });
});
