import { Health } from '@flotilla/proto';
import { count, describeCondition, judged, type ResourceJudgement } from './judgement.js';
import { conditionOf, field, numberOf, type LiveObject } from './read.js';

/**
 * PodDisruptionBudget (policy/v1), by its `DisruptionAllowed` condition and healthy counts:
 * - no condition yet → PROGRESSING (the disruption controller has not counted the pods).
 * - `DisruptionAllowed` True → HEALTHY, with the disruptions allowed.
 * - False with `currentHealthy` below `desiredHealthy` → DEGRADED: the budget is already broken, and
 *   node drains will block.
 * - False with reason `SyncFailed` → DEGRADED (the controller cannot evaluate the budget).
 * - False with enough healthy pods → HEALTHY: the budget allows no disruption by design (e.g.
 *   `maxUnavailable: 0`), which is the owner's choice, not a fault.
 */
export function judgePodDisruptionBudget(object: LiveObject): ResourceJudgement {
  const allowed = conditionOf(object, 'DisruptionAllowed');
  const current = numberOf(field(object, 'status', 'currentHealthy')) ?? 0;
  const desired = numberOf(field(object, 'status', 'desiredHealthy')) ?? 0;
  const healthy = `${current} of ${desired} desired healthy`;
  if (allowed === undefined) return judged(Health.PROGRESSING, 'waiting for the disruption controller to count pods');
  if (allowed.status === 'True') return judged(Health.HEALTHY, `${count(numberOf(field(object, 'status', 'disruptionsAllowed')) ?? 0, 'disruption')} allowed; ${healthy}`);
  if (allowed.reason === 'SyncFailed') return judged(Health.DEGRADED, `budget not evaluated: ${describeCondition(allowed)}`);
  if (current < desired) return judged(Health.DEGRADED, `${count(desired - current, 'pod')} short of the budget: ${healthy}`);
  if (allowed.status === 'False') return judged(Health.HEALTHY, `no disruption allowed by the budget; ${healthy}`);
  return judged(Health.PROGRESSING, `DisruptionAllowed is ${allowed.status}: ${describeCondition(allowed, 'no reason given')}`);
}
