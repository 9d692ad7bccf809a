import { Injectable } from '@nestjs/common';
import { canRelabelCluster, canSeeCluster } from '../core/auth/cluster-access';
import type { Principal } from '../core/auth/principal';
import { FlotillaError } from '../errors';
import { ProjectsService } from '../projects/projects.service';
import type { ClusterEntity } from './cluster.entity';
import { ClustersService } from './clusters.service';

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
