import { describe, expect, it } from 'vitest';
import { appCounts, groupClusters, labelWords, matchesFilter, matchesState, type ClusterState, type FleetCluster } from './group-clusters';

const cluster = (name: string, labels: Record<string, unknown>, apps: Partial<FleetCluster['apps'][number]>[] = []): FleetCluster => ({
  name,
  labels,
  connected: true,
  lastSeen: null,
  kubernetesVersion: null,
  agentVersion: null,
  apps: apps.map((app, i) => ({ name: `app-${i}`, appSet: 'web', health: 'HEALTHY', syncStatus: 'SYNCED', drifted: false, ...app })),
});

describe('groupClusters', () => {
  it('groups by the label value, groups and clusters sorted by name, unlabelled clusters last', () => {
    const groups = groupClusters([cluster('us-2', { region: 'us' }), cluster('lab', {}), cluster('eu-1', { region: 'eu' }), cluster('us-1', { region: 'us' })], 'region');
    expect(groups.map((g) => [g.value, g.clusters.map((c) => c.name)])).toEqual([
      ['eu', ['eu-1']],
      ['us', ['us-1', 'us-2']],
      ['', ['lab']],
    ]);
  });

  it('groups by any label, every cluster in one group when none has it', () => {
    expect(groupClusters([cluster('a', { region: 'us' }), cluster('b', { region: 'eu' })], 'env').map((g) => [g.value, g.clusters.length])).toEqual([['', 2]]);
  });
});

describe('matchesFilter', () => {
  const eu = cluster('eu-1', { region: 'eu-west', env: 'prod' });
  it.each([
    ['', true],
    ['region=eu', true],
    ['REGION=EU-WEST', true],
    ['eu-1', true],
    ['env=prod region=eu-west', true],
    ['env=staging', false],
    ['env=prod region=us', false],
  ])('filter "%s" matches a prod cluster in eu-west: %s', (text, expected) => {
    expect(matchesFilter(eu, text)).toBe(expected);
  });
});

describe('labelWords and appCounts', () => {
  it('writes labels as sorted key=value words', () => {
    expect(labelWords({ zone: 'b', region: 'eu', gpu: true })).toEqual(['gpu=true', 'region=eu', 'zone=b']);
  });

  it('counts healthy, synced and drifted Apps', () => {
    const c = cluster('x', {}, [{}, { health: 'DEGRADED', drifted: true }, { syncStatus: 'OUT_OF_SYNC' }]);
    expect(appCounts(c)).toEqual({ total: 3, healthy: 2, synced: 2, drifted: 1 });
  });
});

describe('matchesState', () => {
  const healthy = cluster('ok', {}, [{}]);
  const offline = { ...cluster('gone', {}, [{}]), connected: false };
  const degraded = cluster('bad', {}, [{}, { health: 'DEGRADED' }]);
  const drifted = cluster('moved', {}, [{ drifted: true }]);
  const all = [healthy, offline, degraded, drifted];
  it.each<[ClusterState, string[]]>([
    ['all', ['ok', 'gone', 'bad', 'moved']],
    ['offline', ['gone']],
    ['unhealthy', ['bad']],
    ['drifted', ['moved']],
  ])('%s keeps %j', (state, names) => {
    expect(all.filter((c) => matchesState(c, state)).map((c) => c.name)).toEqual(names);
  });
});
