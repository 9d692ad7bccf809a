import type { FleetClusterFragment } from '../gen/graphql';

export type FleetCluster = FleetClusterFragment;

/** Labels as `key=value` words, sorted. */
export function labelWords(labels: Record<string, unknown>): string[] {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${String(value)}`)
    .sort();
}

/** Counts of a cluster's Apps by health and sync, and how many drifted. */
export function appCounts(cluster: FleetCluster): { total: number; healthy: number; synced: number; drifted: number } {
  return {
    total: cluster.apps.length,
    healthy: cluster.apps.filter((app) => app.health === 'HEALTHY').length,
    synced: cluster.apps.filter((app) => app.syncStatus === 'SYNCED').length,
    drifted: cluster.apps.filter((app) => app.drifted).length,
  };
}
