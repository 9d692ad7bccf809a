import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { lockKey } from '../app-sets/app-sets.service';
import { AppSetEntity } from '../app-sets/app-set.entity';
import { Clock } from '../clock';
import { OutboxRelay } from '../agent-link/outbox-relay.service';
import { parseStrategy } from '../core/app-set/parse-app-set';
import type { Issue } from '../core/issues';
import { heldBackRevision } from '../core/rollout/held-back';
import { nothingToReleaseReason } from '../core/rollout/nothing-to-release';
import { planWaves, type PlanCluster, type WavePlan } from '../core/rollout/plan-waves';
import type { RolloutStrategy } from '../core/rollout/strategy';
import { TARGET_STATES, type TargetState } from '../core/rollout/target-state';
import { returnedRows } from '../database/sql';
import { FlotillaError } from '../errors';
import { RolloutEngine } from './rollout-engine.service';
import { RolloutEventEntity } from './rollout-event.entity';
import { latestRollout, strategyOf } from './rollout-history';
import { recordRolloutStep } from '../audit/audit.service';
import { RolloutEntity, type RolloutPhase } from './rollout.entity';
import { TARGETS_FROM_SQL, TARGET_STATE_SQL } from './target-state.sql';
import { emptyCounts, readCountsByWave, readWaveWaits, type RolloutCounts, type WaveWaits } from './wave-reads';

export interface RolloutTargetView {
  readonly clusterName: string;
  readonly appName: string;
  readonly wave: string;
  /** Released revision; null for a removal. */
  readonly revision: string | null;
  readonly generation: string | null;
  readonly state: TargetState;
  readonly message: string | null;
}

/** A preview of a rollout: its waves and what changes, without writing anything. */
export interface RolloutPreview {
  readonly plan: WavePlan | undefined;
  readonly issues: readonly Issue[];
  readonly added: number;
  readonly changed: number;
  readonly removed: number;
}

/** Changes staged but not released for one AppSet: what a rollout would move. */
interface StagedChange {
  cluster_id: string;
  cluster_name: string;
  labels: Record<string, string>;
  name: string;
  staged_revision: string | null;
  released_revision: string | null;
  online: boolean;
}

