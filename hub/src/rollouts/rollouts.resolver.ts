import { Args, ID, Int, Mutation, Parent, Query, ResolveField, Resolver, Subscription } from '@nestjs/graphql';
import { AppSetsService } from '../app-sets/app-sets.service';
import { Clock } from '../clock';
import type { PlannedWave } from '../core/rollout/plan-waves';
import { ClustersService } from '../clusters/clusters.service';
import type { WaveWaits } from './wave-reads';
import { JsonObjectScalar } from '../graphql/json-object.scalar';
import { PageArgs, checkPage } from '../graphql/page.args';
import {
  RolloutCountsModel,
  RolloutEventModel,
  RolloutModel,
  RolloutPreviewModel,
  RolloutTargetModel,
  TargetStateValue,
  WaveModel,
} from './rollout.model';
import type { RolloutEntity } from './rollout.entity';
import { RolloutsService } from './rollouts.service';
import { emptyCounts, type RolloutCounts } from './wave-reads';
import { Audit, Caller, type AuditNote } from '../auth/request-context';
import { requireOperator } from '../auth/require';
import { Authenticator } from '../auth/authenticator';
import { canRead, type Principal } from '../core/auth/principal';
import { FlotillaError } from '../errors';
import { GraphQLError } from 'graphql';
import type { AppSetEntity } from '../app-sets/app-set.entity';

type RolloutVerb = 'pause' | 'resume' | 'abort' | 'roll back' | 'approve waves of';

const PROGRESS_POLL_MS = 500;

@Resolver(() => RolloutModel)
export class RolloutsResolver {
  constructor(
    private readonly rollouts: RolloutsService,
    private readonly appSets: AppSetsService,
    private readonly clock: Clock,
    private readonly authenticator: Authenticator,
    private readonly clusters: ClustersService,
  ) {}

  // Nullable only so that a batch keeps its other fields: an unknown (or invisible) rollout is a NOT_FOUND error.
  @Query(() => RolloutModel, { nullable: true, description: 'One rollout by id; NOT_FOUND when no rollout the caller may see has that id.' })
  async rollout(@Caller() caller: Principal, @Args('id', { type: () => ID }) id: string): Promise<RolloutModel> {
    const found = await this.visible(caller, id);
    if (!found) throw notFound(id);
    return RolloutModel.from(found.rollout, found.appSet);
  }

  /** The rollout with its AppSet when the principal may see it; null otherwise (missing and invisible look the same). */
  private async visible(caller: Principal, id: string): Promise<{ rollout: RolloutEntity; appSet: AppSetEntity } | null> {
    const rollout = await this.rollouts.find(id);
    if (!rollout) return null;
    const appSet = await this.appSets.byId(rollout.appSetId);
    return canRead(caller, appSet.project) ? { rollout, appSet } : null;
  }

  /** For a verb: the rollout's id when the principal operates its project; NOT_FOUND (as for a missing one) or PERMISSION_DENIED. */
  private async operable(caller: Principal, audit: AuditNote, id: string, verb: RolloutVerb): Promise<string> {
    const found = await this.visible(caller, id);
    if (!found) throw notFound(id);
    audit.project = found.appSet.project;
    requireOperator(caller, found.appSet.project, `${verb} rollouts of project "${found.appSet.project}"`);
    return found.rollout.id;
  }

  @Query(() => RolloutPreviewModel, { description: 'The waves and the size of the change a rollout of the AppSet would make now. Writes nothing.' })
  async previewRollout(
    @Caller() caller: Principal,
    @Args('appSet') appSet: string,
    @Args('project', { type: () => String, nullable: true, description: 'The project of the AppSet, when the caller sees two AppSets of that name.' }) project: string | null,
    @Args('strategy', { type: () => JsonObjectScalar, nullable: true, description: "Overrides the AppSet's spec.strategy for this preview." }) strategy?: Record<string, unknown>,
  ): Promise<RolloutPreviewModel> {
    const preview = await this.rollouts.preview(await this.appSets.getVisible(caller, appSet, project), strategy);
    return {
      waves: (preview.plan?.waves ?? []).map((w) => waveModel(w, false, emptyCounts())),
      added: preview.added,
      changed: preview.changed,
      removed: preview.removed,
      issues: [...preview.issues],
    };
  }

