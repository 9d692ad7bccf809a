import type { EntityManager } from 'typeorm';
import { AppSetRevisionEntity } from '../app-sets/app-set-revision.entity';
import type { AppSetEntity } from '../app-sets/app-set.entity';
import type { LatestRollout } from '../core/rollout/held-back';
import type { RolloutStrategy } from '../core/rollout/strategy';

/** `spec.strategy` of the AppSet's current revision (undefined: none, the default applies). */
export async function strategyOf(tx: EntityManager, appSet: Pick<AppSetEntity, 'id' | 'currentRevision'>): Promise<RolloutStrategy | undefined> {
  const revision = await tx.findOneByOrFail(AppSetRevisionEntity, { appSetId: appSet.id, number: appSet.currentRevision });
  return revision.document.spec.strategy;
}

/** The AppSet's most recent rollout (by start time), for held-back decisions; undefined when it has none. */
export async function latestRollout(tx: EntityManager, appSetId: string): Promise<LatestRollout | undefined> {
  const rows: { id: string; app_set_revision: number; phase: string; reason: string }[] = await tx.query(
    `SELECT id, app_set_revision, phase, reason FROM rollouts WHERE app_set_id = $1 ORDER BY started_at DESC LIMIT 1`,
    [appSetId],
  );
  const row = rows[0];
  return row && { id: row.id, revision: row.app_set_revision, phase: row.phase, reason: row.reason };
}
