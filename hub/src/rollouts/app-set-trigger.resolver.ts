import { Int, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { AppSetModel, ApplyAppSetPayload } from '../app-sets/app-set.model';
import { IssueModel } from '../graphql/issue.model';
import { RolloutTriggerValue } from './rollout.model';
import { AppSetRolloutStatus } from './app-set-rollout-status.service';

/** The rollout side of an AppSet: its trigger, and the revision the trigger holds back. */
@Resolver(() => AppSetModel)
export class AppSetTriggerResolver {
  constructor(private readonly status: AppSetRolloutStatus) {}

  @ResolveField(() => RolloutTriggerValue, { description: "spec.strategy.trigger of the current revision: AUTO starts a rollout for every new staged revision; MANUAL (the default) leaves it to startRollout." })
  async trigger(@Parent() appSet: AppSetModel): Promise<RolloutTriggerValue> {
    return (await this.status.trigger(current(appSet))) === 'auto' ? RolloutTriggerValue.AUTO : RolloutTriggerValue.MANUAL;
  }

  @ResolveField(() => Int, {
    nullable: true,
    description: 'The current revision when its latest rollout was rolled back, aborted or failed: it stays staged, and the auto trigger does not release it again until a new revision arrives or startRollout releases it by hand. Null otherwise.',
  })
  async heldBackRevision(@Parent() appSet: AppSetModel): Promise<number | null> {
    return (await this.status.heldBack(current(appSet)))?.revision ?? null;
  }

  @ResolveField(() => String, { nullable: true, description: 'Why heldBackRevision is held back (which rollout, how it ended, why) and what releases it. Null when nothing is held back.' })
  async heldBackReason(@Parent() appSet: AppSetModel): Promise<string | null> {
    return (await this.status.heldBack(current(appSet)))?.reason ?? null;
  }
}

/** Warnings beside an accepted change: they refuse nothing. */
@Resolver(() => ApplyAppSetPayload)
export class ApplyWarningsResolver {
  constructor(private readonly status: AppSetRolloutStatus) {}

  @ResolveField(() => [IssueModel], {
    description: 'Problems that refuse nothing but deserve a look, e.g. NO_TARGET_CLUSTERS (the AppSet stages no App, so a rollout has nothing to release). Empty when issues is not.',
  })
  async warnings(@Parent() payload: ApplyAppSetPayload): Promise<IssueModel[]> {
    return payload.appSet && payload.issues.length === 0 ? this.status.stagingWarnings(payload.appSet.id) : [];
  }
}

/** The AppSet of a model at the revision the model shows. */
function current(appSet: AppSetModel): { id: string; currentRevision: number } {
  return { id: appSet.id, currentRevision: appSet.revision };
}
