import { Injectable } from '@nestjs/common';
import { ClustersService } from '../clusters/clusters.service';
import type { Issue } from '../core/issues';
import type { AppSetPreview } from '../core/preview/preview-app-set';
import { AppSetsService } from './app-sets.service';

/** A cluster change not made yet: new labels for a registered cluster, or a new cluster. */
export interface ClusterChange {
  readonly cluster: string;
  readonly labels?: Record<string, string>;
  readonly values?: Record<string, string>;
}

/** What a cluster change would do to one AppSet. */
export interface AppSetChangePreview {
  readonly appSet: string;
  readonly preview: AppSetPreview | null;
  readonly issues: readonly Issue[];
}

/**
 * Previews a cluster relabel (or registration) before it takes effect: every AppSet is expanded at
 * its current revision over the changed cluster snapshot and compared with what is staged, exactly
 * what the mutation's re-staging would do, without writing. AppSets with nothing to change are left out.
 */
@Injectable()
export class ClusterChangePreviews {
  constructor(
    private readonly appSets: AppSetsService,
    private readonly clusters: ClustersService,
  ) {}

  async preview(change: ClusterChange): Promise<AppSetChangePreview[]> {
    const next = await this.clusters.snapshotWith(change);
    const out: AppSetChangePreview[] = [];
    for (const appSet of await this.appSets.list()) {
      const revision = await this.appSets.revision(appSet.id, appSet.currentRevision);
      if (!revision) continue;
      const { preview, issues } = await this.appSets.previewOver(revision.document, next);
      if (issues.length > 0 || (preview !== null && preview.clusters.length > 0)) out.push({ appSet: appSet.name, preview, issues });
    }
    return out;
  }
}
