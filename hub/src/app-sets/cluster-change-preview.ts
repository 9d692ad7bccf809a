import { Injectable } from '@nestjs/common';
import { ClustersService, type ClusterSnapshotChange } from '../clusters/clusters.service';
import { requireAdmin } from '../auth/require';
import { ClusterAccess } from '../clusters/cluster-access';
import type { Principal } from '../core/auth/principal';
import { issue, type Issue } from '../core/issues';
import type { AppSetPreview } from '../core/preview/preview-app-set';
import { SecretRedaction } from '../secrets/secret-redaction';
import { AppSetsService } from './app-sets.service';
import type { AppSetEntity } from './app-set.entity';

/** A cluster change not made yet: new labels for a registered cluster, a new cluster, or a removal. */
export type ClusterChange = ClusterSnapshotChange;

/** What a cluster change would do to one AppSet. */
export interface AppSetChangePreview {
  readonly appSet: string;
  readonly project: string;
  readonly preview: AppSetPreview | null;
  readonly issues: readonly Issue[];
}

/**
 * Previews a cluster relabel, registration or deregistration before it takes effect: every AppSet is
 * expanded at its current revision over the changed cluster snapshot and compared with what is staged,
 * exactly what the mutation's re-staging would do, without writing. AppSets with nothing to change are
 * left out.
 */
@Injectable()
export class ClusterChangePreviews {
  constructor(
    private readonly appSets: AppSetsService,
    private readonly clusters: ClustersService,
    private readonly access: ClusterAccess,
    private readonly redaction: SecretRedaction,
  ) {}

  /**
   * The preview as the principal may see it: registering or removing a cluster is an admin's
   * business; a relabel needs a cluster the principal can see; only AppSets it can read are listed.
   */
  async preview(principal: Principal, change: ClusterChange): Promise<AppSetChangePreview[]> {
    if (change.remove) requireAdmin(principal, 'deregister clusters');
    // A non-admin previews relabels of clusters it can see; a new name looks like an invisible one (NOT_FOUND).
    else if (!principal.admin) await this.access.get(principal, change.cluster);
    return this.previewOf(change, await this.appSets.list(principal));
  }

  private async previewOf(change: ClusterChange, appSets: readonly AppSetEntity[]): Promise<AppSetChangePreview[]> {
    const next = await this.clusters.snapshotWith(change);
    const out: AppSetChangePreview[] = [];
    for (const appSet of appSets) {
      const revision = await this.appSets.revision(appSet.id, appSet.currentRevision);
      if (!revision) continue;
      const { preview, issues } = await this.appSets.previewOver(revision.document, next, this.redaction.markerKey());
      if (issues.length > 0 || (preview !== null && preview.clusters.length > 0)) out.push({ appSet: appSet.name, project: appSet.project, preview, issues });
    }
    return out;
  }

  /**
   * The deletion breakers that deregistering `cluster` would trip, one issue per AppSet (path
   * `appSets.<name>`), sorted by AppSet name. Other issues of an AppSet (a Git read failing) do not
   * block a deregistration: the cluster's Apps go with it, and the re-staging records the issue as the
   * AppSet's condition, as after a relabel.
   */
  async removalBreakers(cluster: string): Promise<Issue[]> {
    const previews = await this.previewOf({ cluster, remove: true }, await this.appSets.listAll());
    return previews.flatMap((p) => {
      if (!p.issues.some((i) => i.code === 'DELETION_BREAKER')) return [];
      const totals = p.preview?.totals;
      const removed = totals?.removed ?? 0;
      const staged = removed + (totals?.changed ?? 0) + (totals?.unchanged ?? 0);
      return [
        issue(
          'DELETION_BREAKER',
          `appSets.${p.appSet}`,
          `Deregistering cluster ${cluster} would remove ${removed} of the ${staged} Apps of AppSet "${p.appSet}", more than its deletion breaker allows; nothing was changed. Deregister with force: true to go ahead.`,
        ),
      ];
    });
  }
}
