/**
 * Where one (cluster, app) of a rollout stands:
 * - PENDING: released, the agent has not acknowledged it yet;
 * - PROGRESSING: acknowledged, not yet judged healthy at the released revision;
 * - HEALTHY: the agent judged the released revision (or a later generation of it) healthy, or a
 *   released removal is done;
 * - FAILED: the agent refused it, or judged the released revision degraded;
 * - SUPERSEDED: a later release replaced it on that cluster.
 */
export type TargetState = 'PENDING' | 'PROGRESSING' | 'HEALTHY' | 'FAILED' | 'SUPERSEDED';

export const TARGET_STATES: readonly TargetState[] = ['PENDING', 'PROGRESSING', 'HEALTHY', 'FAILED', 'SUPERSEDED'];

/** States that no longer hold a rollout back. */
export const SETTLED_STATES: readonly TargetState[] = ['HEALTHY', 'SUPERSEDED'];
