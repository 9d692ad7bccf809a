import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AppSetDocument } from '../core/app-set/app-set-spec';
import { DEFAULT_EXPANSION_LIMITS, expandAppSet, type Expansion } from '../core/expand-app-set';
import { EMPTY_GIT_SNAPSHOT, type GitSnapshot } from '../core/generators/git-snapshot';
import type { ClusterSnapshot } from '../core/generators/param-set';
import { matchesSelector } from '../core/generators/label-selector';
import { issue } from '../core/issues';
import { checkProjectScope } from '../core/projects/check-project-scope';
import { DEFAULT_PROJECT, projectScope, type ProjectRule } from '../core/projects/project-rule';
import { GitRepositories } from '../git/git-repositories';
import { ProjectsService } from '../projects/projects.service';

/**
 * Most rounds of "expand, read what was missing from Git, expand again". Each round can only uncover
 * input that depends on input read in the previous one (a tree, then its files, then a glob or a path
 * that used their parameters), so real AppSets settle in two or three.
 */
const MAX_ROUNDS = 8;

/** An expansion and the Git snapshot it was made from (reuse it to expand again over the same commits). */
export interface ResolvedExpansion {
  readonly expansion: Expansion;
  readonly git: GitSnapshot;
}

/**
 * Resolve-then-evaluate for AppSets: runs the pure expansion, reads from Git whatever it reports
 * missing, and runs it again over the larger snapshot until nothing is missing. A Git failure is part
 * of the snapshot, so the expansion reports it as an issue and nothing is staged.
 */
@Injectable()
export class AppSetExpander {
  constructor(
    private readonly git: GitRepositories,
    private readonly projects: ProjectsService,
  ) {}

  /**
   * Expands `document` over those of `clusters` that its project owns, and checks every rendered object
   * against the project's allow-list (which then travels with each App to the agent). Pass the
   * snapshot of an earlier call as `git` to expand over the same commits (no fetch unless something
   * new is needed); without it every branch is fetched. Pass `tx` when called inside a transaction.
   */
  async expand(document: AppSetDocument, clusters: readonly ClusterSnapshot[], git: GitSnapshot = EMPTY_GIT_SNAPSHOT, tx?: EntityManager): Promise<ResolvedExpansion> {
    const projectName = document.metadata.project ?? DEFAULT_PROJECT;
    // Inside the caller's transaction when there is one: it may hold the pool's only connection.
    const project = await this.projects.rule(projectName, tx);
    if (!project) {
      const missing = issue('PROJECT_NOT_FOUND', 'metadata.project', `Project "${projectName}" does not exist; an admin creates it with createProject.`);
      return { expansion: { apps: [], issues: [missing], needs: [] }, git };
    }
    const owned = clusters.filter((cluster) => matchesSelector(cluster.labels, project.clusterSelector));
    let snapshot = git;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const expansion = expandAppSet(document, owned, DEFAULT_EXPANSION_LIMITS, { git: snapshot, clock: () => performance.now() });
      if (expansion.needs.length === 0) return { expansion: withinProject(expansion, project), git: snapshot };
      snapshot = await this.git.read(snapshot, expansion.needs);
    }
    const unresolved = issue('GIT_INPUT_UNRESOLVED', 'spec', `The Git inputs of this AppSet did not settle after ${MAX_ROUNDS} reads; simplify how its Git paths depend on each other.`);
    return { expansion: { apps: [], issues: [unresolved], needs: [] }, git: snapshot };
  }
}

/** The expansion with the project's allow-list on every App, or its violations as issues and no Apps. */
function withinProject(expansion: Expansion, project: ProjectRule): Expansion {
  if (expansion.issues.length > 0) return expansion;
  const issues = checkProjectScope(expansion.apps, project);
  if (issues.length > 0) return { apps: [], issues, needs: [] };
  const scope = projectScope(project);
  return { ...expansion, apps: expansion.apps.map((app) => ({ ...app, syncPolicy: { ...app.syncPolicy, projectScope: scope } })) };
}
