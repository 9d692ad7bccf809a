import { issue, type Issue } from '../issues';

/** Default largest share of an AppSet's Apps one change may remove without `force`. */
export const DEFAULT_MAX_REMOVAL_SHARE = 0.2;

/**
 * The deletion circuit breaker: an update that would remove more than `maxShare` of the Apps an AppSet
 * has now (or all of them) is refused unless forced, because a generator that silently shrinks (a
 * label typo, a cluster list that failed to load) must never prune a fleet. Returns the issue that
 * explains the refusal, or undefined when the change may go ahead.
 */
export function checkDeletionBreaker(current: number, removed: number, maxShare: number = DEFAULT_MAX_REMOVAL_SHARE): Issue | undefined {
  if (removed === 0 || current === 0) return undefined;
  const share = removed / current;
  if (share <= maxShare) return undefined;
  const pct = (n: number) => `${Math.round(n * 1000) / 10}%`;
  return issue(
    'DELETION_BREAKER',
    'spec.generators',
    `This change would remove ${removed} of ${current} Apps (${pct(share)}), more than the ${pct(maxShare)} allowed; nothing was staged. Check the generators, or apply again with force: true.`,
  );
}
