/**
 * Where one (cluster, app) of a rollout stands:
 * - PENDING: not released yet (its wave has not come), or released and not acknowledged yet;
 * - PROGRESSING: acknowledged, not yet judged healthy at the released revision;
 * - HEALTHY: the agent judged the released revision (at its generation or later) healthy, or a
 *   released removal is done;
 * - FAILED: the agent refused it, or judged the released revision degraded;
 * - SKIPPED: its cluster was left out (offline policy);
 * - SUPERSEDED: a later release replaced it on that cluster.
 */
export type TargetState = 'PENDING' | 'PROGRESSING' | 'HEALTHY' | 'FAILED' | 'SKIPPED' | 'SUPERSEDED';

export const TARGET_STATES: readonly TargetState[] = ['PENDING', 'PROGRESSING', 'HEALTHY', 'FAILED', 'SKIPPED', 'SUPERSEDED'];
