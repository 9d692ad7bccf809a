import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import type { RolloutEntity } from './rollout.entity';

export enum RolloutPhaseValue {
  PROGRESSING = 'PROGRESSING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  ABORTED = 'ABORTED',
  SUPERSEDED = 'SUPERSEDED',
}
registerEnumType(RolloutPhaseValue, { name: 'RolloutPhase' });

export enum TargetStateValue {
  PENDING = 'PENDING',
  PROGRESSING = 'PROGRESSING',
  HEALTHY = 'HEALTHY',
  FAILED = 'FAILED',
  SUPERSEDED = 'SUPERSEDED',
}
registerEnumType(TargetStateValue, {
  name: 'RolloutTargetState',
  description: 'PENDING: not acknowledged; PROGRESSING: applied, not yet healthy; HEALTHY; FAILED: refused or degraded; SUPERSEDED: a later release replaced it.',
});

@ObjectType('Rollout', { description: 'Moving an AppSet to one of its revisions across its clusters.' })
export class RolloutModel {
  @Field(() => ID)
  id: string;

  @Field()
  appSet: string;

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

  static from(entity: RolloutEntity, appSetName: string): RolloutModel {
    return Object.assign(new RolloutModel(), {
      id: entity.id,
      appSet: appSetName,
      appSetRevision: entity.appSetRevision,
      phase: entity.phase as RolloutPhaseValue,
      startedBy: entity.startedBy,
      startedAt: entity.startedAt,
      finishedAt: entity.finishedAt,
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
  @Field(() => Int) superseded: number;
}

@ObjectType('RolloutTarget', { description: 'One App on one cluster that the rollout releases.' })
export class RolloutTargetModel {
  @Field() cluster: string;
  @Field() app: string;
  @Field(() => String, { nullable: true, description: 'The released revision; null for a removal.' }) revision: string | null;
  @Field() generation: string;
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