  @Mutation(() => RolloutModel, { description: "Starts rolling the AppSet's staged revision out, wave by wave. An active rollout of the AppSet is superseded unless supersede is false. With nothing staged to release it finishes NOTHING_TO_DO at once. Allowed on a held-back revision (after a rollback, abort or failure): it is released again, and the STARTED event says so." })
  async startRollout(
    @Caller() caller: Principal,
    @Audit() audit: AuditNote,
    @Args('appSet') appSet: string,
    @Args('supersede', { defaultValue: true }) supersede: boolean,
    @Args('project', { type: () => String, nullable: true, description: 'The project of the AppSet, when the caller sees two AppSets of that name.' }) project: string | null,
    @Args('strategy', { type: () => JsonObjectScalar, nullable: true, description: "Overrides the AppSet's spec.strategy for this rollout (same fields)." }) strategy?: Record<string, unknown>,
    @Args('reason', { defaultValue: '', description: 'Why (one line, at most 1000 characters): kept as the rollout\'s startReason and in its STARTED event and the audit trail.' }) reason: string = '',
  ): Promise<RolloutModel> {
    const target = await this.appSets.getVisible(caller, appSet, project);
    audit.project = target.project;
    requireOperator(caller, target.project, `start rollouts of project "${target.project}"`);
    const started = await this.rollouts.start(target, caller.actor, this.clock.now(), { supersede, strategy, reason });
    audit.message = `startRollout appSet=${JSON.stringify(appSet)} id=${started.id} revision=${started.appSetRevision}${started.startReason ? ` reason=${JSON.stringify(started.startReason)}` : ''}`;
    return this.model(started);
  }

  @Mutation(() => RolloutModel, { description: 'Stops releasing; what was released stays.' })
  async pauseRollout(@Caller() caller: Principal, @Audit() audit: AuditNote, @Args('id', { type: () => ID }) id: string, @Args('reason', { defaultValue: '' }) reason: string): Promise<RolloutModel> {
    return this.model(await this.rollouts.pause(await this.operable(caller, audit, id, 'pause'), caller.actor, reason));
  }

  @Mutation(() => RolloutModel)
  async resumeRollout(@Caller() caller: Principal, @Audit() audit: AuditNote, @Args('id', { type: () => ID }) id: string, @Args('reason', { defaultValue: '' }) reason: string): Promise<RolloutModel> {
    return this.model(await this.rollouts.resume(await this.operable(caller, audit, id, 'resume'), caller.actor, reason));
  }

  @Mutation(() => RolloutModel, { description: 'Stops the rollout for good; released clusters keep the new revision.' })
  async abortRollout(@Caller() caller: Principal, @Audit() audit: AuditNote, @Args('id', { type: () => ID }) id: string, @Args('reason', { defaultValue: '' }) reason: string): Promise<RolloutModel> {
    return this.model(await this.rollouts.abort(await this.operable(caller, audit, id, 'abort'), caller.actor, reason));
  }

  @Mutation(() => RolloutModel, { description: 'Re-releases the previous revision to every cluster that received this rollout.' })
  async rollbackRollout(@Caller() caller: Principal, @Audit() audit: AuditNote, @Args('id', { type: () => ID }) id: string, @Args('reason', { defaultValue: '' }) reason: string): Promise<RolloutModel> {
    return this.model(await this.rollouts.rollback(await this.operable(caller, audit, id, 'roll back'), caller.actor, reason, this.clock.now()));
  }

  @Mutation(() => RolloutModel, { description: 'Lets a wave that needs approval start.' })
  async approveWave(
    @Caller() caller: Principal,
    @Audit() audit: AuditNote,
    @Args('id', { type: () => ID }) id: string,
    @Args('wave') wave: string,
    @Args('reason', { defaultValue: '' }) reason: string,
  ): Promise<RolloutModel> {
    return this.model(await this.rollouts.approveWave(await this.operable(caller, audit, id, 'approve waves of'), wave, caller.actor, reason));
  }

  @Subscription(() => RolloutModel, {
    description: 'Streams the rollout whenever its phase, wave, reason or counts change; ends after it finishes. An error NOT_FOUND when no rollout the caller may see has that id.',
    resolve: (payload: { rolloutProgress: RolloutModel }) => payload.rolloutProgress,
  })
  rolloutProgress(@Caller() caller: Principal, @Args('id', { type: () => ID }) id: string): AsyncIterableIterator<{ rolloutProgress: RolloutModel }> {
    return this.progress(caller, id);
  }

