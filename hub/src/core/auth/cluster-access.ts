import type { LabelSelector } from '../app-set/app-set-spec';
import { matchesSelector } from '../generators/label-selector';
import { canOperate, canRead, type Principal } from './principal';

/**
 * Which clusters a principal may see and relabel. A project owns the clusters its selector matches;
 * a cluster may belong to several projects (the `default` project matches every cluster unless an
 * admin restricts it).
 */

/** What cluster access needs of a project. */
export interface ProjectSelector {
  readonly name: string;
  readonly clusterSelector: LabelSelector;
}

/** The projects that own a cluster with these labels, by name. */
export function projectsOfCluster(labels: Readonly<Record<string, string>>, projects: readonly ProjectSelector[]): string[] {
  return projects.filter((project) => matchesSelector(labels, project.clusterSelector)).map((project) => project.name).sort();
}

/** True when the principal may see a cluster with these labels: an admin, or a reader of a project that owns it. */
export function canSeeCluster(principal: Principal, labels: Readonly<Record<string, string>>, projects: readonly ProjectSelector[]): boolean {
  return principal.admin || projectsOfCluster(labels, projects).some((project) => canRead(principal, project));
}

/**
 * True when the principal may replace a cluster's labels `before` with `after`. Relabeling re-stages
 * the AppSets of every project that owns the cluster before or after, so a non-admin must operate
 * every one of them (and at least one): an operator cannot move another tenant's Apps, nor take a
 * cluster out of a project it does not run.
 */
export function canRelabelCluster(principal: Principal, before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>, projects: readonly ProjectSelector[]): boolean {
  if (principal.admin) return true;
  const owners = new Set([...projectsOfCluster(before, projects), ...projectsOfCluster(after, projects)]);
  return owners.size > 0 && [...owners].every((project) => canOperate(principal, project));
}
