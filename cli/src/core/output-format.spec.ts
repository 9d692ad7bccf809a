import { describe, expect, it } from 'vitest';
import { fitColumnWidths, formatLabels, parseOutputFormat, shortRevision, tableCells, type View } from './output-format.js';

describe('parseOutputFormat', () => {
  it('accepts the five formats and lists them when refusing another', () => {
    for (const f of ['table', 'wide', 'json', 'yaml', 'name']) expect(parseOutputFormat(f)).toBe(f);
    expect(() => parseOutputFormat('xml')).toThrow('-o xml: expected one of table, wide, json, yaml, name');
  });
});

describe('tableCells', () => {
  const view: View<{ n: string; w: string }> = {
    columns: [
      { header: 'NAME', cell: (r) => r.n },
      { header: 'MORE', cell: (r) => r.w, wide: true },
    ],
    name: (r) => `thing/${r.n}`,
  };
  it('leaves wide columns out of the table and puts them in wide', () => {
    expect(tableCells(view, [{ n: 'a', w: 'x' }], false)).toEqual({ header: ['NAME'], rows: [['a']], flexible: [false] });
    expect(tableCells(view, [{ n: 'a', w: 'x' }], true)).toEqual({ header: ['NAME', 'MORE'], rows: [['a', 'x']], flexible: [false, false] });
  });
});

describe('fitColumnWidths', () => {
  it('gives each column its widest cell plus the gap when the table fits', () => {
    expect(fitColumnWidths([4, 10, 6], [false, true, false], 80)).toEqual([6, 12, 8]);
  });

  it('shrinks flexible columns first, to fit the width exactly', () => {
    const widths = fitColumnWidths([10, 60, 10], [false, true, false], 60);
    expect(widths.reduce((a, b) => a + b, 0)).toBe(60);
    expect(widths[0]).toBe(12);
    expect(widths[2]).toBe(12);
  });

  it('then shrinks the others, never below the minimum', () => {
    const widths = fitColumnWidths([30, 30, 30], [false, false, false], 40);
    expect(widths.every((w) => w >= 10)).toBe(true);
    expect(widths.reduce((a, b) => a + b, 0)).toBe(40);
    expect(fitColumnWidths([30, 30], [true, false], 5)).toEqual([10, 10]);
  });

  it('does not change its input', () => {
    const natural = [50, 50];
    fitColumnWidths(natural, [true, true], 20);
    expect(natural).toEqual([50, 50]);
  });
});

describe('cells', () => {
  it('writes labels sorted as k=v and revisions as their first 12 characters', () => {
    expect(formatLabels({ region: 'eu', env: 'prod' })).toBe('env=prod,region=eu');
    expect(formatLabels({})).toBe('');
    expect(shortRevision('sha256:0123456789abcdef')).toBe('0123456789ab');
    expect(shortRevision(null)).toBe('-');
  });
});
