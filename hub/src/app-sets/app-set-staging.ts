import { canonicalJson } from '@flotilla/proto';
import { In, type EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ClusterEntity } from '../clusters/cluster.entity';
import type { AppExplain } from '../core/expand-app-set';
import { issue, type Issue } from '../core/issues';
import { checkDeletionBreaker } from '../core/safety/deletion-breaker';
import type { PackedApp } from '../render-pool/render-task';
import { AppSetEntity } from './app-set.entity';
import { AppEntity } from './app.entity';
import { storeBundles } from './manifest-bundles';

const CHUNK = 500;

/** Largest stored explain (canonical JSON, bytes); larger parameters are replaced by a note. */
const MAX_EXPLAIN_BYTES = 64 * 1024;

/** What a staging wrote: refusals (conflicts, the deletion breaker), and whether any App's staged state changed. */
export interface StageOutcome {
  readonly issues: Issue[];
  readonly changed: boolean;
}

/**
 * Writes the staged half of every App row of `appSet`: rendered Apps are upserted, rows the
 * expansion no longer produces are staged for removal (or deleted if they were never released).
 * Returns conflicts with Apps of other AppSets (same name on the same cluster).
 */
export async function stageApps(tx: EntityManager, appSet: AppSetEntity, revision: number, apps: readonly PackedApp[], force: boolean): Promise<StageOutcome> {
  const clusterIds = new Map((await tx.find(ClusterEntity, { select: { id: true, name: true } })).map((c) => [c.name, c.id]));
  const existing = await tx.find(AppEntity, { where: { appSetId: appSet.id } });
  const byKey = new Map(existing.map((a) => [`${a.clusterId}/${a.name}`, a]));
  const conflicts = await findConflicts(tx, appSet, apps, clusterIds);
  if (conflicts.length > 0) return { issues: conflicts, changed: false };

  const wantedKeys = new Set(apps.map((a) => `${clusterIds.get(a.clusterName)}/${a.appName}`));
  const live = existing.filter((a) => a.stagedRevision !== null);
  const breaker = checkDeletionBreaker(live.length, live.filter((a) => !wantedKeys.has(`${a.clusterId}/${a.name}`)).length);
  if (breaker && !force) return { issues: [breaker], changed: false };
  const changed =
    live.some((a) => !wantedKeys.has(`${a.clusterId}/${a.name}`)) || apps.some((a) => byKey.get(`${clusterIds.get(a.clusterName)}/${a.appName}`)?.stagedRevision !== a.revision);

  for (let i = 0; i < apps.length; i += CHUNK) {
    const chunk = apps.slice(i, i + CHUNK);
    await storeBundles(tx, dedupeByRevision(chunk));
    await tx
      .createQueryBuilder()
      .insert()
      .into(AppEntity)
      .values(
        chunk.map((a): QueryDeepPartialEntity<AppEntity> => ({
          appSetId: appSet.id,
          clusterId: clusterIds.get(a.clusterName)!,
          name: a.appName,
          stagedRevision: a.revision,
          stagedNamespace: a.namespace,
          stagedSyncPolicy: a.syncPolicy,
          stagedFromRevision: revision,
          // A JSON column: TypeORM's deep-partial typing cannot follow `unknown` parameter values.
          stagedExplain: boundedExplain(a.explain) as QueryDeepPartialEntity<AppExplain>,
        })),
      )
      .orUpdate(['staged_revision', 'staged_namespace', 'staged_sync_policy', 'staged_from_revision', 'staged_explain'], ['cluster_id', 'name'])
      .execute();
  }
  const gone = [...byKey.entries()].filter(([key]) => !wantedKeys.has(key)).map(([, app]) => app);
  const neverReleased = gone.filter((a) => a.releasedGeneration === null).map((a) => a.id);
  const toRemove = gone.filter((a) => a.releasedGeneration !== null).map((a) => a.id);
  for (let i = 0; i < neverReleased.length; i += CHUNK) await tx.delete(AppEntity, { id: In(neverReleased.slice(i, i + CHUNK)) });
  for (let i = 0; i < toRemove.length; i += CHUNK) {
    await tx.update(AppEntity, { id: In(toRemove.slice(i, i + CHUNK)) }, { stagedRevision: null, stagedSyncPolicy: null, stagedFromRevision: revision, stagedExplain: null });
  }
  return { issues: [], changed };
}

async function findConflicts(tx: EntityManager, appSet: AppSetEntity, apps: readonly PackedApp[], clusterIds: Map<string, string>): Promise<Issue[]> {
  const names = [...new Set(apps.map((a) => a.appName))];
  if (names.length === 0) return [];
  const others = await tx.find(AppEntity, { where: { name: In(names) }, relations: { appSet: true, cluster: true } });
  const taken = new Map(others.filter((o) => o.appSetId !== appSet.id).map((o) => [`${o.clusterId}/${o.name}`, o]));
  const issues: Issue[] = [];
  for (const app of apps) {
    const other = taken.get(`${clusterIds.get(app.clusterName)}/${app.appName}`);
    if (other) {
      // Another project's AppSet is not named: its name is not the caller's to know.
      const owner = other.appSet.project === appSet.project ? `AppSet "${other.appSet.name}"` : 'an AppSet of another project';
      issues.push(issue('APP_NAME_CONFLICT', 'spec.template.name', `App "${app.appName}" on cluster ${app.clusterName} already belongs to ${owner}.`));
    }
  }
  return issues;
}

/** An explain small enough to store with every App: oversized parameters are replaced by a note. */
function boundedExplain(explain: AppExplain): AppExplain {
  const bytes = Buffer.byteLength(canonicalJson(explain.parameters), 'utf8');
  if (bytes <= MAX_EXPLAIN_BYTES) return explain;
  return { ...explain, parameters: { '[omitted]': `The parameters are ${bytes} bytes of JSON; explain keeps at most ${MAX_EXPLAIN_BYTES}.` } };
}

function dedupeByRevision(apps: readonly PackedApp[]): PackedApp[] {
  const seen = new Map<string, PackedApp>();
  for (const app of apps) if (!seen.has(app.revision)) seen.set(app.revision, app);
  return [...seen.values()];
}