  /**
   * Polls the database rather than listening in memory, so that progress made by any hub replica is
   * seen. Bounded: ends when the rollout reaches a final phase, or after 24 h. Ends with UNAUTHENTICATED
   * as soon as the subscriber's credential is revoked or expires (checked on every poll), and with
   * NOT_FOUND when the subscriber may not see the rollout (a missing one looks the same).
   */
  private async *progress(caller: Principal, id: string): AsyncIterableIterator<{ rolloutProgress: RolloutModel }> {
    const deadline = Date.now() + 24 * 3600 * 1000;
    let last = '';
    while (Date.now() < deadline) {
      if (!(await this.authenticator.isStillValid(caller, this.clock.now()))) {
        // Thrown from the stream, not the resolver: no exception filter maps it, so it carries its code itself.
        throw new GraphQLError('The credential of this subscription was revoked or has expired.', { extensions: { code: 'UNAUTHENTICATED' } });
      }
      const found = (await this.visible(caller, id))?.rollout;
      if (!found) {
        const missing = notFound(id);
        throw new GraphQLError(missing.message, { extensions: { code: missing.code } });
      }
      const counts = await this.rollouts.counts(id);
      const key = JSON.stringify([found.phase, found.currentWave, found.reason, counts]);
      if (key !== last) {
        last = key;
        yield { rolloutProgress: await this.model(found) };
      }
      if (!['PROGRESSING', 'PAUSED'].includes(found.phase)) return;
      await new Promise((resolve) => setTimeout(resolve, PROGRESS_POLL_MS));
    }
  }

  @ResolveField(() => [String], { description: 'Clusters left out because they were offline (offlineClusters: skip, or wait past offlineDeadline), by name: they did not get this revision.' })
  async skippedClusters(@Parent() rollout: RolloutModel): Promise<string[]> {
    return this.rollouts.skippedClusters(rollout.id);
  }

  @ResolveField(() => RolloutCountsModel)
  async counts(@Parent() rollout: RolloutModel): Promise<RolloutCountsModel> {
    return countsModel(await this.rollouts.counts(rollout.id));
  }

  @ResolveField(() => [WaveModel], { description: 'The planned waves, in order, with their counts.' })
  async waves(@Parent() rollout: RolloutModel): Promise<WaveModel[]> {
    const [counts, waits] = await Promise.all([this.rollouts.countsByWave(rollout.id), this.rollouts.waveWaits(rollout.id, this.clusters.connectedAfter(this.clock.now()))]);
    return (rollout.entity.plan?.waves ?? []).map((w) => waveModel(w, rollout.entity.approvedWaves.includes(w.name), counts.get(w.name) ?? emptyCounts(), waits.get(w.name)));
  }

  @ResolveField(() => [RolloutTargetModel], { description: 'Targets by wave, cluster, then App.' })
  async targets(@Parent() rollout: RolloutModel, @Args() page: PageArgs): Promise<RolloutTargetModel[]> {
    const { first, offset } = checkPage(page);
    return (await this.rollouts.targets(rollout.id, first, offset)).map((t) => ({
      cluster: t.clusterName,
      app: t.appName,
      wave: t.wave,
      revision: t.revision,
      generation: t.generation,
      state: t.state as TargetStateValue,
      reason: t.state === 'HEALTHY' || t.state === 'SUPERSEDED' ? null : t.message,
    }));
  }

  @ResolveField(() => [RolloutEventModel], { description: 'The audit trail, oldest first.' })
  async events(@Parent() rollout: RolloutModel, @Args('first', { type: () => Int, defaultValue: 100 }) first: number): Promise<RolloutEventModel[]> {
    return this.rollouts.events(rollout.id, Math.min(Math.max(first, 0), 1000));
  }

  private async model(entity: RolloutEntity): Promise<RolloutModel> {
    return RolloutModel.from(entity, await this.appSets.byId(entity.appSetId));
  }
}

/** The one answer to an id the caller may not see, whether or not the rollout exists. */
function notFound(id: string): FlotillaError {
  return new FlotillaError('NOT_FOUND', `Rollout "${id.slice(0, 80)}" does not exist.`);
}

function countsModel(c: RolloutCounts): RolloutCountsModel {
  return { total: c.total, pending: c.PENDING, progressing: c.PROGRESSING, healthy: c.HEALTHY, failed: c.FAILED, skipped: c.SKIPPED, superseded: c.SUPERSEDED };
}

function waveModel(w: PlannedWave, approved: boolean, counts: RolloutCounts, waits?: WaveWaits): WaveModel {
  const settled = counts.PENDING === 0 && counts.PROGRESSING === 0;
  const soakEndsAt = waits?.lastHealthySince && settled && w.soakMs > 0 ? new Date(waits.lastHealthySince.getTime() + w.soakMs) : null;
  return { ...w, clusters: [...w.clusters], approved, counts: countsModel(counts), soakEndsAt, offlineClusters: [...(waits?.offline ?? [])], offlineClusterCount: waits?.offlineCount ?? 0 };
}
