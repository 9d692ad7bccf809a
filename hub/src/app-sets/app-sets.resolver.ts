import { Args, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { stringify } from 'yaml';
import { AppModel } from '../graphql/app.model';
import { PageArgs, checkPage } from '../graphql/page.args';
import { AppViewsService } from '../reports/app-views.service';
import { RolloutModel } from '../rollouts/rollout.model';
import { RolloutsService } from '../rollouts/rollouts.service';
import { AppSetModel, AppSetPreviewModel, AppSetRevisionModel, ApplyAppSetPayload, type AppChangeModel } from './app-set.model';
import type { AppChange } from '../core/preview/preview-app-set';
import { AppSetsService } from './app-sets.service';

const ANONYMOUS = 'anonymous';

@Resolver(() => AppSetModel)
export class AppSetsResolver {
  constructor(
    private readonly appSetService: AppSetsService,
    private readonly views: AppViewsService,
    private readonly rolloutService: RolloutsService,
  ) {}

  @Query(() => [AppSetModel])
  async appSets(): Promise<AppSetModel[]> {
    return (await this.appSetService.list()).map(AppSetModel.from);
  }

  @Query(() => AppSetModel, { nullable: true })
  async appSet(@Args('name') name: string): Promise<AppSetModel | null> {
    const found = await this.appSetService.find(name);
    return found && AppSetModel.from(found);
  }

  @Mutation(() => ApplyAppSetPayload, {
    description: 'Creates or updates an AppSet from a YAML document and stages its Apps. Nothing reaches a cluster until a rollout.',
  })
  async applyAppSet(
    @Args('yaml') yaml: string,
    @Args('message', { nullable: true }) message?: string,
    @Args('force', { defaultValue: false, description: 'Apply even if the deletion breaker trips (the change removes more than 20% of the Apps).' }) force?: boolean,
  ): Promise<ApplyAppSetPayload> {
    const outcome = await this.appSetService.apply(yaml, ANONYMOUS, message ?? '', force ?? false);
    return { appSet: outcome.appSet && AppSetModel.from(outcome.appSet), issues: [...outcome.issues], changed: outcome.changed };
  }

  @Query(() => AppSetPreviewModel, { description: 'What applyAppSet(yaml) would stage, per cluster, with diffs. Writes nothing.' })
  async previewAppSet(@Args('yaml') yaml: string): Promise<AppSetPreviewModel> {
    const { preview, issues } = await this.appSetService.preview(yaml);
    return {
      clusters: (preview?.clusters ?? []).map((c) => ({
        cluster: c.clusterName,
        added: c.added.map(toChange),
        removed: c.removed.map(toChange),
        changed: c.changed.map(toChange),
      })),
      totals: preview?.totals ?? null,
      issues: [...issues],
    };
  }

  @ResolveField(() => [AppModel], { description: 'The Apps of this AppSet, by cluster.' })
  async apps(@Parent() appSet: AppSetModel, @Args() page: PageArgs): Promise<AppModel[]> {
    const { first, offset } = checkPage(page);
    return (await this.views.ofAppSet(appSet.id, first, offset)).map(AppModel.from);
  }

  @ResolveField(() => [AppSetRevisionModel], { description: 'Revisions, newest first.' })
  async revisions(@Parent() appSet: AppSetModel, @Args() page: PageArgs): Promise<AppSetRevisionModel[]> {
    const { first, offset } = checkPage(page);
    return (await this.appSetService.revisions(appSet.id, first, offset)).map((r) => ({ ...r, yaml: stringify(r.document) }));
  }

  @Query(() => String, { description: 'Unified diff between two revisions of an AppSet document, as YAML.' })
  async appSetRevisionDiff(@Args('appSet') name: string, @Args('from', { type: () => Int }) from: number, @Args('to', { type: () => Int }) to: number): Promise<string> {
    return this.appSetService.revisionDiff(name, from, to);
  }

  @ResolveField(() => [RolloutModel], { description: 'Rollouts of this AppSet, newest first.' })
  async rollouts(@Parent() appSet: AppSetModel, @Args('first', { type: () => Int, defaultValue: 20 }) first: number): Promise<RolloutModel[]> {
    return (await this.rolloutService.listForAppSet(appSet.id, Math.min(Math.max(first, 0), 100))).map((r) => RolloutModel.from(r, appSet.name));
  }
}

function toChange(change: AppChange): AppChangeModel {
  return { app: change.appName, fromRevision: change.fromRevision, toRevision: change.toRevision, diff: change.diff };
}
