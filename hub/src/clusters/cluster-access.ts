import { Injectable } from '@nestjs/common';
import { parseLabelSelector } from '../core/app-set/parse-app-set';
import { canRelabelCluster, canSeeCluster } from '../core/auth/cluster-access';
import { canRead, readableProjects, type Principal } from '../core/auth/principal';
import { FlotillaError } from '../errors';
import { ProjectsService } from '../projects/projects.service';
import type { ClusterEntity } from './cluster.entity';
import type { ClusterFilter } from './cluster-page.model';
import type { ClusterQuery } from './cluster-query';
import { ClustersService, type ClusterSearchResult } from './clusters.service';

const MAX_SEARCH_CHARS = 200;
const MAX_GROUP_BY_CHARS = 317;

/**
 * Which clusters a principal may see and relabel: those its projects' selectors match (an admin: all).
 * A cluster the principal may not see answers exactly like a missing one.
 */
@Injectable()
export class ClusterAccess {
  constructor(
    private readonly clusters: ClustersService,
    private readonly projects: ProjectsService,
  ) {}

  /** One page of the clusters the principal may see, by name. */
  async list(principal: Principal, first: number, offset: number): Promise<ClusterEntity[]> {
    if (principal.admin) return this.clusters.list(first, offset);
    const rules = await this.projects.rules();
    const visible = (await this.clusters.listAll()).filter((c) => canSeeCluster(principal, c.labels, rules));
    return visible.slice(offset, offset + first);
  }

  /**
   * One page of the clusters the principal may see that match `filter`, ordered by the `groupBy` label's
   * value then by name, with the counts of the whole match. INVALID_ARGUMENT for a bad selector, search
   * or groupBy; NOT_FOUND for a project the principal may not see.
   */
  async search(principal: Principal, filter: ClusterFilter, groupBy: string | null | undefined, first: number, offset: number, now: Date): Promise<ClusterSearchResult> {
    return this.clusters.search(await this.query(principal, filter, groupBy, now), first, offset);
  }

  private async query(principal: Principal, filter: ClusterFilter, groupBy: string | null | undefined, now: Date): Promise<ClusterQuery> {
    const rules = principal.admin ? [] : await this.projects.rules();
    let labels;
    if (filter.labels !== undefined && filter.labels !== null) {
      const parsed = parseLabelSelector(filter.labels, 'filter.labels');
      if (!parsed.ok) throw new FlotillaError('INVALID_ARGUMENT', `filter.labels is not a label selector: ${parsed.issues.map((i) => i.message).join('; ')}`);
      labels = parsed.value;
    }
    const search = filter.search ?? '';
    if (search.length > MAX_SEARCH_CHARS) throw new FlotillaError('INVALID_ARGUMENT', `filter.search is ${search.length} characters; at most ${MAX_SEARCH_CHARS}.`);
    const key = groupBy?.trim() ?? '';
    if (key.length > MAX_GROUP_BY_CHARS) throw new FlotillaError('INVALID_ARGUMENT', `groupBy is ${key.length} characters; a label key has at most ${MAX_GROUP_BY_CHARS}.`);
    const project = filter.project === undefined || filter.project === null ? undefined : (await this.projects.get(principal, filter.project)).clusterSelector;
    return {
      visibleBy: principal.admin ? 'all' : rules.filter((rule) => canRead(principal, rule.name)).map((rule) => rule.clusterSelector),
      ...(project ? { project } : {}),
      ...(labels ? { labels } : {}),
      words: search.toLowerCase().split(/\s+/).filter(Boolean),
      ...(filter.connected === undefined || filter.connected === null ? {} : { connected: filter.connected }),
      ...(filter.apps ? { apps: filter.apps } : {}),
      appProjects: readableProjects(principal),
      connectedAfter: this.clusters.connectedAfter(now),
      ...(key ? { groupBy: key } : {}),
    };
  }

  /** The cluster when the principal may see it; null otherwise. */
  async find(principal: Principal, name: string): Promise<ClusterEntity | null> {
    const found = await this.clusters.find(name);
    if (!found || principal.admin) return found;
    return canSeeCluster(principal, found.labels, await this.projects.rules()) ? found : null;
  }

  /** Like {@link find}, with the NOT_FOUND of a missing cluster. */
  async get(principal: Principal, name: string): Promise<ClusterEntity> {
    const found = await this.find(principal, name);
    if (!found) throw new FlotillaError('NOT_FOUND', `Cluster "${name}" is not registered.`);
    return found;
  }

  /** Throws unless the principal may replace the labels of a cluster it can see (see canRelabelCluster). */
  async assertCanRelabel(principal: Principal, cluster: ClusterEntity, labels: Readonly<Record<string, string>>): Promise<void> {
    if (principal.admin) return;
    if (!canRelabelCluster(principal, cluster.labels, labels, await this.projects.rules())) {
      throw new FlotillaError(
        'PERMISSION_DENIED',
        `${principal.actor} may not relabel cluster ${cluster.name}: every project that owns it, before and after the change, must be one where it is OPERATOR.`,
      );
    }
  }
}
