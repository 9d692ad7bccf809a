import { LIMITS, type DriftedValue } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { driftValueBudget, storedDriftValues } from './drift-values';

const configMap = { apiVersion: 'v1', kind: 'ConfigMap' };
const secret = { apiVersion: 'v1', kind: 'Secret' };
const sent = (path: string, expected?: string, live?: string, redacted = false) => ({ path, expected, live, redacted }) as DriftedValue;

describe('storedDriftValues', () => {
  it.each([
    { name: 'keeps both sides of a listed path', resource: configMap, paths: ['data.a'], values: [sent('data.a', '"x"', '"y"')], want: [{ path: 'data.a', expected: '"x"', live: '"y"', redacted: false }] },
    { name: 'stores an absent side as null', resource: configMap, paths: ['data.a'], values: [sent('data.a', '"x"')], want: [{ path: 'data.a', expected: '"x"', live: null, redacted: false }] },
    { name: 'drops a value for a path the resource does not list', resource: configMap, paths: ['data.a'], values: [sent('data.b', '1', '2')], want: [] },
    { name: 'keeps the first value of a path sent twice', resource: configMap, paths: ['data.a'], values: [sent('data.a', '1', '2'), sent('data.a', '3', '4')], want: [{ path: 'data.a', expected: '1', live: '2', redacted: false }] },
    { name: 'follows the order of the paths', resource: configMap, paths: ['data.a', 'data.b'], values: [sent('data.b', '1', '2'), sent('data.a', '3', '4')], want: [{ path: 'data.a', expected: '3', live: '4', redacted: false }, { path: 'data.b', expected: '1', live: '2', redacted: false }] },
    { name: 'keeps no value of an entry marked redacted', resource: configMap, paths: ['data.url'], values: [sent('data.url', '"pw"', '"pw2"', true)], want: [{ path: 'data.url', expected: null, live: null, redacted: true }] },
    { name: "redacts a core Secret's data whatever the agent says", resource: secret, paths: ['data.password'], values: [sent('data.password', '"cHc="', '"eA=="')], want: [{ path: 'data.password', expected: null, live: null, redacted: true }] },
    { name: "redacts a core Secret's stringData whatever the agent says", resource: secret, paths: ['stringData["a.b"]'], values: [sent('stringData["a.b"]', '"pw"', '"x"')], want: [{ path: 'stringData["a.b"]', expected: null, live: null, redacted: true }] },
    { name: "keeps a core Secret's label values", resource: secret, paths: ['metadata.labels.tier'], values: [sent('metadata.labels.tier', '"a"', '"b"')], want: [{ path: 'metadata.labels.tier', expected: '"a"', live: '"b"', redacted: false }] },
  ])('$name', ({ resource, paths, values, want }) => {
    expect(storedDriftValues(resource, paths, values, 256, driftValueBudget())).toEqual(want);
  });

  it('cuts a long value with a marker', () => {
    const [stored] = storedDriftValues(configMap, ['data.a'], [sent('data.a', 'x'.repeat(LIMITS.maxDriftValueChars + 10), '"y"')], 256, driftValueBudget());
    expect(stored?.expected).toHaveLength(LIMITS.maxDriftValueChars);
    expect(stored?.expected?.endsWith('…[truncated]')).toBe(true);
  });

  it('matches a long path cut as the stored path was cut', () => {
    const long = `data.${'k'.repeat(400)}`;
    const cut = `${long.slice(0, 64 - '…[truncated]'.length)}…[truncated]`;
    expect(storedDriftValues(configMap, [cut], [sent(long, '1', '2')], 64, driftValueBudget())).toEqual([{ path: cut, expected: '1', live: '2', redacted: false }]);
  });

  it('drops values once the budget of the report is spent, across resources', () => {
    const budget = { left: 6 };
    expect(storedDriftValues(configMap, ['data.a'], [sent('data.a', '"x"', '"y"')], 256, budget)).toHaveLength(1);
    expect(storedDriftValues(configMap, ['data.b'], [sent('data.b', '"x"', '"y"')], 256, budget)).toEqual([]);
    expect(budget.left).toBe(0);
  });
});