const ACTIVE: RolloutPhase[] = ['PROGRESSING', 'PAUSED'];
/** An App (alias `a`) whose staged state differs from what is released: a rollout would move it. */
const STAGED_DIFFERS_SQL = `(a.staged_revision IS DISTINCT FROM a.released_revision
  OR (a.staged_revision IS NOT NULL AND (a.staged_namespace <> a.released_namespace
      OR a.staged_sync_policy IS DISTINCT FROM a.released_sync_policy)))`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class RolloutsService {
  constructor(
    private readonly db: DataSource,
    private readonly engine: RolloutEngine,
    private readonly relay: OutboxRelay,
    private readonly clock: Clock,
  ) {}

  /**
   * Starts a rollout of the AppSet's current revision: plans waves over the clusters with staged
   * changes and records every target with what it had before (for rollback). Nothing is released here:
   * the engine releases wave by wave. An active rollout of the same AppSet is superseded, or the call
   * is refused with `supersede: false`. With nothing staged to release, the rollout finishes at once as
   * NOTHING_TO_DO, superseding only an active rollout that still has something to release. Starting
   * by hand is allowed on a held-back revision (after a rollback, abort or failure): the STARTED event
   * says so.
   */
  async start(target: AppSetEntity, actor: string, now: Date, options: { supersede?: boolean; strategy?: unknown; reason?: string } = {}): Promise<RolloutEntity> {
    const reason = checkStartReason(options.reason ?? '');
    const override = strategyOverride(options.strategy);
    const rollout = await this.db.transaction(async (tx) => {
      const appSet = await this.lockAppSet(tx, target);
      if (!appSet) throw new FlotillaError('NOT_FOUND', `AppSet "${target.name}" does not exist.`);
      const active = await tx.query(`SELECT id FROM rollouts WHERE app_set_id = $1 AND phase = ANY($2) FOR UPDATE`, [appSet.id, ACTIVE]);
      if (active.length > 0 && options.supersede === false) {
        throw new FlotillaError('FAILED_PRECONDITION', `AppSet "${appSet.name}" already has an active rollout (${active[0].id}).`);
      }
      return this.begin(tx, appSet, actor, now, { strategy: override ?? (await strategyOf(tx, appSet)), reason, triggeredRevision: null });
    });
    return this.afterStart(rollout.id);
  }

  /**
   * Starts the rollout a newly staged revision asks for (`spec.strategy.trigger: auto`), as the hub,
   * superseding an active one. At most once per revision whichever replica asks, and only while it is
   * still the current revision, has no rollout yet and says `trigger: auto`; null when it does not start
   * one. A strategy that cannot be planned gives a FAILED rollout saying why (nobody is there to read an
   * error), which holds the revision back.
   */
  async startTriggered(target: AppSetEntity, revision: number, reason: string, now: Date): Promise<RolloutEntity | null> {
    const startReason = checkStartReason(reason);
    const rollout = await this.db.transaction(async (tx) => {
      const appSet = await this.lockAppSet(tx, target);
      if (!appSet || appSet.currentRevision !== revision) return null;
      const already = (await tx.query(`SELECT id FROM rollouts WHERE app_set_id = $1 AND app_set_revision = $2 LIMIT 1`, [appSet.id, revision])) as unknown[];
      if (already.length > 0) return null;
      const strategy = await strategyOf(tx, appSet);
      if (strategy?.trigger !== 'auto') return null;
      return this.begin(tx, appSet, 'hub', now, { strategy, reason: startReason, triggeredRevision: revision });
    });
    return rollout && this.afterStart(rollout.id);
  }

  /** The AppSet re-read under its advisory lock (applies, refreshes and starts of one AppSet are serialised); null once removed. */
  private async lockAppSet(tx: EntityManager, target: AppSetEntity): Promise<AppSetEntity | null> {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey(target.project, target.name)]);
    return tx.findOneBy(AppSetEntity, { id: target.id });
  }

  /** Plans and records a rollout of the AppSet's current revision, inside the caller's transaction (which holds the AppSet's lock). */
  private async begin(
    tx: EntityManager,
    appSet: AppSetEntity,
    actor: string,
    now: Date,
    options: { strategy: RolloutStrategy | undefined; reason: string; triggeredRevision: number | null },
  ): Promise<RolloutEntity> {
    const { reason, triggeredRevision } = options;
    const changes = await this.stagedChanges(tx, appSet.id, now);
    const { plan, issues } = planWaves(options.strategy, uniqueClusters(changes));
    const base = { appSetId: appSet.id, appSetRevision: appSet.currentRevision, startedBy: actor, startedAt: now, approvedWaves: [], startReason: reason, triggeredRevision };
    const because = reason ? ` Reason: ${reason}` : '';
    if (!plan) {
      const invalid = `The rollout strategy is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`;
      if (triggeredRevision === null) throw new FlotillaError('INVALID_ARGUMENT', invalid);
      const failed = await tx.save(Object.assign(new RolloutEntity(), { ...base, phase: 'FAILED', plan: null, finishedAt: now, reason: invalid.slice(0, 2000) }));
      await this.audit(tx, failed.id, actor, 'STARTED', `Rolling out revision ${appSet.currentRevision} of ${appSet.name}.${because}`);
      await this.audit(tx, failed.id, actor, 'FAILED', invalid);
      return failed;
    }
    if (changes.length === 0) {
      // Nothing to move. An active rollout with something left to release would release what is no
      // longer staged (a revert while it waits): it is superseded. One that released everything keeps
      // watching its clusters (soak).
      const [{ n }] = (await tx.query(`SELECT count(*)::int AS n FROM apps WHERE app_set_id = $1`, [appSet.id])) as { n: number }[];
      const why = nothingToReleaseReason(appSet.currentRevision, n!);
      const idle = await tx.save(Object.assign(new RolloutEntity(), { ...base, phase: 'NOTHING_TO_DO', plan, finishedAt: now, reason: why }));
      await this.supersede(tx, appSet.id, idle.id, actor, now, 'with targets left to release');
      await this.audit(tx, idle.id, actor, 'STARTED', `Rolling out revision ${appSet.currentRevision} of ${appSet.name}.${because}`);
      await this.audit(tx, idle.id, 'hub', 'NOTHING_TO_DO', why);
      return idle;
    }
    const held = triggeredRevision === null ? heldBackRevision(appSet.currentRevision, 'manual', await latestRollout(tx, appSet.id)) : undefined;
    const rollout = await tx.save(Object.assign(new RolloutEntity(), { ...base, phase: 'PROGRESSING', plan, reason: '' }));
    await this.supersede(tx, appSet.id, rollout.id, actor, now, 'all');
    await this.recordTargets(tx, rollout.id, appSet.id, plan);
    const summary = plan.waves.map((w) => `${w.name} (${w.clusters.length})`).join(', ');
    const again = held ? ` Revision ${held.revision} was held back (${held.summary}); started by hand, it is released again.` : '';
    await this.audit(
      tx,
      rollout.id,
      actor,
      'STARTED',
      `Rolling out revision ${appSet.currentRevision} of ${appSet.name}: ${changes.length} App change(s) in waves ${summary}.${again}${because}`,
    );
    return rollout;
  }

  /** Marks the AppSet's active rollouts (other than `by`; `with targets left to release` only, or `all`) SUPERSEDED by rollout `by`. */
  private async supersede(tx: EntityManager, appSetId: string, by: string, actor: string, now: Date, which: 'all' | 'with targets left to release'): Promise<void> {
    const unreleased = which === 'all' ? '' : 'AND EXISTS (SELECT 1 FROM rollout_targets t WHERE t.rollout_id = rollouts.id AND t.generation IS NULL)';
    const superseded = returnedRows<{ id: string }>(
      await tx.query(`UPDATE rollouts SET phase = 'SUPERSEDED', finished_at = $2 WHERE app_set_id = $1 AND phase = ANY($3) AND id <> $4 ${unreleased} RETURNING id`, [
        appSetId,
        now,
        ACTIVE,
        by,
      ]),
    );
    for (const old of superseded) await this.audit(tx, old.id, actor, 'SUPERSEDED', `Superseded by rollout ${by}.`);
  }

  private async afterStart(id: string): Promise<RolloutEntity> {
    await this.engine.step(id);
    this.relay.wake();
    return this.db.getRepository(RolloutEntity).findOneByOrFail({ id });
  }

  /** Clusters of the rollout left out (offline), by name. */
  async skippedClusters(rolloutId: string): Promise<string[]> {
    const rows: { name: string }[] = await this.db.query(
      `SELECT COALESCE(c.name, '(deregistered)') AS name FROM rollout_clusters rc LEFT JOIN clusters c ON c.id = rc.cluster_id
       WHERE rc.rollout_id = $1 AND rc.state = 'SKIPPED' ORDER BY 1`,
      [rolloutId],
    );
    return rows.map((r) => r.name);
  }

  /** The waves and the size of the change a rollout would make now, without writing anything. */
  async preview(appSet: AppSetEntity, strategyInput?: unknown): Promise<RolloutPreview> {
    const strategy = strategyOverride(strategyInput);
    const changes = await this.stagedChanges(this.db.manager, appSet.id, this.clock.now());
    const { plan, issues } = planWaves(strategy ?? (await strategyOf(this.db.manager, appSet)), uniqueClusters(changes));
    return {
      plan,
      issues,
      added: changes.filter((c) => c.released_revision === null && c.staged_revision !== null).length,
      changed: changes.filter((c) => c.released_revision !== null && c.staged_revision !== null).length,
      removed: changes.filter((c) => c.staged_revision === null).length,
    };
  }

  async pause(id: string, actor: string, reason: string): Promise<RolloutEntity> {
    return this.transition(id, ['PROGRESSING'], 'PAUSED', actor, 'PAUSED', reason || 'Paused by an operator.');
  }

  async resume(id: string, actor: string, reason: string): Promise<RolloutEntity> {
    const rollout = await this.transition(id, ['PAUSED'], 'PROGRESSING', actor, 'RESUMED', reason || 'Resumed by an operator.');
    this.engine.nudge();
    return rollout;
  }

  /** Stops the rollout; clusters already released keep what they received. */
  async abort(id: string, actor: string, reason: string): Promise<RolloutEntity> {
    return this.transition(id, ACTIVE, 'ABORTED', actor, 'ABORTED', reason || 'Aborted by an operator; released clusters keep the new revision.');
  }

  /** Re-releases the previous revision to every cluster that received this rollout's release. */
  async rollback(id: string, actor: string, reason: string, now: Date): Promise<RolloutEntity> {
    await this.db.transaction(async (tx) => {
      const rollout = await this.lock(tx, id);
      if (!['PROGRESSING', 'PAUSED', 'SUCCEEDED', 'ABORTED', 'FAILED'].includes(rollout.phase)) {
        throw new FlotillaError('FAILED_PRECONDITION', `A ${rollout.phase} rollout cannot be rolled back.`);
      }
      const released = await this.engine.rollBack(tx, id, now);
      await tx.update(RolloutEntity, { id }, { phase: 'ROLLED_BACK', finishedAt: now, reason: reason || 'Rolled back by an operator.' });
      await this.audit(tx, id, actor, 'ROLLED_BACK', `${reason || 'Rolled back by an operator.'} ${released} App(s) re-released at their previous revision.`);
    });
    this.relay.wake();
    return this.db.getRepository(RolloutEntity).findOneByOrFail({ id });
  }

  async approveWave(id: string, wave: string, actor: string, reason: string): Promise<RolloutEntity> {
    await this.db.transaction(async (tx) => {
      const rollout = await this.lock(tx, id);
      if (!rollout.plan?.waves.some((w) => w.name === wave)) throw new FlotillaError('NOT_FOUND', `Rollout ${id} has no wave "${wave.slice(0, 63)}".`);
      if (!rollout.approvedWaves.includes(wave)) await tx.update(RolloutEntity, { id }, { approvedWaves: [...rollout.approvedWaves, wave] });
      await this.audit(tx, id, actor, 'APPROVED', `Wave ${wave} approved.${reason ? ` ${reason}` : ''}`);
    });
    this.engine.nudge();
    return this.db.getRepository(RolloutEntity).findOneByOrFail({ id });
  }

  /** A rollout by id; null for an unknown or malformed id (the two look the same). */
  async find(id: string): Promise<RolloutEntity | null> {
    if (!UUID.test(id)) return null;
    return this.db.getRepository(RolloutEntity).findOne({ where: { id } });
  }

  async listForAppSet(appSetId: string, limit: number): Promise<RolloutEntity[]> {
    return this.db.getRepository(RolloutEntity).find({ where: { appSetId }, order: { startedAt: 'DESC' }, take: limit });
  }

  /** Per-state counts of a rollout's targets, by wave, aggregated in the database. */
  countsByWave(rolloutId: string): Promise<Map<string, RolloutCounts>> {
    return readCountsByWave(this.db, rolloutId);
  }

  /** What each wave waits on besides approval (see readWaveWaits). */
  waveWaits(rolloutId: string, connectedAfter: Date): Promise<Map<string, WaveWaits>> {
    return readWaveWaits(this.db, rolloutId, connectedAfter);
  }

  async counts(rolloutId: string): Promise<RolloutCounts> {
    const total = emptyCounts();
    for (const counts of (await this.countsByWave(rolloutId)).values()) {
      for (const state of TARGET_STATES) total[state] += counts[state];
      total.total += counts.total;
    }
    return total;
  }

  /** One page of a rollout's targets, ordered by wave, cluster, then App. */
  async targets(rolloutId: string, first: number, offset: number): Promise<RolloutTargetView[]> {
    const rows: Record<string, string | null>[] = await this.db.query(
      `SELECT COALESCE(c.name, '(deregistered)') AS cluster_name, t.app_name, rc.wave, t.revision, t.generation, ${TARGET_STATE_SQL} AS state, s.message, s.ack_error
       FROM ${TARGETS_FROM_SQL} ORDER BY rc.wave_index, c.name, t.app_name LIMIT $2 OFFSET $3`,
      [rolloutId, first, offset],
    );
    return rows.map((r) => ({
      clusterName: r['cluster_name']!,
      appName: r['app_name']!,
      wave: r['wave']!,
      revision: r['revision']?.trim() ?? null,
      generation: r['generation'],
      state: r['state'] as TargetState,
      message: r['ack_error'] ?? r['message'],
    }));
  }

  async events(rolloutId: string, limit: number): Promise<RolloutEventEntity[]> {
    return this.db.getRepository(RolloutEventEntity).find({ where: { rolloutId }, order: { id: 'ASC' }, take: limit });
  }

  private async transition(id: string, from: RolloutPhase[], to: RolloutPhase, actor: string, kind: string, reason: string): Promise<RolloutEntity> {
    await this.db.transaction(async (tx) => {
      const rollout = await this.lock(tx, id);
      if (!from.includes(rollout.phase)) throw new FlotillaError('FAILED_PRECONDITION', `Rollout ${id} is ${rollout.phase}; ${kind.toLowerCase()} needs ${from.join(' or ')}.`);
      const finished = ['ABORTED'].includes(to) ? { finishedAt: new Date() } : {};
      await tx.update(RolloutEntity, { id }, { phase: to, reason, ...finished });
      await this.audit(tx, id, actor, kind, reason);
    });
    return this.db.getRepository(RolloutEntity).findOneByOrFail({ id });
  }

  private async lock(tx: EntityManager, id: string): Promise<RolloutEntity> {
    const found = UUID.test(id) ? ((await tx.query(`SELECT id FROM rollouts WHERE id = $1 FOR UPDATE`, [id])) as unknown[]) : [];
    if (found.length === 0) throw new FlotillaError('NOT_FOUND', `Rollout "${id.slice(0, 80)}" does not exist.`);
    return tx.findOneByOrFail(RolloutEntity, { id });
  }


  /** Apps whose staged state differs from what is released, with their cluster's labels and whether it is online at `now`. */
  private async stagedChanges(tx: EntityManager, appSetId: string, now: Date): Promise<StagedChange[]> {
    return tx.query(
      `SELECT a.cluster_id, c.name AS cluster_name, c.labels, a.name, a.staged_revision, a.released_revision,
         (c.connected_replica IS NOT NULL AND c.last_seen_at > $2::timestamptz - ($3::int * interval '1 millisecond')) AS online
       FROM apps a JOIN clusters c ON c.id = a.cluster_id
       WHERE a.app_set_id = $1 AND ${STAGED_DIFFERS_SQL}
       ORDER BY c.name, a.name`,
      [appSetId, now, this.engine.onlineGraceMs()],
    );
  }

  private async recordTargets(tx: EntityManager, rolloutId: string, appSetId: string, plan: WavePlan): Promise<void> {
    const waveOf = plan.waves.flatMap((w, index) => w.clusters.map((cluster) => ({ cluster, wave: w.name, index })));
    if (waveOf.length === 0) return;
    await tx.query(
      `INSERT INTO rollout_clusters (rollout_id, cluster_id, wave, wave_index, state)
       SELECT $1, c.id, x.wave, x.idx, 'PENDING' FROM unnest($2::varchar[], $3::varchar[], $4::int[]) AS x(cluster, wave, idx)
       JOIN clusters c ON c.name = x.cluster`,
      [rolloutId, waveOf.map((w) => w.cluster), waveOf.map((w) => w.wave), waveOf.map((w) => w.index)],
    );
    await tx.query(
      `INSERT INTO rollout_targets (rollout_id, cluster_id, app_name, revision, namespace, sync_policy, previous_revision, previous_namespace, previous_sync_policy)
       SELECT $1, a.cluster_id, a.name, a.staged_revision, a.staged_namespace, a.staged_sync_policy, a.released_revision, a.released_namespace, a.released_sync_policy
       FROM apps a JOIN rollout_clusters rc ON rc.rollout_id = $1 AND rc.cluster_id = a.cluster_id
       WHERE a.app_set_id = $2 AND ${STAGED_DIFFERS_SQL}`,
      [rolloutId, appSetId],
    );
  }

  private async audit(tx: EntityManager, rolloutId: string, actor: string, kind: string, message: string): Promise<void> {
    await tx.insert(RolloutEventEntity, { rolloutId, actor, kind, message });
    await recordRolloutStep(tx, rolloutId, actor, kind, message);
  }
}

