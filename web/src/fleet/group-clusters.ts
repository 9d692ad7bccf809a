import type { FleetQuery } from '../gen/graphql';

export type FleetCluster = FleetQuery['clusters'][number];

export interface ClusterGroup {
  /** The label's value; '' for clusters without the label. */
  readonly value: string;
  readonly clusters: FleetCluster[];
}

/** Labels as `key=value` words, sorted. */
export function labelWords(labels: Record<string, unknown>): string[] {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${String(value)}`)
    .sort();
}

/**
 * Whether a cluster matches the filter text: every blank-separated word must appear in its name or in
 * one of its `key=value` labels (case-insensitive). Empty text matches all.
 */
export function matchesFilter(cluster: FleetCluster, text: string): boolean {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  const haystack = [cluster.name, ...labelWords(cluster.labels)].map((s) => s.toLowerCase());
  return words.every((word) => haystack.some((s) => s.includes(word)));
}

/** Clusters grouped by the value of one label, groups by value (unlabelled last), clusters by name. */
export function groupClusters(clusters: readonly FleetCluster[], labelKey: string): ClusterGroup[] {
  const groups = new Map<string, FleetCluster[]>();
  for (const cluster of clusters) {
    const raw = cluster.labels[labelKey];
    const value = raw === undefined || raw === null ? '' : String(raw);
    groups.set(value, [...(groups.get(value) ?? []), cluster]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b)))
    .map(([value, members]) => ({ value, clusters: [...members].sort((x, y) => x.name.localeCompare(y.name)) }));
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

/** Which clusters the fleet shows, besides the text filter. */
export type ClusterState = 'all' | 'offline' | 'unhealthy' | 'drifted';

/** Whether a cluster is in the chosen state: offline, with an App not HEALTHY, or with a drifted App. */
export function matchesState(cluster: FleetCluster, state: ClusterState): boolean {
  switch (state) {
    case 'all':
      return true;
    case 'offline':
      return !cluster.connected;
    case 'unhealthy':
      return cluster.apps.some((app) => app.health !== 'HEALTHY');
    case 'drifted':
      return cluster.apps.some((app) => app.drifted);
  }
}
