import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { OutboxRelay } from '../agent-link/outbox-relay.service';
import { Clock } from '../clock';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { nextRolloutStep, type ClusterStatus } from '../core/rollout/next-rollout-step';
import { returnedRows } from '../database/sql';
import { Metrics } from '../observability/metrics';
import { RolloutEventEntity } from './rollout-event.entity';
import { recordRolloutStep } from '../audit/audit.service';
import { RolloutEntity } from './rollout.entity';
import { TARGETS_FROM_SQL, TARGET_STATE_SQL } from './target-state.sql';

/** Every active rollout is stepped at least this often (soak and deadlines are time-based). */
const TICK_MS = 1000;
const NUDGE_DELAY_MS = 100;
/** A cluster counts as online while heard from within this many heartbeat intervals. */
const ONLINE_GRACE_INTERVALS = 3;

interface ClusterRow {
  cluster_id: string;
  name: string;
  rc_state: string;
  released_at: Date | null;
  online: boolean;
  last_seen_at: Date | null;
  targets: string;
  healthy: string;
  failed: string;
  healthy_since: Date | null;
}

/**
 * Runs rollouts: for each active rollout, claims it with a row lock (`FOR UPDATE SKIP LOCKED`, so two
 * hub replicas never step the same rollout at once), derives per-cluster statuses from releases and
 * reports, asks the pure `nextRolloutStep` what to do, and commits the releases, outbox rows, state
 * changes and audit events of that step in one transaction.
 */
