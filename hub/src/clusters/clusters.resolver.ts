import { ClusterBatch } from './cluster-batch';
import { Args, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { AppSetsService } from '../app-sets/app-sets.service';
import { Clock } from '../clock';
import { AppModel } from '../graphql/app.model';
import { JsonObjectScalar } from '../graphql/json-object.scalar';
import { PageArgs, checkPage } from '../graphql/page.args';
import { AppViewsService } from '../reports/app-views.service';
import { ClusterModel, DeregisterClusterPayload, RegisterClusterInput, RegisterClusterPayload } from './cluster.model';
import { ClusterDeregistrations } from './cluster-deregistrations';
import { ClusterFilter, ClusterPage, ClusterPageArgs } from './cluster-page.model';
import { ClustersService } from './clusters.service';
import { AgentInstaller } from './agent-installer.service';
import { Audit, Caller, type AuditNote } from '../auth/request-context';
import { requireAdmin } from '../auth/require';
import { readableProjects, type Principal } from '../core/auth/principal';
import { ClusterAccess } from './cluster-access';

@Resolver(() => ClusterModel)
export class ClustersResolver {
  constructor(
    private readonly clusterService: ClustersService,
    private readonly appSetService: AppSetsService,
    private readonly views: AppViewsService,
    private readonly clock: Clock,
    private readonly deregistrations: ClusterDeregistrations,
    private readonly access: ClusterAccess,
    private readonly installer: AgentInstaller,
  ) {}

  @Query(() => [ClusterModel], { description: 'Registered clusters, by name; with a filter, only those it matches (see clusterPage for counts and grouping).' })
  async clusters(
    @Caller() caller: Principal,
    @Args() page: PageArgs,
    @Args('filter', { type: () => ClusterFilter, nullable: true }) filter: ClusterFilter | null,
  ): Promise<ClusterModel[]> {
    const { first, offset } = checkPage(page);
    const now = this.clock.now();
    const found = filter ? (await this.access.search(caller, filter, null, first, offset, now)).clusters : await this.access.list(caller, first, offset);
    return inOneBatch(found.map((c) => ClusterModel.from(c, this.clusterService.isConnected(c, now))));
  }

  @Query(() => ClusterPage, {
    description:
      'One page of the clusters the caller may see that match the filter, ordered by the groupBy label\'s value (clusters without it last) then by name, with the total, connected and per-group counts of the whole match. Filtering, ordering and paging happen in the database: made for fleets of thousands of clusters.',
  })
  async clusterPage(@Caller() caller: Principal, @Args() args: ClusterPageArgs): Promise<ClusterPage> {
    const { first, offset } = checkPage({ first: args.first, offset: args.offset });
    const now = this.clock.now();
    const found = await this.access.search(caller, args.filter ?? {}, args.groupBy, first, offset, now);
    return {
      nodes: inOneBatch(found.clusters.map((c) => ClusterModel.from(c, this.clusterService.isConnected(c, now)))),
      totalCount: found.total,
      connectedCount: found.connected,
      groups: found.groups,
      hasNextPage: offset + found.clusters.length < found.total,
    };
  }

  // Nullable only so that a batch keeps its other fields: an unknown (or invisible) cluster is a NOT_FOUND error.
  @Query(() => ClusterModel, { nullable: true, description: 'One cluster by name; NOT_FOUND when no cluster the caller may see has that name.' })
  async cluster(@Caller() caller: Principal, @Args('name') name: string): Promise<ClusterModel> {
    const found = await this.access.get(caller, name);
    return ClusterModel.from(found, this.clusterService.isConnected(found, this.clock.now()));
  }

  @ResolveField(() => [AppModel], { description: 'Apps released or staged on this cluster.' })
  async apps(@Caller() caller: Principal, @Parent() cluster: ClusterModel, @Args() page: PageArgs): Promise<AppModel[]> {
    const { first, offset } = checkPage(page);
    // A cluster may be shared by several projects: only the Apps of the caller's projects are listed.
    const projects = readableProjects(caller);
    if (!cluster.batch) return (await this.views.ofCluster(cluster.id, projects, first, offset)).map(AppModel.from);
    const all = await cluster.batch.forAll(`apps:${first}:${offset}`, (ids) => this.views.ofClusters(ids, projects, first, offset));
    return (all.get(cluster.name) ?? []).map(AppModel.from);
  }

  @ResolveField(() => AppModel, { nullable: true, description: "The App of that name on this cluster; null when there is none in the caller's projects." })
  async app(@Caller() caller: Principal, @Parent() cluster: ClusterModel, @Args('name') name: string): Promise<AppModel | null> {
    const found = await this.views.oneOfCluster(cluster.id, readableProjects(caller), name.slice(0, 253));
    return found && AppModel.from(found);
  }

  @Mutation(() => RegisterClusterPayload, { description: 'Registers a cluster; returns a one-time bootstrap token for its agent.' })
  async registerCluster(@Caller() caller: Principal, @Args('input') input: RegisterClusterInput): Promise<RegisterClusterPayload> {
    requireAdmin(caller, 'register clusters');
    const now = this.clock.now();
    const { cluster, bootstrapToken, expiresAt, reinstall } = await this.clusterService.register(input, now);
    await this.appSetService.restageAll();
    return { cluster: ClusterModel.from(cluster, false), bootstrapToken, bootstrapTokenExpiresAt: expiresAt, reinstall, ...(await this.installer.forToken(cluster, bootstrapToken)) };
  }

  @Mutation(() => RegisterClusterPayload, {
    description:
      "Issues a fresh one-time bootstrap token (ADMIN only): for a cluster whose first token expired, or whose credentials were revoked, or for a re-install. A re-install (the cluster holds a live agent credential) leaves the current agent connected until an agent exchanges the new token; that enrollment revokes the old credential and cuts the old agent's stream on every replica.",
  })
  async issueBootstrapToken(@Caller() caller: Principal, @Audit() audit: AuditNote, @Args('cluster') name: string): Promise<RegisterClusterPayload> {
    requireAdmin(caller, 'issue bootstrap tokens');
    const now = this.clock.now();
    const { cluster, bootstrapToken, expiresAt, reinstall } = await this.clusterService.issueBootstrapToken(name, now);
    audit.message = reinstall
      ? `issueBootstrapToken cluster=${JSON.stringify(name)} re-install: the current agent credential stays valid until the new agent enrolls, then is revoked`
      : `issueBootstrapToken cluster=${JSON.stringify(name)}`;
    return {
      cluster: ClusterModel.from(cluster, this.clusterService.isConnected(cluster, now)),
      bootstrapToken,
      bootstrapTokenExpiresAt: expiresAt,
      reinstall,
      ...(await this.installer.forToken(cluster, bootstrapToken)),
    };
  }

  @Mutation(() => DeregisterClusterPayload, {
    description:
      'Removes a cluster (decommissioning): deletes it with its agent credential, Apps and statuses, re-stages AppSets and cuts its agent off. Refused while a PROGRESSING or PAUSED rollout targets it, and, unless force, when an AppSet\'s deletion breaker would trip. Workloads on the cluster are left running. Preview with previewClusterChange(remove: true).',
  })
  async deregisterCluster(
    @Caller() caller: Principal,
    @Args('name') name: string,
    @Args('force', { defaultValue: false, description: 'Deregister even if the deletion breaker of an AppSet trips.' }) force: boolean,
  ): Promise<DeregisterClusterPayload> {
    requireAdmin(caller, 'deregister clusters');
    const outcome = await this.deregistrations.deregister(name, force);
    return { ...outcome, issues: [...outcome.issues] };
  }

  @Mutation(() => ClusterModel, { description: 'Replaces the labels of a cluster; AppSets are re-staged over the new labels.' })
  async setClusterLabels(
    @Caller() caller: Principal,
    @Audit() audit: AuditNote,
    @Args('cluster') name: string,
    @Args('labels', { type: () => JsonObjectScalar }) labels: Record<string, string>,
  ): Promise<ClusterModel> {
    const current = await this.access.get(caller, name);
    await this.access.assertCanRelabel(caller, current, labels);
    audit.message = `setClusterLabels cluster=${JSON.stringify(name)} labels=${JSON.stringify(labels).slice(0, 500)}`;
    const cluster = await this.clusterService.setLabels(name, labels);
    await this.appSetService.restageAll();
    return ClusterModel.from(cluster, this.clusterService.isConnected(cluster, this.clock.now()));
  }
}

/** The clusters of one list answer, each knowing the others (see ClusterBatch). */
function inOneBatch(clusters: ClusterModel[]): ClusterModel[] {
  const batch = new ClusterBatch(clusters.map((c) => c.id));
  for (const cluster of clusters) cluster.batch = batch;
  return clusters;
}