/** Longest reason startRollout takes, in characters. */
export const MAX_START_REASON_CHARS = 1000;

/** The reason given to startRollout, trimmed; INVALID_ARGUMENT when it is too long or spans lines. */
function checkStartReason(reason: string): string {
  const trimmed = reason.trim();
  if (trimmed.length > MAX_START_REASON_CHARS) throw new FlotillaError('INVALID_ARGUMENT', `The reason is ${trimmed.length} characters; the limit is ${MAX_START_REASON_CHARS}.`);
  if (/\p{Cc}/u.test(trimmed)) throw new FlotillaError('INVALID_ARGUMENT', 'The reason must be one line of text, without control characters.');
  return trimmed;
}

/** Counts with every state at zero. */
export /** Validates a per-rollout strategy override (undefined: use the AppSet's). Throws INVALID_ARGUMENT. */
function strategyOverride(input: unknown): RolloutStrategy | undefined {
  if (input === undefined || input === null) return undefined;
  const parsed = parseStrategy(input);
  if (!parsed.ok) throw new FlotillaError('INVALID_ARGUMENT', `The rollout strategy is invalid: ${parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  return parsed.value;
}

function uniqueClusters(changes: readonly StagedChange[]): PlanCluster[] {
  const seen = new Map<string, PlanCluster>();
  for (const change of changes) seen.set(change.cluster_name, { name: change.cluster_name, labels: change.labels, online: change.online });
  return [...seen.values()];
}