@Injectable()
export class RolloutEngine implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Rollouts');
  private tick: NodeJS.Timeout | undefined;
  private nudgeTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly db: DataSource,
    private readonly relay: OutboxRelay,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.tick = setInterval(() => this.nudge(), TICK_MS);
    this.tick.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.tick);
    clearTimeout(this.nudgeTimer);
    this.tick = undefined;
    await this.running;
  }

  /** Asks for a step of every active rollout soon (coalesces bursts of reports). */
  nudge(): void {
    if (this.nudgeTimer) return;
    this.nudgeTimer = setTimeout(() => {
      this.nudgeTimer = undefined;
      if (this.running) {
        this.again = true;
        return;
      }
      this.running = this.stepAll()
        .catch((error: unknown) => this.log.warn(`rollout step failed (retried on the next tick): ${String(error)}`))
        .finally(() => {
          this.running = undefined;
          if (this.again) {
            this.again = false;
            this.nudge();
          }
        });
    }, NUDGE_DELAY_MS);
    this.nudgeTimer.unref();
  }

  /** Steps every PROGRESSING rollout once. */
  async stepAll(): Promise<void> {
    const active: { id: string }[] = await this.db.query(`SELECT id FROM rollouts WHERE phase = 'PROGRESSING' AND plan IS NOT NULL ORDER BY started_at`);
    let released = 0;
    for (const { id } of active) released += await this.step(id);
    if (released > 0) this.relay.wake();
  }

  /** One step of one rollout, in one transaction. Returns how many App releases it committed. */
  async step(rolloutId: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      const claimed = (await tx.query(`SELECT id FROM rollouts WHERE id = $1 AND phase = 'PROGRESSING' FOR UPDATE SKIP LOCKED`, [rolloutId])) as unknown[];
      if (claimed.length === 0) return 0; // another replica is stepping it, or it is no longer active
      const rollout = await tx.findOneByOrFail(RolloutEntity, { id: rolloutId });
      const now = this.clock.now();
      const statuses = await this.statuses(tx, rolloutId, now, rollout.startedAt);
      const names = new Map(statuses.map((s) => [s.cluster, s.id]));
      const step = nextRolloutStep(rollout.plan!, statuses.map((s) => s.status), new Set(rollout.approvedWaves), now.getTime());

      if (step.skip.length > 0) {
        await tx.query(`UPDATE rollout_clusters SET state = 'SKIPPED' WHERE rollout_id = $1 AND cluster_id = ANY($2)`, [rolloutId, step.skip.map((n) => names.get(n))]);
        await this.audit(tx, rolloutId, 'SKIPPED', `Skipped offline cluster(s): ${step.skip.join(', ')}.`);
      }
      let released = 0;
      if (step.release.length > 0) {
        released = await this.releaseClusters(tx, rolloutId, step.release.map((n) => names.get(n)!), now);
        if (step.currentWave !== rollout.currentWave) await this.audit(tx, rolloutId, 'WAVE_STARTED', `Wave ${step.currentWave} started.`);
        await this.audit(tx, rolloutId, 'RELEASED', `Released to ${step.release.join(', ')} (wave ${step.currentWave}).`);
      }
      const reason = step.reasons.join('; ').slice(0, 2000);
      if (step.halted) {
        const why = `Failure budget of wave ${step.currentWave} breached${step.timedOut.length ? ` (timed out: ${step.timedOut.join(', ')})` : ''}.`;
        switch (rollout.plan!.onFailure) {
          case 'rollback':
            released += await this.rollBack(tx, rolloutId, now);
            await tx.update(RolloutEntity, { id: rolloutId }, { phase: 'ROLLED_BACK', finishedAt: now, reason: why, currentWave: step.currentWave ?? null });
            await this.audit(tx, rolloutId, 'ROLLED_BACK', `${why} Rolled back automatically.`);
            break;
          case 'fail':
            await tx.update(RolloutEntity, { id: rolloutId }, { phase: 'FAILED', finishedAt: now, reason: why, currentWave: step.currentWave ?? null });
            await this.audit(tx, rolloutId, 'FAILED', `${why} Failed (onFailure: fail); released clusters keep the new revision, later waves get nothing.`);
            break;
          case 'pause':
            await tx.update(RolloutEntity, { id: rolloutId }, { phase: 'PAUSED', reason: why, currentWave: step.currentWave ?? null });
            await this.audit(tx, rolloutId, 'PAUSED', `${why} Paused automatically.`);
            break;
        }
      } else if (step.done) {
        const done = await this.doneReason(tx, rolloutId);
        await tx.update(RolloutEntity, { id: rolloutId }, { phase: 'SUCCEEDED', finishedAt: now, reason: done, currentWave: null });
        await this.audit(tx, rolloutId, 'SUCCEEDED', done);
      } else if (step.currentWave !== rollout.currentWave || reason !== rollout.reason) {
        await tx.update(RolloutEntity, { id: rolloutId }, { currentWave: step.currentWave ?? null, reason });
      }
      this.metrics.releases.inc(released);
      return released;
    });
  }

  /** How recently a cluster must have been heard from to count as online, in ms. */
  onlineGraceMs(): number {
    return ONLINE_GRACE_INTERVALS * this.config.heartbeatIntervalSeconds * 1000;
  }

  /** What a SUCCEEDED rollout says: that every wave is done, and which clusters were skipped (they did not get the revision). */
  private async doneReason(tx: EntityManager, rolloutId: string): Promise<string> {
    const skipped: { name: string }[] = await tx.query(
      `SELECT COALESCE(c.name, '(deregistered)') AS name FROM rollout_clusters rc LEFT JOIN clusters c ON c.id = rc.cluster_id
       WHERE rc.rollout_id = $1 AND rc.state = 'SKIPPED' ORDER BY 1`,
      [rolloutId],
    );
    if (skipped.length === 0) return 'Every wave is done.';
    const names = skipped.slice(0, 20).map((r) => r.name).join(', ') + (skipped.length > 20 ? `, and ${skipped.length - 20} more` : '');
    return `Every wave is done; ${skipped.length} cluster(s) skipped while offline did not get this revision: ${names}.`;
  }

  /**
   * Re-releases, to every cluster that received this rollout's release, what it had before (a removal
   * where it had nothing). An App this rollout removed, whose row went once the agent confirmed the
   * removal, is written again with its previous release (staged still for removal: the held-back
   * revision removes it). Returns the number of App releases.
   */
  async rollBack(tx: EntityManager, rolloutId: string, now: Date): Promise<number> {
    const updated = returnedRows<{ cluster_id: string; name: string }>(
      await tx.query(
        `UPDATE apps a SET released_revision = t.previous_revision, released_namespace = t.previous_namespace,
           released_sync_policy = t.previous_sync_policy, released_generation = nextval('release_generation'), released_at = $2
         FROM rollout_targets t
         WHERE t.rollout_id = $1 AND t.generation IS NOT NULL AND a.cluster_id = t.cluster_id AND a.name = t.app_name
           AND a.released_generation = t.generation
         RETURNING a.cluster_id, a.name`,
        [rolloutId, now],
      ),
    );
    const restored: { cluster_id: string; name: string }[] = await tx.query(
      `INSERT INTO apps (app_set_id, cluster_id, name, staged_revision, released_revision, released_namespace, released_sync_policy, released_generation, released_at)
       SELECT r.app_set_id, t.cluster_id, t.app_name, NULL, t.previous_revision, t.previous_namespace, t.previous_sync_policy, nextval('release_generation'), $2
       FROM rollout_targets t JOIN rollouts r ON r.id = t.rollout_id JOIN clusters c ON c.id = t.cluster_id
       WHERE t.rollout_id = $1 AND t.generation IS NOT NULL AND t.revision IS NULL AND t.previous_revision IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM apps a WHERE a.cluster_id = t.cluster_id AND a.name = t.app_name)
       ON CONFLICT (cluster_id, name) DO NOTHING
       RETURNING cluster_id, name`,
      [rolloutId, now],
    );
    const rows = [...updated, ...restored];
    if (rows.length > 0) {
      await tx.query(`INSERT INTO outbox (cluster_id, app_name) SELECT * FROM unnest($1::uuid[], $2::varchar[])`, [rows.map((r) => r.cluster_id), rows.map((r) => r.name)]);
      await tx.query(`SELECT pg_notify('flotilla_outbox', '')`);
    }
    return rows.length;
  }

  private async releaseClusters(tx: EntityManager, rolloutId: string, clusterIds: string[], now: Date): Promise<number> {
    const [{ n }] = (await tx.query(
      `WITH released AS (
         UPDATE apps a SET released_revision = t.revision, released_namespace = t.namespace, released_sync_policy = t.sync_policy,
           released_generation = nextval('release_generation'), released_at = $3
         FROM rollout_targets t
         WHERE t.rollout_id = $1 AND t.cluster_id = ANY($2) AND t.generation IS NULL AND a.cluster_id = t.cluster_id AND a.name = t.app_name
         RETURNING a.cluster_id, a.name, a.released_generation
       ), marked AS (
         UPDATE rollout_targets t SET generation = r.released_generation FROM released r
         WHERE t.rollout_id = $1 AND t.cluster_id = r.cluster_id AND t.app_name = r.name
       ), wakeups AS (
         INSERT INTO outbox (cluster_id, app_name) SELECT cluster_id, name FROM released
       )
       SELECT count(*)::int AS n FROM released`,
      [rolloutId, clusterIds, now],
    )) as { n: number }[];
    await tx.query(`UPDATE rollout_clusters SET state = 'RELEASED', released_at = $3 WHERE rollout_id = $1 AND cluster_id = ANY($2)`, [rolloutId, clusterIds, now]);
    await tx.query(`SELECT pg_notify('flotilla_outbox', '')`);
    return n!;
  }

  /** Per-cluster statuses of a rollout, aggregated in the database from its targets. */
  private async statuses(tx: EntityManager, rolloutId: string, now: Date, startedAt: Date): Promise<{ id: string; cluster: string; status: ClusterStatus }[]> {
    const graceMs = this.onlineGraceMs();
    const rows: ClusterRow[] = await tx.query(
      `WITH states AS (SELECT t.cluster_id, ${TARGET_STATE_SQL} AS state, s.healthy_since FROM ${TARGETS_FROM_SQL})
       SELECT rc.cluster_id, c.name, rc.state AS rc_state, rc.released_at, c.last_seen_at,
         (c.connected_replica IS NOT NULL AND c.last_seen_at > $2::timestamptz - ($3::int * interval '1 millisecond')) AS online,
         count(st.*) AS targets,
         count(*) FILTER (WHERE st.state IN ('HEALTHY', 'SUPERSEDED')) AS healthy,
         count(*) FILTER (WHERE st.state = 'FAILED') AS failed,
         max(st.healthy_since) FILTER (WHERE st.state = 'HEALTHY') AS healthy_since
       FROM rollout_clusters rc JOIN clusters c ON c.id = rc.cluster_id
       LEFT JOIN states st ON st.cluster_id = rc.cluster_id
       WHERE rc.rollout_id = $1
       GROUP BY rc.cluster_id, c.name, rc.state, rc.released_at, c.last_seen_at, c.connected_replica`,
      [rolloutId, now, graceMs],
    );
    // Offline deadlines count from the later of the last contact and the rollout's start: a cluster
    // that was already offline is still given its full wait once the rollout begins.
    return rows.map((r) => ({ id: r.cluster_id, cluster: r.name, status: toStatus(r, startedAt.getTime()) }));
  }

  private async audit(tx: EntityManager, rolloutId: string, kind: string, message: string): Promise<void> {
    await tx.insert(RolloutEventEntity, { rolloutId, actor: 'hub', kind, message });
    await recordRolloutStep(tx, rolloutId, 'hub', kind, message);
  }
}

function toStatus(r: ClusterRow, startedAt: number): ClusterStatus {
  const base = { cluster: r.name, online: r.online, lastSeenAt: Math.max(r.last_seen_at?.getTime() ?? 0, startedAt) };
  if (r.rc_state === 'SKIPPED') return { ...base, state: 'SKIPPED' };
  if (r.rc_state === 'PENDING') return { ...base, state: 'PENDING' };
  const releasedAt = r.released_at?.getTime();
  if (Number(r.failed) > 0) return { ...base, state: 'FAILED', releasedAt };
  if (Number(r.healthy) === Number(r.targets)) {
    // All superseded (nothing healthy of ours to time): count as healthy since the release.
    return { ...base, state: 'HEALTHY', releasedAt, healthySince: r.healthy_since?.getTime() ?? releasedAt };
  }
  return { ...base, state: 'RELEASED', releasedAt };
}
