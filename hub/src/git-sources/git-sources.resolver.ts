import { Args, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { AppSetModel } from '../app-sets/app-set.model';
import { Audit, Caller, type AuditNote } from '../auth/request-context';
import type { Principal } from '../core/auth/principal';
import { AddGitSourceInput, GitSourceModel, GitSourcePayload, RemoveGitSourcePayload, UpdateGitSourceInput } from './git-source.model';
import type { GitSourceEntity } from './git-source.entity';
import { GitSourcesService } from './git-sources.service';

@Resolver(() => GitSourceModel)
export class GitSourcesResolver {
  constructor(private readonly sources: GitSourcesService) {}

  @Query(() => [GitSourceModel], { description: 'The Git sources of the projects the caller may see.' })
  async gitSources(@Caller() caller: Principal): Promise<GitSourceModel[]> {
    return this.models(await this.sources.list(caller));
  }

  @Query(() => GitSourceModel, { nullable: true, description: 'One Git source; NOT_FOUND when the caller sees none of that name.' })
  async gitSource(@Caller() caller: Principal, @Args('name') name: string): Promise<GitSourceModel> {
    return (await this.models([await this.sources.getVisible(caller, name)]))[0]!;
  }

  @Mutation(() => GitSourcePayload, { description: 'Adds a Git source: the hub reads the AppSet documents under its path at its revision, now and every interval, and applies them as one change.' })
  async addGitSource(@Caller() caller: Principal, @Audit() audit: AuditNote, @Args('input') input: AddGitSourceInput): Promise<GitSourcePayload> {
    audit.project = input.project;
    audit.message = `addGitSource name=${JSON.stringify(input.name)} revision=${JSON.stringify(input.revision)} path=${JSON.stringify(input.path)}`;
    const { source, issues } = await this.sources.add(caller, { ...input, requireSignedBy: input.requireSignedBy ?? [] });
    return { gitSource: source && (await this.models([source]))[0]!, issues };
  }

  @Mutation(() => GitSourcePayload, { description: 'Changes a Git source; fields left out keep their values. A new repository or revision is synced at once.' })
  async updateGitSource(@Caller() caller: Principal, @Audit() audit: AuditNote, @Args('input') input: UpdateGitSourceInput): Promise<GitSourcePayload> {
    audit.message = `updateGitSource name=${JSON.stringify(input.name)}`;
    const { source, issues } = await this.sources.update(caller, input);
    if (source) audit.project = source.project;
    return { gitSource: source && (await this.models([source]))[0]!, issues };
  }

  @Mutation(() => RemoveGitSourcePayload, {
    description: 'Removes a Git source. keepAppSets: true keeps its AppSets, managed through the API from then on; false stages the removal of all their Apps (a rollout removes them from the clusters).',
  })
  async removeGitSource(@Caller() caller: Principal, @Audit() audit: AuditNote, @Args('name') name: string, @Args('keepAppSets') keepAppSets: boolean): Promise<RemoveGitSourcePayload> {
    audit.message = `removeGitSource name=${JSON.stringify(name)} keepAppSets=${keepAppSets}`;
    const { kept, removed, removedApps } = await this.sources.remove(caller, name, keepAppSets);
    return { name, keptAppSets: kept, removedAppSets: removed, removedApps };
  }

  @Mutation(() => GitSourceModel, { description: "Syncs a Git source now and answers with its status after the sync (lastError and issues say why nothing was applied)." })
  async syncGitSource(
    @Caller() caller: Principal,
    @Audit() audit: AuditNote,
    @Args('name') name: string,
    @Args('acceptHistoryRewrite', { defaultValue: false, description: 'Apply a commit that does not descend from the last applied one (a force-push you accept).' }) acceptHistoryRewrite: boolean,
    @Args('force', { defaultValue: false, description: 'Apply even if the deletion breaker trips (AppSets removed from Git).' }) force: boolean,
  ): Promise<GitSourceModel> {
    audit.message = `syncGitSource name=${JSON.stringify(name)}${acceptHistoryRewrite ? ' acceptHistoryRewrite=true' : ''}${force ? ' force=true' : ''}`;
    const { outcome, source } = await this.sources.syncNow(caller, name, { acceptHistoryRewrite, force });
    audit.project = source.project;
    audit.message += ` outcome=${outcome.kind}`;
    return (await this.models([source]))[0]!;
  }

  private async models(sources: readonly GitSourceEntity[]): Promise<GitSourceModel[]> {
    const names = await this.sources.appSetNames(sources.map((s) => s.id));
    return sources.map((s) => GitSourceModel.from(s, names.get(s.id) ?? []));
  }
}

/** AppSet.source: the name of the Git source that manages it. */
@Resolver(() => AppSetModel)
export class AppSetSourceResolver {
  constructor(private readonly sources: GitSourcesService) {}

  @ResolveField(() => String, { nullable: true, description: 'The Git source that manages the AppSet (it is then read-only through the API); null when the API manages it.' })
  async source(@Parent() appSet: AppSetModel): Promise<string | null> {
    if (appSet.sourceId === null) return null;
    return (await this.sources.namesOf([appSet.sourceId])).get(appSet.sourceId) ?? null;
  }
}
