import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppSetEntity } from '../app-sets/app-set.entity';
import { Clock } from '../clock';
import type { AppSetDocument } from '../core/app-set/app-set-spec';
import { autoStartReason, type RevisionCommit } from '../core/rollout/trigger-reason';
import { AutoTriggerHook } from './auto-trigger-hook';
import type { RolloutEntity } from './rollout.entity';
import { RolloutsService } from './rollouts.service';

/** How often every replica looks for auto revisions that have no rollout yet (a hub stopped between staging and starting). */
const SWEEP_MS = 10_000;
/** Most AppSets one sweep starts rollouts for; the next sweep takes the rest. */
const SWEEP_BATCH = 20;

/** A revision row as JSON: the commit columns a Git source adds are read when present. */
interface RevisionRow {
  document: AppSetDocument;
  commit_sha?: string | null;
  commit_author?: string | null;
  commit_subject?: string | null;
  commit_time?: string | null;
}

/**
 * `spec.strategy.trigger: auto`: every new staged revision starts a rollout with the AppSet's strategy,
 * as the hub, superseding an active one. Started right after the staging transaction commits (through
 * {@link AutoTriggerHook}), and by a periodic sweep for revisions whose start was lost (a hub stopped in
 * between, or a transient error). Exactly once per revision across replicas: the start runs under the
 * AppSet's advisory lock and a unique (AppSet, triggered revision) index backs it.
 */
@Injectable()
export class AutoTriggerService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('AutoTrigger');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly db: DataSource,
    private readonly rollouts: RolloutsService,
    private readonly hook: AutoTriggerHook,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.hook.listen((appSetId, revision) => this.staged(appSetId, revision).then(() => undefined));
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .catch((error: unknown) => this.log.warn(`auto trigger sweep failed (retried): ${String(error)}`))
        .finally(() => (this.running = undefined));
    }, SWEEP_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /**
   * After `revision` of the AppSet was staged: starts its rollout when the revision says
   * `trigger: auto`. Returns the rollout, or null when none was started (manual trigger, not the
   * current revision any more, or already started). Never throws: a failure is logged and the sweep
   * tries again.
   */
  async staged(appSetId: string, revision: number): Promise<RolloutEntity | null> {
    try {
      const appSet = await this.db.getRepository(AppSetEntity).findOneBy({ id: appSetId });
      const rows: { row: RevisionRow }[] = appSet
        ? await this.db.query(`SELECT to_jsonb(r) AS row FROM app_set_revisions r WHERE r.app_set_id = $1 AND r.number = $2`, [appSetId, revision])
        : [];
      const row = rows[0]?.row;
      if (!appSet || !row || row.document.spec.strategy?.trigger !== 'auto') return null;
      const started = await this.rollouts.startTriggered(appSet, revision, autoStartReason(revision, commitOf(row)), this.clock.now());
      if (started) this.log.log(`revision ${revision} of ${appSet.project}/${appSet.name}: rollout ${started.id} started (${started.phase})`);
      return started;
    } catch (error) {
      this.log.warn(`could not start the rollout of revision ${revision} of AppSet ${appSetId} (the sweep retries): ${String(error)}`);
      return null;
    }
  }

  /** Starts the rollouts of current auto revisions that have none yet (at most a batch). Returns how many it started. */
  async sweep(): Promise<number> {
    const due: { id: string; current_revision: number }[] = await this.db.query(
      `SELECT s.id, s.current_revision FROM app_sets s
       JOIN app_set_revisions r ON r.app_set_id = s.id AND r.number = s.current_revision
       WHERE r.document -> 'spec' -> 'strategy' ->> 'trigger' = 'auto'
         AND NOT EXISTS (SELECT 1 FROM rollouts o WHERE o.app_set_id = s.id AND o.app_set_revision = s.current_revision)
       ORDER BY s.updated_at LIMIT $1`,
      [SWEEP_BATCH],
    );
    let started = 0;
    for (const appSet of due) if (await this.staged(appSet.id, appSet.current_revision)) started++;
    return started;
  }
}

function commitOf(row: RevisionRow): RevisionCommit | undefined {
  if (!row.commit_sha) return undefined;
  const time = row.commit_time ? Date.parse(row.commit_time) : NaN;
  return { sha: row.commit_sha, author: row.commit_author ?? null, subject: row.commit_subject ?? null, time: Number.isNaN(time) ? null : time };
}
