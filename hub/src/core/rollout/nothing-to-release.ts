import { issue, type Issue } from '../issues';

/**
 * The warning `applyAppSet` (and `refreshAppSet`) return beside an accepted change when the AppSet
 * stages no App on any cluster: its generators select no cluster (or yield no element), so a rollout
 * would release nothing. Not an error: an AppSet may be written before its clusters exist. Undefined
 * when at least one App is staged.
 */
export function noAppsWarning(stagedApps: number, registeredClusters: number): Issue | undefined {
  if (stagedApps > 0) return undefined;
  return issue(
    'NO_TARGET_CLUSTERS',
    'spec.generators',
    `The AppSet stages no App: its generators select none of the ${registeredClusters} registered cluster(s), so a rollout has nothing to release.`,
  );
}

/**
 * Why a rollout finished `NOTHING_TO_DO`: the AppSet has no App at all, or every cluster already runs
 * what is staged.
 */
export function nothingToReleaseReason(revision: number, appsOfAppSet: number): string {
  return appsOfAppSet === 0
    ? `Nothing to release: revision ${revision} stages no App on any cluster (its generators select no cluster).`
    : `Nothing to release: every cluster already runs what revision ${revision} stages.`;
}
