import { Injectable } from '@nestjs/common';
import {
  ConnectResponseSchema,
  DriftPolicy,
  SyncMode,
  create,
  type ConnectResponse,
} from '@flotilla/proto';
import { DataSource, type EntityManager } from 'typeorm';
import type { SyncPolicy } from '../core/app-set/app-set-spec';
import type { ReleasedApp } from '../core/agent-sync/plan-resync';
import { bundleColumns, decodeBundles, type StoredBundleColumns } from '../app-sets/manifest-bundles';

interface ReleasedRow {
  name: string;
  app_set: string;
  released_revision: string | null;
  released_generation: string;
  released_namespace: string;
  released_sync_policy: SyncPolicy | null;
}

const SYNC_MODE: Record<SyncPolicy['mode'], SyncMode> = {
  'create-only': SyncMode.CREATE_ONLY,
  'create-update': SyncMode.CREATE_UPDATE,
  sync: SyncMode.SYNC,
};
const DRIFT: Record<SyncPolicy['drift'], DriftPolicy> = { report: DriftPolicy.REPORT, heal: DriftPolicy.HEAL };

/** Reads what has been released to a cluster and turns it into protocol messages. */
@Injectable()
export class DesiredStateService {
  constructor(private readonly db: DataSource) {}

  /** Every released App (and released removal) of a cluster, for resync planning. */
  async released(clusterId: string): Promise<ReleasedApp[]> {
    const rows: { name: string; released_revision: string | null; released_generation: string }[] = await this.db.query(
      `SELECT name, released_revision, released_generation FROM apps WHERE cluster_id = $1 AND released_generation IS NOT NULL`,
      [clusterId],
    );
    return rows.map((r) => ({ appName: r.name, revision: r.released_revision, generation: BigInt(r.released_generation) }));
  }

  /**
   * The current message for each named App of a cluster: DesiredApp for a released revision,
   * RemoveApp for a released removal. Apps with nothing released are skipped. `manager` runs the query
   * inside a caller's transaction (the embedded database has a single connection).
   */
  async messages(clusterId: string, appNames: readonly string[], manager: EntityManager = this.db.manager): Promise<ConnectResponse[]> {
    return (await this.messagesByCluster(new Map([[clusterId, appNames]]), manager)).get(clusterId) ?? [];
  }

  /**
   * {@link messages} for several clusters in one query (a release to a thousand clusters is one round
   * trip, not a thousand), keyed by cluster id, each list sorted by App name.
   */
  async messagesByCluster(wanted: ReadonlyMap<string, readonly string[]>, manager: EntityManager = this.db.manager): Promise<Map<string, ConnectResponse[]>> {
    const clusterIds: string[] = [];
    const appNames: string[] = [];
    for (const [clusterId, names] of wanted) {
      for (const name of new Set(names)) {
        clusterIds.push(clusterId);
        appNames.push(name);
      }
    }
    const byCluster = new Map<string, ConnectResponse[]>();
    if (clusterIds.length === 0) return byCluster;
    const rows: (ReleasedRow & Partial<StoredBundleColumns> & { cluster_id: string })[] = await manager.query(
      `SELECT a.cluster_id, a.name, s.name AS app_set, a.released_revision, a.released_generation, a.released_namespace,
              a.released_sync_policy, ${bundleColumns('b')}
       FROM unnest($1::uuid[], $2::text[]) AS w(cluster_id, name)
       JOIN apps a ON a.cluster_id = w.cluster_id AND a.name = w.name
       JOIN app_sets s ON s.id = a.app_set_id
       LEFT JOIN manifest_bundles b ON b.revision = a.released_revision
       WHERE a.released_generation IS NOT NULL
       ORDER BY a.cluster_id, a.name`,
      [clusterIds, appNames],
    );
    // Each revision is decompressed once, however many clusters it is released to.
    const manifests = await decodeBundles(rows, (row) => row.released_revision);
    for (const row of rows) {
      const list = byCluster.get(row.cluster_id) ?? [];
      list.push(toMessage(row, manifests.get(row.released_revision?.trim() ?? '')));
      byCluster.set(row.cluster_id, list);
    }
    return byCluster;
  }

