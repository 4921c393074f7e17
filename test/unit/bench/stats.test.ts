import { describe, expect, it } from 'vitest';
import { ratioOf, summarize } from '../../../bench/matrix/stats.js';
import { wellFormedXml } from './well-formed-xml.js';

describe('benchmark statistics', () => {
  it('median of an odd count is the middle value; min and max are the extremes', () => {
    const s = summarize([5, 1, 9, 3, 7]);
    expect(s).toEqual({ median: 5, min: 1, max: 9, n: 5, runs: [5, 1, 9, 3, 7] });
  });

  it('median of an even count is the mean of the two middle values', () => {
    expect(summarize([4, 1, 3, 2]).median).toBe(2.5);
  });

  it('leaves out runs that produced no number', () => {
    const s = summarize([Number.NaN, 2, Number.POSITIVE_INFINITY, 4]);
    expect(s).toMatchObject({ median: 3, min: 2, max: 4, n: 2, runs: [2, 4] });
  });

  it('no valid run: n = 0 and NaN figures', () => {
    const s = summarize([Number.NaN]);
    expect(s.n).toBe(0);
    expect(s.median).toBeNaN();
  });

  it('a single run is its own median, min and max', () => {
    expect(summarize([3.5])).toMatchObject({ median: 3.5, min: 3.5, max: 3.5, n: 1 });
  });

  it('ratios are of medians, NaN when a side is missing or zero', () => {
    expect(ratioOf(summarize([2, 4, 6]), summarize([8, 8, 8]))).toBe(0.5);
    expect(ratioOf(summarize([1]), summarize([]))).toBeNaN();
    expect(ratioOf(undefined, summarize([1]))).toBeNaN();
    expect(ratioOf(summarize([1]), summarize([0]))).toBeNaN();
  });
});

describe('the XML check used on the chart', () => {
  it('accepts a small SVG and lists its elements', () => {
    expect(
      wellFormedXml('<?xml version="1.0"?><svg a="1"><g><text>x &amp; y</text></g><rect/></svg>'),
    ).toEqual(['svg', 'g', 'text', 'rect']);
  });

  it.each([
    ['<svg><g></svg>', /closes <g>/],
    ['<svg>a & b</svg>', /bad '&'/],
    ['<svg a=1></svg>', /malformed tag/],
    ['<svg a="1" a="2"></svg>', /twice/],
    ['<svg></svg><svg></svg>', /second root/],
    ['<svg>', /unclosed/],
  ])('rejects %s', (xml, why) => {
    expect(() => wellFormedXml(xml)).toThrow(why);
  });
});
