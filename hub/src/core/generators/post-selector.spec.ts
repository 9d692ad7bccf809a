import { describe, expect, it } from 'vitest';
import { filterBySelector, flattenParams } from './post-selector';

describe('flattenParams', () => {
  it('nested keys become dotted and every value a string', () => {
    expect(flattenParams({ env: 'prod', replicas: 3, on: true, cluster: { name: 'eu-1', labels: { region: 'eu' } }, list: [1, 'a'] })).toEqual({
      env: 'prod',
      replicas: '3',
      on: 'true',
      'cluster.name': 'eu-1',
      'cluster.labels.region': 'eu',
      list: '[1,"a"]',
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

  it('matchExpressions use Kubernetes semantics', () => {
    expect(filterBySelector(sets, { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }).map((s) => s.source)).toEqual(['b']);
  });
});
