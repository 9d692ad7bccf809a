import { describe, expect, it } from 'vitest';
import { appCounts, labelWords, type FleetCluster } from './cluster-counts';

const cluster = (apps: Partial<FleetCluster['apps'][number]>[]): FleetCluster => ({
  name: 'x',
  labels: {},
  connected: true,
  lastSeen: null,
  kubernetesVersion: null,
  agentVersion: null,
  apps: apps.map((app, i) => ({ name: `app-${i}`, appSet: 'web', health: 'HEALTHY', syncStatus: 'SYNCED', drifted: false, ...app })),
});

describe('labelWords and appCounts', () => {
  it('writes labels as sorted key=value words', () => {
    expect(labelWords({ zone: 'b', region: 'eu', gpu: true })).toEqual(['gpu=true', 'region=eu', 'zone=b']);
  });

  it('counts healthy, synced and drifted Apps', () => {
    expect(appCounts(cluster([{}, { health: 'DEGRADED', drifted: true }, { syncStatus: 'OUT_OF_SYNC' }]))).toEqual({ total: 3, healthy: 2, synced: 2, drifted: 1 });
  });
});
