import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { AppSetsService } from '../app-sets/app-sets.service';
import { OutboxRelay } from '../agent-link/outbox-relay.service';
import type { TargetState } from '../core/rollout/target-state';
import { returnedRows } from '../database/sql';
import { Metrics } from '../observability/metrics';
import { RolloutEventEntity } from './rollout-event.entity';
import { RolloutEntity } from './rollout.entity';
import { TARGETS_FROM_SQL, TARGET_STATE_SQL } from './target-state.sql';

export interface RolloutTargetView {
  readonly clusterName: string;
  readonly appName: string;
  /** Released revision; null for a removal. */
  readonly revision: string | null;
  readonly generation: string;
  readonly state: TargetState;
  readonly health: string | null;
  readonly message: string | null;
}

export type RolloutCounts = Record<TargetState, number> & { total: number };

/** Safety net for missed nudges: every active rollout is re-evaluated at least this often. */
const REFRESH_TICK_MS = 5000;
const NUDGE_DELAY_MS = 200;

@Injectable()
export class RolloutsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(RolloutsService.name);
  private tick: NodeJS.Timeout | undefined;
  private nudgeTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly db: DataSource,
    private readonly appSets: AppSetsService,
    private readonly relay: OutboxRelay,
    private readonly metrics: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    this.tick = setInterval(() => this.nudge(), REFRESH_TICK_MS);
    this.tick.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.tick);
    clearTimeout(this.nudgeTimer);
    await this.refreshing;
  }

  /**
   * Starts a rollout of the AppSet's current revision: releases every staged change (new, changed or
   * removed Apps) to its cluster. Releases, targets and outbox rows commit in one transaction, so a
   * release is never recorded without its delivery, nor delivered without being recorded. A running
   * rollout of the same AppSet is superseded. Waves arrive with the rollout strategy.
   */
  async start(appSetName: string, actor: string, now: Date): Promise<RolloutEntity> {
    const appSet = await this.appSets.get(appSetName);
    const rollout = await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`app-set:${appSet.name}`]);
      const superseded = returnedRows<{ id: string }>(
        await tx.query(`UPDATE rollouts SET phase = 'SUPERSEDED', finished_at = $2 WHERE app_set_id = $1 AND phase = 'PROGRESSING' RETURNING id`, [
          appSet.id,
          now,
        ]),
      );
      const rollout = await tx.save(
        tx.create(RolloutEntity, { appSetId: appSet.id, appSetRevision: appSet.currentRevision, phase: 'PROGRESSING', startedBy: actor, startedAt: now }),
      );
      for (const old of superseded) await this.audit(tx, old.id, actor, 'SUPERSEDED', `Superseded by rollout ${rollout.id}.`);
      const released = await this.releaseStaged(tx, appSet.id, rollout.id, now);
      await this.audit(tx, rollout.id, actor, 'STARTED', `Released revision ${appSet.currentRevision} of ${appSet.name}: ${released} App change(s).`);
      if (released === 0) {
        rollout.phase = 'SUCCEEDED';
        rollout.finishedAt = now;
        await tx.save(rollout);
        await this.audit(tx, rollout.id, 'hub', 'SUCCEEDED', 'Nothing to release: every cluster already runs this revision.');
      }
      this.metrics.releases.inc(released);
      return rollout;
    });
    this.relay.wake();
    return rollout;
  }

  /** A rollout by id; null for an unknown or malformed id (the two look the same). */
  async find(id: string): Promise<RolloutEntity | null> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
    return this.db.getRepository(RolloutEntity).findOne({ where: { id } });
  }

  async listForAppSet(appSetId: string, limit: number): Promise<RolloutEntity[]> {
    return this.db.getRepository(RolloutEntity).find({ where: { appSetId }, order: { startedAt: 'DESC' }, take: limit });
  }

  /** Per-state counts of a rollout's targets, aggregated in the database. */
  async counts(rolloutId: string): Promise<RolloutCounts> {
    const rows: { state: TargetState; n: string }[] = await this.db.query(
      `SELECT ${TARGET_STATE_SQL} AS state, count(*) AS n FROM ${TARGETS_FROM_SQL} GROUP BY 1`,
      [rolloutId],
    );
    const counts: RolloutCounts = { PENDING: 0, PROGRESSING: 0, HEALTHY: 0, FAILED: 0, SUPERSEDED: 0, total: 0 };
    for (const row of rows) {
      counts[row.state] = Number(row.n);
      counts.total += Number(row.n);
    }
    return counts;
  }

  /** One page of a rollout's targets, ordered by cluster then App. */
  async targets(rolloutId: string, first: number, offset: number): Promise<RolloutTargetView[]> {
    const rows: Record<string, string | null>[] = await this.db.query(
      `SELECT c.name AS cluster_name, t.app_name, t.revision, t.generation, ${TARGET_STATE_SQL} AS state, s.health, s.message, s.ack_error
       FROM ${TARGETS_FROM_SQL} ORDER BY c.name, t.app_name LIMIT $2 OFFSET $3`,
      [rolloutId, first, offset],
    );
    return rows.map((r) => ({
      clusterName: r['cluster_name']!,
      appName: r['app_name']!,
      revision: r['revision']?.trim() ?? null,
      generation: r['generation']!,
      state: r['state'] as TargetState,
      health: r['health'],
      message: r['ack_error'] ?? r['message'],
    }));
  }

  async events(rolloutId: string, limit: number): Promise<RolloutEventEntity[]> {
    return this.db.getRepository(RolloutEventEntity).find({ where: { rolloutId }, order: { id: 'ASC' }, take: limit });
  }

  /** Asks for a re-evaluation of active rollouts soon (coalesces bursts of reports). */
  nudge(): void {
    if (this.nudgeTimer) return;
    this.nudgeTimer = setTimeout(() => {
      this.nudgeTimer = undefined;
      if (this.refreshing) return;
      this.refreshing = this.refreshActive()
        .catch((error: unknown) => this.log.warn(`rollout refresh failed: ${String(error)}`))
        .finally(() => (this.refreshing = undefined));
    }, NUDGE_DELAY_MS);
    this.nudgeTimer.unref();
  }

  /** Marks rollouts whose every target has settled as SUCCEEDED. Idempotent across replicas. */
  async refreshActive(now = new Date()): Promise<void> {
    const active = await this.db.getRepository(RolloutEntity).find({ where: { phase: 'PROGRESSING' }, select: { id: true } });
    for (const { id } of active) {
      const counts = await this.counts(id);
      if (counts.total - counts.HEALTHY - counts.SUPERSEDED > 0) continue;
      await this.db.transaction(async (tx) => {
        const done = await tx.update(RolloutEntity, { id, phase: 'PROGRESSING' }, { phase: 'SUCCEEDED', finishedAt: now });
        if (done.affected === 1) await this.audit(tx, id, 'hub', 'SUCCEEDED', `All ${counts.total} App release(s) are healthy.`);
      });
    }
  }

  private async releaseStaged(tx: EntityManager, appSetId: string, rolloutId: string, now: Date): Promise<number> {
    const rows: { n: string }[] = await tx.query(
      `WITH released AS (
         UPDATE apps a SET
           released_revision = a.staged_revision,
           released_namespace = a.staged_namespace,
           released_sync_policy = a.staged_sync_policy,
           released_generation = nextval('release_generation'),
           released_at = $3
         WHERE a.app_set_id = $1 AND (
           a.staged_revision IS DISTINCT FROM a.released_revision
           OR (a.staged_revision IS NOT NULL AND (a.staged_namespace <> a.released_namespace
               OR a.staged_sync_policy IS DISTINCT FROM a.released_sync_policy)))
         RETURNING a.cluster_id, a.name, a.released_revision, a.released_generation
       ), targets AS (
         INSERT INTO rollout_targets (rollout_id, cluster_id, app_name, revision, generation)
         SELECT $2, cluster_id, name, released_revision, released_generation FROM released
       ), wakeups AS (
         INSERT INTO outbox (cluster_id, app_name) SELECT cluster_id, name FROM released
       )
       SELECT count(*) AS n FROM released`,
      [appSetId, rolloutId, now],
    );
    // Delivered to listeners only if the transaction commits.
    await tx.query(`SELECT pg_notify('flotilla_outbox', '')`);
    return Number(rows[0]?.n ?? 0);
  }

  private async audit(tx: EntityManager, rolloutId: string, actor: string, kind: string, message: string): Promise<void> {
    await tx.insert(RolloutEventEntity, { rolloutId, actor, kind, message });
  }
}
