import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AppSetEntity } from '../app-sets/app-set.entity';
import type { Issue } from '../core/issues';
import { heldBackRevision, type HeldBack } from '../core/rollout/held-back';
import { noAppsWarning } from '../core/rollout/nothing-to-release';
import type { RolloutTrigger } from '../core/rollout/strategy';
import { latestRollout, strategyOf } from './rollout-history';

/** An AppSet as far as its current revision goes. */
type AppSetRef = Pick<AppSetEntity, 'id' | 'currentRevision'>;

/** What an AppSet says about its rollouts: its trigger, the revision it holds back, and staging warnings. */
@Injectable()
export class AppSetRolloutStatus {
  constructor(private readonly db: DataSource) {}

  /** The trigger of the AppSet's current revision (`spec.strategy.trigger`, default manual). */
  async trigger(appSet: AppSetRef): Promise<RolloutTrigger> {
    return (await strategyOf(this.db.manager, appSet))?.trigger ?? 'manual';
  }

  /**
   * The AppSet's current revision when it is held back (its latest rollout was of it and was rolled
   * back, aborted or failed), with why and what releases it; undefined otherwise.
   */
  async heldBack(appSet: AppSetRef): Promise<HeldBack | undefined> {
    return heldBackRevision(appSet.currentRevision, await this.trigger(appSet), await latestRollout(this.db.manager, appSet.id));
  }

  /** The warnings of an accepted apply or refresh: none, or that the AppSet stages no App (a rollout would release nothing). */
  async stagingWarnings(appSetId: string): Promise<Issue[]> {
    const [{ apps, clusters }] = (await this.db.query(
      `SELECT (SELECT count(*)::int FROM apps WHERE app_set_id = $1 AND staged_revision IS NOT NULL) AS apps, (SELECT count(*)::int FROM clusters) AS clusters`,
      [appSetId],
    )) as { apps: number; clusters: number }[];
    const warning = noAppsWarning(apps!, clusters!);
    return warning ? [warning] : [];
  }
}
