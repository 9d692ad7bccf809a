import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { IssueModel } from '../graphql/issue.model';
import type { RolloutEntity } from './rollout.entity';

export enum RolloutPhaseValue {
  PROGRESSING = 'PROGRESSING',
  PAUSED = 'PAUSED',
  ROLLED_BACK = 'ROLLED_BACK',
  SUCCEEDED = 'SUCCEEDED',
  NOTHING_TO_DO = 'NOTHING_TO_DO',
  FAILED = 'FAILED',
  ABORTED = 'ABORTED',
  SUPERSEDED = 'SUPERSEDED',
}
registerEnumType(RolloutPhaseValue, {
  name: 'RolloutPhase',
  description:
    'PROGRESSING and PAUSED are active; the others are final. SUCCEEDED: every wave is done (skippedClusters lists clusters left out while offline); NOTHING_TO_DO: every cluster already ran what was staged; FAILED: a failure budget was breached with onFailure: fail, or an automatic start could not plan its waves (reason says why); ROLLED_BACK, ABORTED, SUPERSEDED: by rollbackRollout or onFailure: rollback, abortRollout, a later rollout.',
});

export enum RolloutTriggerValue {
  MANUAL = 'MANUAL',
  AUTO = 'AUTO',
}
registerEnumType(RolloutTriggerValue, {
  name: 'RolloutTrigger',
  description: 'MANUAL: rollouts start by startRollout only. AUTO (spec.strategy.trigger: auto): every new staged revision starts one too.',
});

export enum TargetStateValue {
  PENDING = 'PENDING',
  PROGRESSING = 'PROGRESSING',
  HEALTHY = 'HEALTHY',
  FAILED = 'FAILED',
  SKIPPED = 'SKIPPED',
  SUPERSEDED = 'SUPERSEDED',
}
registerEnumType(TargetStateValue, {
  name: 'RolloutTargetState',
  description: 'PENDING: not released yet, or not acknowledged; PROGRESSING: applied, not yet healthy; HEALTHY; FAILED: refused or degraded; SKIPPED: its cluster was left out; SUPERSEDED: a later release replaced it.',
});

@ObjectType('Rollout', { description: 'Moving an AppSet to one of its revisions across its clusters.' })
export class RolloutModel {
  @Field(() => ID)
  id: string;

  @Field()
  appSet: string;

  @Field({ description: "The AppSet's project: an OPERATOR of it (or an ADMIN) may pause, resume, abort, roll back and approve." })
  project: string;

  @Field(() => Int, { description: 'The AppSet revision being rolled out.' })
  appSetRevision: number;

  @Field(() => RolloutPhaseValue)
  phase: RolloutPhaseValue;

  @Field()
  startedBy: string;

  @Field()
  startedAt: Date;

  @Field(() => Date, { nullable: true })
  finishedAt: Date | null;

  @Field(() => String, { nullable: true, description: 'The wave being worked on.' })
  currentWave: string | null;

  @Field({ description: 'Why the rollout is where it is (waiting, paused, failed).' })
  reason: string;

  @Field({ description: "Why it was started, as given to startRollout's reason (for an AUTO rollout: the revision and its commit); empty when none was given." })
  startReason: string;

  @Field(() => RolloutTriggerValue, { description: 'AUTO when the auto trigger started it for a newly staged revision (startedBy is then hub); MANUAL when startRollout did.' })
  trigger: RolloutTriggerValue;

  /** Internal: the plan, for the waves field. */
  entity: RolloutEntity;

  static from(entity: RolloutEntity, appSet: { readonly name: string; readonly project: string }): RolloutModel {
    return Object.assign(new RolloutModel(), {
      id: entity.id,
      appSet: appSet.name,
      project: appSet.project,
      appSetRevision: entity.appSetRevision,
      phase: entity.phase as RolloutPhaseValue,
      startedBy: entity.startedBy,
      startedAt: entity.startedAt,
      finishedAt: entity.finishedAt,
      currentWave: entity.currentWave,
      reason: entity.reason,
      startReason: entity.startReason,
      trigger: entity.triggeredRevision === null ? RolloutTriggerValue.MANUAL : RolloutTriggerValue.AUTO,
      entity,
    });
  }
}

@ObjectType('RolloutCounts', { description: "Counts of the rollout's (cluster, App) targets by state, computed in the database." })
export class RolloutCountsModel {
  @Field(() => Int) total: number;
  @Field(() => Int) pending: number;
  @Field(() => Int) progressing: number;
  @Field(() => Int) healthy: number;
  @Field(() => Int) failed: number;
  @Field(() => Int) skipped: number;
  @Field(() => Int) superseded: number;
}

@ObjectType('Wave', { description: 'An ordered group of clusters of a rollout.' })
export class WaveModel {
  @Field() name: string;
  @Field(() => [String]) clusters: string[];
  @Field(() => Int) maxConcurrency: number;
  @Field(() => Int) maxFailures: number;
  @Field(() => Int, { description: 'Milliseconds each cluster must stay healthy on the new revision.' }) soakMs: number;
  @Field(() => Int, { description: 'Milliseconds a cluster may take to become healthy.' }) progressDeadlineMs: number;
  @Field({ description: 'Whether the wave waits for approveWave.' }) approval: boolean;
  @Field({ description: 'Whether the wave was approved.' }) approved: boolean;
  @Field(() => RolloutCountsModel, { description: 'Counts of its (cluster, App) targets by state.' }) counts: RolloutCountsModel;
  @Field(() => Date, {
    nullable: true,
    description: 'When its soak ends: soakMs after its last target became healthy, once none is pending or progressing; null before that (and in a preview).',
  })
  soakEndsAt: Date | null;
  @Field(() => [String], { description: 'Its clusters with Apps still to release or settle whose agent is not connected, by name (at most 20; see offlineClusterCount).' })
  offlineClusters: string[];
  @Field(() => Int, { description: 'How many of its clusters with Apps still to release or settle are offline.' }) offlineClusterCount: number;
}

@ObjectType('RolloutPreview', { description: 'What a rollout would do now, without doing it.' })
export class RolloutPreviewModel {
  @Field(() => [WaveModel]) waves: WaveModel[];
  @Field(() => Int, { description: 'Apps that would be created.' }) added: number;
  @Field(() => Int, { description: 'Apps that would change.' }) changed: number;
  @Field(() => Int, { description: 'Apps that would be removed.' }) removed: number;
  @Field(() => [IssueModel]) issues: IssueModel[];
}

@ObjectType('RolloutTarget', { description: 'One App on one cluster that the rollout releases.' })
export class RolloutTargetModel {
  @Field() cluster: string;
  @Field() app: string;
  @Field() wave: string;
  @Field(() => String, { nullable: true, description: 'The released revision; null for a removal.' }) revision: string | null;
  @Field(() => String, { nullable: true }) generation: string | null;
  @Field(() => TargetStateValue) state: TargetStateValue;
  @Field(() => String, { nullable: true, description: 'Why the target is not healthy, when known.' }) reason: string | null;
}

@ObjectType('RolloutEvent', { description: 'An audited step of a rollout.' })
export class RolloutEventModel {
  @Field() at: Date;
  @Field() actor: string;
  @Field() kind: string;
  @Field() message: string;
}
