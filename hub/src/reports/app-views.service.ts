import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ResourceStatusRecord } from './app-status.entity';
import type { DriftedValueRecord } from './drift-values';

/** One managed object of an App as last reported; `driftedFields` and `driftedValues` are [] in rows stored without them. */
export type ResourceView = Readonly<Required<ResourceStatusRecord>>;

/** An App on a cluster with what was staged, released, and last reported about it. */
export interface AppView {
  readonly clusterName: string;
  readonly appSetName: string;
  readonly name: string;
  readonly namespace: string;
  readonly stagedRevision: string | null;
  readonly releasedRevision: string | null;
  readonly generation: string | null;
  readonly health: string | null;
  readonly syncStatus: string | null;
  /** The revision the health was judged for. */
  readonly healthRevision: string | null;
  readonly healthGeneration: string | null;
  readonly message: string | null;
  readonly ackError: string | null;
  readonly observedAt: Date | null;
  /** Resources of the last report, in the agent's order (worst health first); [] before any report. */
  readonly resources: readonly ResourceView[];
  /** The agent listed only part of the resources. */
  readonly resourcesTruncated: boolean;
}

const SELECT = `SELECT c.name AS cluster_name, s.name AS app_set_name, a.name, a.released_namespace AS namespace,
    a.staged_revision, a.released_revision, a.released_generation AS generation,
    st.health, st.sync_status, st.revision AS health_revision, st.generation AS health_generation,
    st.message, st.ack_error, st.observed_at, st.resources, st.resources_truncated
  FROM apps a
  JOIN clusters c ON c.id = a.cluster_id
  JOIN app_sets s ON s.id = a.app_set_id
  LEFT JOIN app_statuses st ON st.cluster_id = a.cluster_id AND st.app_name = a.name`;

/** Read models joining Apps with their latest status, for the API. */
@Injectable()
export class AppViewsService {
  constructor(private readonly db: DataSource) {}

  /** The Apps on a cluster, of the AppSets in `projects` only (`all`: every project). */
  async ofCluster(clusterId: string, projects: 'all' | readonly string[], first: number, offset: number): Promise<AppView[]> {
    if (projects === 'all') return this.query(`${SELECT} WHERE a.cluster_id = $1 ORDER BY a.name LIMIT $2 OFFSET $3`, [clusterId, first, offset]);
    return this.query(`${SELECT} WHERE a.cluster_id = $1 AND s.project = ANY($4) ORDER BY a.name LIMIT $2 OFFSET $3`, [clusterId, first, offset, [...projects]]);
  }

  /**
   * {@link ofCluster} for several clusters in one query: per cluster, its Apps ordered by name, from
   * `offset`, at most `first`; by cluster name (a cluster without Apps is absent).
   */
  async ofClusters(clusterIds: readonly string[], projects: 'all' | readonly string[], first: number, offset: number): Promise<ReadonlyMap<string, AppView[]>> {
    const byCluster = new Map<string, AppView[]>();
    if (clusterIds.length === 0 || first <= 0) return byCluster;
    const scope = projects === 'all' ? '' : ' AND s.project = ANY($4)';
    const rows = await this.query(
      `SELECT * FROM (${SELECT.replace('SELECT ', 'SELECT row_number() OVER (PARTITION BY a.cluster_id ORDER BY a.name) AS place, ')}
         WHERE a.cluster_id = ANY($1)${scope}) ranked
       WHERE place > $2 AND place <= $2 + $3 ORDER BY cluster_name, place`,
      projects === 'all' ? [[...clusterIds], offset, first] : [[...clusterIds], offset, first, [...projects]],
    );
    for (const row of rows) {
      const list = byCluster.get(row.clusterName) ?? [];
      list.push(row);
      byCluster.set(row.clusterName, list);
    }
    return byCluster;
  }

  /** The App of that name on the cluster, when it belongs to one of `projects`; null otherwise. */
  async oneOfCluster(clusterId: string, projects: 'all' | readonly string[], name: string): Promise<AppView | null> {
    const found =
      projects === 'all'
        ? await this.query(`${SELECT} WHERE a.cluster_id = $1 AND a.name = $2`, [clusterId, name])
        : await this.query(`${SELECT} WHERE a.cluster_id = $1 AND a.name = $2 AND s.project = ANY($3)`, [clusterId, name, [...projects]]);
    return found[0] ?? null;
  }

  async ofAppSet(appSetId: string, first: number, offset: number): Promise<AppView[]> {
    return this.query(`${SELECT} WHERE a.app_set_id = $1 ORDER BY c.name, a.name LIMIT $2 OFFSET $3`, [appSetId, first, offset]);
  }

  private async query(sql: string, params: unknown[]): Promise<AppView[]> {
    const rows: Record<string, unknown>[] = await this.db.query(sql, params);
    const text = (v: unknown) => (v === null || v === undefined ? null : String(v).trim());
    return rows.map((r) => ({
      clusterName: String(r['cluster_name']),
      appSetName: String(r['app_set_name']),
      name: String(r['name']),
      namespace: String(r['namespace'] ?? ''),
      stagedRevision: text(r['staged_revision']),
      releasedRevision: text(r['released_revision']),
      generation: text(r['generation']),
      health: text(r['health']),
      syncStatus: text(r['sync_status']),
      healthRevision: text(r['health_revision']),
      healthGeneration: text(r['health_generation']),
      message: text(r['message']),
      ackError: text(r['ack_error']),
      observedAt: (r['observed_at'] as Date | null) ?? null,
      resources: resourcesOf(r['resources']),
      resourcesTruncated: r['resources_truncated'] === true,
    }));
  }
}

// The jsonb column holds what ReportsService stored, but rows outlive code: fields added later (such as
// driftedFields) are missing in older rows, so every field is read with a default.
function resourcesOf(value: unknown): ResourceView[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const r = entry as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' ? v : '');
    const driftedFields = Array.isArray(r['driftedFields']) ? r['driftedFields'].filter((path): path is string => typeof path === 'string') : [];
    const driftedValues = Array.isArray(r['driftedValues']) ? r['driftedValues'].flatMap(driftedValueOf) : [];
    return [
      {
        apiVersion: text(r['apiVersion']),
        kind: text(r['kind']),
        namespace: text(r['namespace']),
        name: text(r['name']),
        health: text(r['health']),
        message: text(r['message']),
        drifted: r['drifted'] === true,
        driftedFields,
        driftedValues,
      },
    ];
  });
}

function driftedValueOf(entry: unknown): DriftedValueRecord[] {
  if (typeof entry !== 'object' || entry === null) return [];
  const v = entry as Record<string, unknown>;
  if (typeof v['path'] !== 'string') return [];
  const redacted = v['redacted'] === true;
  const text = (value: unknown) => (!redacted && typeof value === 'string' ? value : null);
  return [{ path: v['path'], expected: text(v['expected']), live: text(v['live']), redacted }];
}
