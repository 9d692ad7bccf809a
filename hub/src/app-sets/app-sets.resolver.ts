import { Args, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { stringify } from 'yaml';
import { AppModel } from '../graphql/app.model';
import { PageArgs, checkPage } from '../graphql/page.args';
import { AppViewsService } from '../reports/app-views.service';
import { RolloutModel } from '../rollouts/rollout.model';
import { RolloutsService } from '../rollouts/rollouts.service';
import { JsonObjectScalar } from '../graphql/json-object.scalar';
import { AppSetModel, AppSetPreviewModel, AppSetRevisionModel, ApplyAppSetPayload, ClusterChangePreviewModel, type AppChangeModel, type ClusterPreviewModel } from './app-set.model';
import type { AppChange, AppSetPreview } from '../core/preview/preview-app-set';
import { AppExplainModel } from './app-explain.model';
import { AppSetsService } from './app-sets.service';
import { ClusterChangePreviews } from './cluster-change-preview';
import { Audit, Caller, type AuditNote } from '../auth/request-context';
import type { Principal } from '../core/auth/principal';
import { DEFAULT_PROJECT } from '../core/projects/project-rule';
import { parseAppSet } from '../core/app-set/parse-app-set';
import { SecretRedaction } from '../secrets/secret-redaction';
import { RevisionCommitModel } from '../git-sources/git-source.model';


/** AppSet names are unique per project; a caller that sees two AppSets of one name names the project. */
const PROJECT_ARG = 'The project of the AppSet, when the caller sees two AppSets of that name.';

@Resolver(() => AppSetModel)
export class AppSetsResolver {
  constructor(
    private readonly appSetService: AppSetsService,
    private readonly views: AppViewsService,
    private readonly rolloutService: RolloutsService,
    private readonly clusterChanges: ClusterChangePreviews,
    private readonly redaction: SecretRedaction,
  ) {}

  @Query(() => [AppSetModel])
  async appSets(@Caller() caller: Principal): Promise<AppSetModel[]> {
    return (await this.appSetService.list(caller)).map(AppSetModel.from);
  }

  // Nullable only so that a batch keeps its other fields: an unknown (or invisible) AppSet is a NOT_FOUND error.
  @Query(() => AppSetModel, { nullable: true, description: 'One AppSet by name; NOT_FOUND when no AppSet the caller may see has that name.' })
  async appSet(@Caller() caller: Principal, @Args('name') name: string, @Args('project', { type: () => String, nullable: true, description: PROJECT_ARG }) project: string | null): Promise<AppSetModel> {
    return AppSetModel.from(await this.appSetService.getVisible(caller, name, project));
  }

  @Mutation(() => ApplyAppSetPayload, {
    description: 'Creates or updates an AppSet from a YAML document and stages its Apps. Nothing reaches a cluster until a rollout.',
  })
  async applyAppSet(
    @Caller() caller: Principal,
    @Audit() audit: AuditNote,
    @Args('yaml') yaml: string,
    @Args('message', { nullable: true }) message?: string,
    @Args('force', { defaultValue: false, description: 'Apply even if the deletion breaker trips (the change removes more than 20% of the Apps).' }) force?: boolean,
  ): Promise<ApplyAppSetPayload> {
    const parsed = parseAppSet(yaml);
    if (parsed.ok) {
      audit.project = parsed.value.metadata.project ?? DEFAULT_PROJECT;
      audit.message = `applyAppSet name=${JSON.stringify(parsed.value.metadata.name)}${force ? ' force=true' : ''}`;
    }
    const outcome = await this.appSetService.apply(yaml, caller, message ?? '', force ?? false);
    if (outcome.appSet) audit.message = `${audit.message ?? 'applyAppSet'} revision=${outcome.appSet.currentRevision}${outcome.changed ? '' : ' (unchanged)'}`;
    return { appSet: outcome.appSet && AppSetModel.from(outcome.appSet), issues: [...outcome.issues], changed: outcome.changed };
  }

  @Mutation(() => ApplyAppSetPayload, {
    description:
      'Re-reads the inputs of an AppSet (clusters, and Git: a branch that moved brings new parameters) and re-stages its current revision. No new revision is stored; changed says whether any staged App changed.',
  })
  async refreshAppSet(
    @Caller() caller: Principal,
    @Audit() audit: AuditNote,
    @Args('name') name: string,
    @Args('project', { type: () => String, nullable: true, description: PROJECT_ARG }) project: string | null,
    @Args('force', { defaultValue: false, description: 'Re-stage even if the deletion breaker trips.' }) force?: boolean,
  ): Promise<ApplyAppSetPayload> {
    const target = await this.appSetService.getVisible(caller, name, project);
    audit.project = target.project;
    const outcome = await this.appSetService.refresh(target, caller, force ?? false);
    return { appSet: outcome.appSet && AppSetModel.from(outcome.appSet), issues: [...outcome.issues], changed: outcome.changed };
  }

  @Query(() => AppSetPreviewModel, { description: 'What applyAppSet(yaml) would stage, per cluster, with diffs. Writes nothing.' })
  async previewAppSet(@Caller() caller: Principal, @Args('yaml') yaml: string): Promise<AppSetPreviewModel> {
    const { preview, issues } = await this.appSetService.preview(yaml, caller, this.redaction.markerKey());
    return { clusters: toClusterPreviews(preview), totals: preview?.totals ?? null, issues: [...issues] };
  }

  @Query(() => ClusterChangePreviewModel, {
    description:
      'What relabeling a registered cluster (setClusterLabels), registering a new one (registerCluster) or deregistering one (deregisterCluster, with remove: true) would re-stage, per AppSet, with diffs and the issues that would refuse it. Writes nothing.',
  })
  async previewClusterChange(
    @Caller() caller: Principal,
    @Args('cluster', { description: 'A registered cluster (labels replace its labels) or a new name (registered with labels and values).' }) cluster: string,
    @Args('labels', { type: () => JsonObjectScalar, nullable: true }) labels?: Record<string, string>,
    @Args('values', { type: () => JsonObjectScalar, nullable: true, description: 'Only for a new cluster.' }) values?: Record<string, string>,
    @Args('remove', { defaultValue: false, description: 'Preview deregistering the (registered) cluster; takes no labels or values.' }) remove?: boolean,
  ): Promise<ClusterChangePreviewModel> {
    const appSets = await this.clusterChanges.preview(caller, { cluster, ...(labels ? { labels } : {}), ...(values ? { values } : {}), ...(remove ? { remove } : {}) });
    return { appSets: appSets.map((a) => ({ appSet: a.appSet, clusters: toClusterPreviews(a.preview), totals: a.preview?.totals ?? null, issues: [...a.issues] })) };
  }

  @ResolveField(() => [AppModel], { description: 'The Apps of this AppSet, by cluster.' })
  async apps(@Parent() appSet: AppSetModel, @Args() page: PageArgs): Promise<AppModel[]> {
    const { first, offset } = checkPage(page);
    return (await this.views.ofAppSet(appSet.id, first, offset)).map(AppModel.from);
  }

  @ResolveField(() => [AppSetRevisionModel], { description: 'Revisions, newest first; secret values in their documents redacted.' })
  async revisions(@Parent() appSet: AppSetModel, @Args() page: PageArgs): Promise<AppSetRevisionModel[]> {
    const { first, offset } = checkPage(page);
    return (await this.appSetService.revisions(appSet.id, first, offset)).map((r) => ({ ...r, commit: RevisionCommitModel.of(r), yaml: stringify(this.redaction.document(r.document)) }));
  }

  @Query(() => String, { description: 'Unified diff between two revisions of an AppSet document, as YAML; secret values redacted.' })
  async appSetRevisionDiff(
    @Caller() caller: Principal,
    @Args('project', { type: () => String, nullable: true, description: PROJECT_ARG }) project: string | null,
    @Args('appSet') name: string, @Args('from', { type: () => Int }) from: number, @Args('to', { type: () => Int }) to: number): Promise<string> {
    return this.appSetService.revisionDiff(await this.appSetService.getVisible(caller, name, project), from, to, (document) => this.redaction.document(document));
  }

  @ResolveField(() => [RolloutModel], { description: 'Rollouts of this AppSet, newest first.' })
  async rollouts(@Parent() appSet: AppSetModel, @Args('first', { type: () => Int, defaultValue: 20 }) first: number): Promise<RolloutModel[]> {
    return (await this.rolloutService.listForAppSet(appSet.id, Math.min(Math.max(first, 0), 100))).map((r) => RolloutModel.from(r, appSet));
  }
}

/** The per-cluster part of a preview, as GraphQL returns it (also for cluster change previews). */
export function toClusterPreviews(preview: AppSetPreview | null): ClusterPreviewModel[] {
  return (preview?.clusters ?? []).map((c) => ({
    cluster: c.clusterName,
    added: c.added.map(toChange),
    removed: c.removed.map(toChange),
    changed: c.changed.map(toChange),
  }));
}

function toChange(change: AppChange): AppChangeModel {
  return {
    app: change.appName,
    fromRevision: change.fromRevision,
    toRevision: change.toRevision,
    diff: change.diff,
    explain: change.explain ? AppExplainModel.from(change.explain) : null,
  };
}
