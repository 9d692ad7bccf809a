import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AppSetDocument } from '../core/app-set/app-set-spec';
import { EMPTY_GIT_SNAPSHOT, type GitNeed, type GitSnapshot } from '../core/generators/git-snapshot';
import type { ClusterSnapshot } from '../core/generators/param-set';
import { matchesSelector } from '../core/generators/label-selector';
import { issue, type Issue } from '../core/issues';
import type { AppSetPreview } from '../core/preview/preview-app-set';
import { DEFAULT_PROJECT, type ProjectRule } from '../core/projects/project-rule';
import { GitRepositories } from '../git/git-repositories';
import { ProjectsService } from '../projects/projects.service';
import { RenderPool } from '../render-pool/render-pool';
import type { PackedExpansion, RenderInput, StagedManifests } from '../render-pool/render-task';

/**
 * Most rounds of "expand, read what was missing from Git, expand again". Each round can only uncover
 * input that depends on input read in the previous one (a tree, then its files, then a glob or a path
 * that used their parameters), so real AppSets settle in two or three.
 */
const MAX_ROUNDS = 8;

/** An expansion and the Git snapshot it was made from (reuse it to expand again over the same commits). */
export interface ResolvedExpansion {
  readonly expansion: PackedExpansion;
  readonly git: GitSnapshot;
}

/** What a preview found: the per-cluster changes, or the issues that refuse the document. */
export interface ResolvedPreview {
  readonly preview: AppSetPreview | null;
  readonly issues: readonly Issue[];
}

/**
 * Resolve-then-evaluate for AppSets: gathers the inputs on the event loop (the project, the clusters it
 * owns, Git reads), runs the pure expansion in the render pool's worker threads, reads from Git
 * whatever it reports missing, and runs it again over the larger snapshot until nothing is missing. A
 * Git failure is part of the snapshot, so the expansion reports it as an issue and nothing is staged;
 * so is a render stopped at its time or memory limit.
 */
@Injectable()
export class AppSetExpander {
  constructor(
    private readonly git: GitRepositories,
    private readonly projects: ProjectsService,
    private readonly renders: RenderPool,
  ) {}

  /**
   * Expands `document` over those of `clusters` that its project owns, and checks every rendered object
   * against the project's allow-list (which then travels with each App to the agent). Pass the
   * snapshot of an earlier call as `git` to expand over the same commits (no fetch unless something
   * new is needed); without it every branch is fetched. Pass `tx` when called inside a transaction.
   */
  async expand(document: AppSetDocument, clusters: readonly ClusterSnapshot[], git: GitSnapshot = EMPTY_GIT_SNAPSHOT, tx?: EntityManager): Promise<ResolvedExpansion> {
    const refused = (issues: Issue[]): PackedExpansion => ({ apps: [], issues, needs: [] });
    const { result, git: snapshot } = await this.resolve(document, clusters, git, tx, (input) => this.renders.expand(input), refused);
    return { expansion: result, git: snapshot };
  }

  /**
   * What re-staging `document` over `clusters` would change against `staged` (fresh Git reads): the
   * expansion and the diffs, both in a render worker. `markerKey` keys the marker that shows secret
   * values in the diffs (see core/secrets).
   */
  async preview(document: AppSetDocument, clusters: readonly ClusterSnapshot[], staged: readonly StagedManifests[], markerKey: Uint8Array): Promise<ResolvedPreview & { readonly stagedCount: number }> {
    const refused = (issues: Issue[]) => ({ preview: null, issues, needs: [], stagedCount: staged.length });
    const { result } = await this.resolve(document, clusters, EMPTY_GIT_SNAPSHOT, undefined, (input) => this.renders.preview({ ...input, staged, markerKey }), refused);
    return result;
  }

  /** The rule of the document's project as the expansion reads it (null when the project does not exist). */
  projectRule(document: AppSetDocument, tx?: EntityManager): Promise<ProjectRule | null> {
    return this.projects.rule(document.metadata.project ?? DEFAULT_PROJECT, tx);
  }

  private async resolve<T extends { readonly issues: readonly Issue[]; readonly needs: readonly GitNeed[] }>(
    document: AppSetDocument,
    clusters: readonly ClusterSnapshot[],
    git: GitSnapshot,
    tx: EntityManager | undefined,
    render: (input: RenderInput) => Promise<T>,
    refused: (issues: Issue[]) => T,
  ): Promise<{ result: T; git: GitSnapshot }> {
    const projectName = document.metadata.project ?? DEFAULT_PROJECT;
    // Inside the caller's transaction when there is one: it may hold the pool's only connection.
    const project = await this.projects.rule(projectName, tx);
    if (!project) {
      const missing = issue('PROJECT_NOT_FOUND', 'metadata.project', `Project "${projectName}" does not exist; an admin creates it with createProject.`);
      return { result: refused([missing]), git };
    }
    const owned = clusters.filter((cluster) => matchesSelector(cluster.labels, project.clusterSelector));
    let snapshot = git;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const result = await render({ document, clusters: owned, git: snapshot, project });
      if (result.needs.length === 0) return { result, git: snapshot };
      snapshot = await this.git.read(snapshot, result.needs);
    }
    const unresolved = issue('GIT_INPUT_UNRESOLVED', 'spec', `The Git inputs of this AppSet did not settle after ${MAX_ROUNDS} reads; simplify how its Git paths depend on each other.`);
    return { result: refused([unresolved]), git: snapshot };
  }
}
