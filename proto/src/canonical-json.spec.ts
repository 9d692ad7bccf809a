import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { revisionOf } from './revision.js';

describe('canonicalJson', () => {
  it.each([
    { name: 'sorts object keys at every depth', input: { b: 1, a: { d: [1, 2], c: null } }, want: '{"a":{"c":null,"d":[1,2]},"b":1}' },
    { name: 'keeps array order', input: [3, 1, 2], want: '[3,1,2]' },
    { name: 'drops undefined object members like an absent key', input: { a: undefined, b: 'x' }, want: '{"b":"x"}' },
    { name: 'escapes strings as JSON does', input: { 'k"': 'line\nbreak' }, want: '{"k\\"":"line\\nbreak"}' },
    { name: 'writes numbers in their shortest JSON form', input: [1.5, 0, -2, 1e21], want: '[1.5,0,-2,1e+21]' },
  ])('$name', ({ input, want }) => {
    expect(canonicalJson(input)).toBe(want);
  });

  it.each([
    { name: 'refuses NaN', input: { a: Number.NaN } },
    { name: 'refuses Infinity', input: [Number.POSITIVE_INFINITY] },
    { name: 'refuses a function', input: { f: () => 1 } },
    { name: 'refuses a bigint', input: { n: 1n } },
  ])('$name', ({ input }) => {
    expect(() => canonicalJson(input)).toThrow(TypeError);
  });
});

describe('revisionOf', () => {
  it('gives the same revision for manifests that differ only in key order', () => {
    const a = [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'y' } }];
    const b = [{ metadata: { namespace: 'y', name: 'x' }, kind: 'ConfigMap', apiVersion: 'v1' }];
    expect(revisionOf(a)).toBe(revisionOf(b));
  });

  it('gives a different revision when any value changes', () => {
    const a = [{ kind: 'ConfigMap', data: { k: 'v1' } }];
    const b = [{ kind: 'ConfigMap', data: { k: 'v2' } }];
    expect(revisionOf(a)).not.toBe(revisionOf(b));
  });

  it('is lowercase hex sha256', () => {
    expect(revisionOf([])).toMatch(/^[0-9a-f]{64}$/);
  });
});