  /** Forgets released removals that the agent no longer holds (it removed them, or never had them). */
  async forgetRemoved(clusterId: string, appNames: readonly string[]): Promise<void> {
    await this.db.query(`DELETE FROM apps WHERE cluster_id = $1 AND name = ANY($2) AND released_revision IS NULL AND staged_revision IS NULL`, [
      clusterId,
      appNames,
    ]);
  }

  /**
   * The highest generation the hub has issued (0 before the first release): every later `nextval` is
   * higher. Read without moving the sequence. (This holds with the sequence's default CACHE 1, which
   * the migration keeps; a cache would let another session hand out lower numbers later.)
   */
  async highestIssuedGeneration(): Promise<bigint> {
    const [row] = (await this.db.query(`SELECT (CASE WHEN is_called THEN last_value ELSE last_value - 1 END)::text AS issued FROM release_generation`)) as {
      issued: string;
    }[];
    return BigInt(row!.issued);
  }

  /** A RemoveApp for a released removal of known generation. */
  async removal(clusterId: string, appName: string, generation: bigint): Promise<ConnectResponse> {
    const [row] = (await this.db.query(`SELECT released_sync_policy FROM apps WHERE cluster_id = $1 AND name = $2`, [clusterId, appName])) as {
      released_sync_policy: SyncPolicy | null;
    }[];
    return create(ConnectResponseSchema, {
      message: { case: 'removeApp', value: { appName, generation, preserveResources: row?.released_sync_policy?.preserveResourcesOnDeletion ?? false } },
    });
  }
}

/**
 * A RemoveApp for an App the hub has no release of on the cluster, at a generation decided by
 * `planResync` (nothing is allocated for it).
 */
export function removalOfUnknown(appName: string, generation: bigint): ConnectResponse {
  return create(ConnectResponseSchema, { message: { case: 'removeApp', value: { appName, generation, preserveResources: false } } });
}

function toMessage(row: ReleasedRow, manifestsJson: string | undefined): ConnectResponse {
  const generation = BigInt(row.released_generation);
  if (row.released_revision === null) {
    return create(ConnectResponseSchema, {
      message: {
        case: 'removeApp',
        value: { appName: row.name, generation, preserveResources: row.released_sync_policy?.preserveResourcesOnDeletion ?? false },
      },
    });
  }
  const policy = row.released_sync_policy;
  return create(ConnectResponseSchema, {
    message: {
      case: 'desiredApp',
      value: {
        appName: row.name,
        appSet: row.app_set,
        revision: row.released_revision.trim(),
        generation,
        namespace: row.released_namespace,
        manifestsJson: manifestsJson ?? '[]',
        syncPolicy: {
          mode: policy ? SYNC_MODE[policy.mode] : SyncMode.SYNC,
          drift: policy ? DRIFT[policy.drift] : DriftPolicy.REPORT,
          preserveResourcesOnDeletion: policy?.preserveResourcesOnDeletion ?? false,
          forceConflicts: policy?.forceConflicts === true,
          ...(policy?.scope
            ? {
                scope: {
                  namespaces: [...(policy.scope.namespaces ?? [])],
                  kinds: [...(policy.scope.kinds ?? [])],
                  clusterScoped: policy.scope.clusterScoped === true,
                },
              }
            : {}),
          ...(policy?.projectScope
            ? {
                projectScope: {
                  namespaces: [...(policy.projectScope.namespaces ?? [])],
                  kinds: [...(policy.projectScope.kinds ?? [])],
                  clusterScoped: policy.projectScope.clusterScoped === true,
                },
              }
            : {}),
        },
      },
    },
  });
}
