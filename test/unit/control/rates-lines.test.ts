/** Port rates between status samples (fake clock), and the control socket's line splitter. */
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../../src/control/control-socket/lines.js';
import { type PortCounterSample, PortRates } from '../../../src/control/status/rates.js';
import { bytes, duration, si } from '../../../src/control/status/text.js';

const sample = (
  rxPackets: number,
  rxBytes: number,
  txPackets = 0,
  txBytes = 0,
  drops = 0,
): PortCounterSample => ({
  rxPackets,
  rxBytes,
  txPackets,
  txBytes,
  drops,
});

describe('PortRates', () => {
  it('divides the counters’ growth by the time between samples', () => {
    let now = 100;
    const r = new PortRates(() => now);
    expect(r.sample(new Map([['lan', sample(0, 0)]])).get('lan')).toBeNull();
    now = 110;
    const got = r.sample(new Map([['lan', sample(50, 10_000, 20, 2000, 5)]])).get('lan');
    expect(got).toEqual({
      seconds: 10,
      rxPacketsPerSec: 5,
      rxBitsPerSec: 8000,
      txPacketsPerSec: 2,
      txBitsPerSec: 1600,
      dropsPerSec: 0.5,
    });
  });

  it('measures against a sample at least a second old when requests come quickly', () => {
    let now = 100;
    const r = new PortRates(() => now);
    r.sample(new Map([['lan', sample(0, 0)]]));
    now = 102;
    r.sample(new Map([['lan', sample(100, 0)]]));
    now = 102.1;
    // The 102 s sample is only 0.1 s old: the base is the one from 100 s.
    expect(r.sample(new Map([['lan', sample(105, 0)]])).get('lan')!.rxPacketsPerSec).toBeCloseTo(
      105 / 2.1,
      9,
    );
    now = 103.5;
    // Now the newest sample a second old or more is the one from 102.1 s.
    expect(r.sample(new Map([['lan', sample(120, 0)]])).get('lan')!.seconds).toBeCloseTo(1.4, 9);
  });

  it('gives no rate for a new port or counters that went back (a replaced port)', () => {
    let now = 0;
    const r = new PortRates(() => now);
    r.sample(new Map([['lan', sample(10, 1000)]]));
    now = 5;
    const got = r.sample(
      new Map([
        ['lan', sample(3, 100)],
        ['wan', sample(1, 1)],
      ]),
    );
    expect(got.get('lan')).toBeNull();
    expect(got.get('wan')).toBeNull();
  });
});

describe('LineSplitter', () => {
  it('splits lines across chunks, multi-byte characters included, and skips blank ones', () => {
    const s = new LineSplitter(100);
    const text = Buffer.from('{"a":"é"}\r\n\n{"b":1}\n{"c"');
    expect(s.push(text.subarray(0, 8))).toEqual({ lines: [], overflow: false });
    expect(s.push(text.subarray(8))).toEqual({ lines: ['{"a":"é"}', '{"b":1}'], overflow: false });
    expect(s.push(Buffer.from(':2}'))).toEqual({ lines: [], overflow: false });
    expect(s.end()).toBe('{"c":2}');
  });

  it('reports an unfinished line over the bound', () => {
    const s = new LineSplitter(10);
    expect(s.push(Buffer.from('0123456789')).overflow).toBe(false);
    expect(s.push(Buffer.from('x')).overflow).toBe(true);
  });
});

describe('status text', () => {
  it('sizes, rates and durations', () => {
    expect(bytes(1023)).toBe('1023 B');
    expect(bytes(1536)).toBe('1.50 KiB');
    expect(bytes(50 * 2 ** 20)).toBe('50.0 MiB');
    expect(si(0)).toBe('0');
    expect(si(980)).toBe('980');
    expect(si(12_345)).toBe('12.3k');
    expect(si(2.5e9)).toBe('2.50G');
    expect(duration(0.25)).toBe('0.3s');
    expect(duration(45)).toBe('45s');
    expect(duration(200)).toBe('3m 20s');
    expect(duration(3725)).toBe('1h 02m');
    expect(duration(2 * 86400 + 3 * 3600)).toBe('2d 03h');
    expect(duration(-30)).toBe('30s ago');
    expect(duration(Number.POSITIVE_INFINITY)).toBe('never');
  });
});
