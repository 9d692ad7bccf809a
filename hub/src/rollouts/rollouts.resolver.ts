import { Args, ID, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { AppSetsService } from '../app-sets/app-sets.service';
import { Clock } from '../clock';
import { PageArgs, checkPage } from '../graphql/page.args';
import { RolloutCountsModel, RolloutEventModel, RolloutModel, RolloutTargetModel, TargetStateValue } from './rollout.model';
import { RolloutsService } from './rollouts.service';

const ANONYMOUS = 'anonymous';

@Resolver(() => RolloutModel)
export class RolloutsResolver {
  constructor(
    private readonly rollouts: RolloutsService,
    private readonly appSets: AppSetsService,
    private readonly clock: Clock,
  ) {}

  @Mutation(() => RolloutModel, { description: "Releases the AppSet's staged revision to its clusters." })
  async startRollout(@Args('appSet') appSet: string): Promise<RolloutModel> {
    return RolloutModel.from(await this.rollouts.start(appSet, ANONYMOUS, this.clock.now()), appSet);
  }

  @Query(() => RolloutModel, { nullable: true })
  async rollout(@Args('id', { type: () => ID }) id: string): Promise<RolloutModel | null> {
    const found = await this.rollouts.find(id);
    return found && RolloutModel.from(found, (await this.appSets.byId(found.appSetId)).name);
  }

  @ResolveField(() => RolloutCountsModel)
  async counts(@Parent() rollout: RolloutModel): Promise<RolloutCountsModel> {
    const c = await this.rollouts.counts(rollout.id);
    return { total: c.total, pending: c.PENDING, progressing: c.PROGRESSING, healthy: c.HEALTHY, failed: c.FAILED, superseded: c.SUPERSEDED };
  }

  @ResolveField(() => [RolloutTargetModel], { description: 'Targets by cluster then App.' })
  async targets(@Parent() rollout: RolloutModel, @Args() page: PageArgs): Promise<RolloutTargetModel[]> {
    const { first, offset } = checkPage(page);
    return (await this.rollouts.targets(rollout.id, first, offset)).map((t) => ({
      cluster: t.clusterName,
      app: t.appName,
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
}
