import type { ClusterAppsFilter, ClusterFilter } from '../gen/graphql';
import type { Selector } from './label-selector';

/**
 * The fleet list as one virtual list: a header row per group, then a row per cluster of the group,
 * in the hub's order (group-by label value, clusters without it last, then name). Built from the
 * counts alone, so the list has its full height before any page of clusters has arrived.
 */

/** Matching clusters with one value of the group-by label (null: without it), as the hub counts them. */
export interface GroupCount {
  readonly value: string | null;
  readonly count: number;
}

export type FleetRow =
  | { readonly kind: 'header'; readonly group: number }
  /** `offset`: the cluster's place in the whole match (what the hub pages by); `position`: its place in its group. */
  | { readonly kind: 'cluster'; readonly group: number; readonly offset: number; readonly position: number };

/**
 * The rows for these group counts; without groups (no group-by label) the whole match is one group.
 * The counts come from the hub in page order, so offsets follow them.
 */
export function buildRows(groups: readonly GroupCount[], total: number): { groups: GroupCount[]; rows: FleetRow[] } {
  const effective = groups.length > 0 ? [...groups] : total > 0 ? [{ value: null, count: total }] : [];
  const rows: FleetRow[] = [];
  let offset = 0;
  effective.forEach((group, index) => {
    rows.push({ kind: 'header', group: index });
    for (let position = 0; position < group.count; position++) rows.push({ kind: 'cluster', group: index, offset: offset++, position });
  });
  return { groups: effective, rows };
}

/** The pages (of `pageSize` clusters, by offset) that hold the clusters of rows `start`..`end` (inclusive), ascending. */
export function pagesFor(rows: readonly FleetRow[], start: number, end: number, pageSize: number): number[] {
  const pages = new Set<number>();
  for (let index = Math.max(0, start); index <= Math.min(end, rows.length - 1); index++) {
    const row = rows[index]!;
    if (row.kind === 'cluster') pages.add(Math.floor(row.offset / pageSize));
  }
  return [...pages].sort((a, b) => a - b);
}

/** A run of consecutive shown rows of one group: rendered as one section, `start` pixels from the top. */
export interface RowChunk {
  readonly group: number;
  readonly start: number;
  readonly rows: readonly { readonly index: number; readonly row: FleetRow }[];
}

/** Splits the shown rows (consecutive, ascending) into runs by group. */
export function chunkByGroup(shown: readonly { readonly index: number; readonly start: number }[], rows: readonly FleetRow[]): RowChunk[] {
  const chunks: { group: number; start: number; rows: { index: number; row: FleetRow }[] }[] = [];
  for (const item of shown) {
    const row = rows[item.index];
    if (!row) continue;
    const last = chunks[chunks.length - 1];
    if (last && last.group === row.group) last.rows.push({ index: item.index, row });
    else chunks.push({ group: row.group, start: item.start, rows: [{ index: item.index, row }] });
  }
  return chunks;
}

/** How a group is named: its heading and its region label. */
export function groupName(groupBy: string, value: string | null): { heading: string; label: string } {
  if (!groupBy) return { heading: 'All clusters', label: 'All clusters' };
  return value === null ? { heading: `No ${groupBy} label`, label: `no ${groupBy} label` } : { heading: `${groupBy}=${value}`, label: `${groupBy}=${value}` };
}

/** Which clusters the fleet shows, besides the text and label filters. */
export type ClusterState = 'all' | 'connected' | 'offline' | 'unhealthy' | 'drifted';

const STATE_FILTER: Record<ClusterState, { connected?: boolean; apps?: ClusterAppsFilter }> = {
  all: {},
  connected: { connected: true },
  offline: { connected: false },
  unhealthy: { apps: 'NOT_HEALTHY' },
  drifted: { apps: 'DRIFTED' },
};

/** The hub filter for what the fleet's controls say; null when they filter nothing. */
export function clusterFilter(controls: { search: string; project: string; selector: Selector | null; state: ClusterState }): ClusterFilter | null {
  const filter: ClusterFilter = {
    ...(controls.search.trim() ? { search: controls.search.trim() } : {}),
    ...(controls.project ? { project: controls.project } : {}),
    ...(controls.selector ? { labels: { ...controls.selector } } : {}),
    ...STATE_FILTER[controls.state],
  };
  return Object.keys(filter).length > 0 ? filter : null;
}
