import { describe, expect, it } from 'vitest';
import { filterBySelector, flattenParams } from './post-selector';

describe('flattenParams', () => {
  it('nested keys become dotted, list items indexed as in Argo CD, and every value a string', () => {
    expect(flattenParams({ env: 'prod', replicas: 3, on: true, cluster: { name: 'eu-1', labels: { region: 'eu' } }, list: [1, 'a'], hosts: [{ name: 'h' }] })).toEqual({
      env: 'prod',
      replicas: '3',
      on: 'true',
      'cluster.name': 'eu-1',
      'cluster.labels.region': 'eu',
      list: '[1,"a"]',
      'list.0': '1',
      'list.1': 'a',
      hosts: '[{"name":"h"}]',
      'hosts.0.name': 'h',
    });
  });
});

describe('filterBySelector', () => {
  const sets = [
    { clusterName: 'eu-1', params: { env: 'prod', cluster: { labels: { region: 'eu' } } }, source: 'a', origins: [] },
    { clusterName: 'us-1', params: { env: 'dev', cluster: { labels: { region: 'us' } } }, source: 'b', origins: [] },
  ];

  it('an absent selector keeps every set', () => {
    expect(filterBySelector(sets, undefined)).toEqual(sets);
  });

  it('matchLabels compares top-level and dotted keys', () => {
    expect(filterBySelector(sets, { matchLabels: { env: 'prod', 'cluster.labels.region': 'eu' } }).map((s) => s.source)).toEqual(['a']);
  });

  it.each([
    { name: 'a list item by index', selector: { matchLabels: { 'values.0': 'blue' } }, want: ['a'] },
    { name: 'a key inside a list item', selector: { matchExpressions: [{ key: 'values.1', operator: 'Exists' as const }] }, want: ['b'] },
  ])('matches $name', ({ selector, want }) => {
    const listed = [
      { clusterName: 'eu-1', params: { values: ['blue'] }, source: 'a', origins: [] },
      { clusterName: 'us-1', params: { values: ['red', 'green'] }, source: 'b', origins: [] },
    ];
    expect(filterBySelector(listed, selector).map((s) => s.source)).toEqual(want);
  });

  it('matchExpressions use Kubernetes semantics', () => {
    expect(filterBySelector(sets, { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }).map((s) => s.source)).toEqual(['b']);
  });
});
