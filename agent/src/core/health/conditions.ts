import { Health } from '@flotilla/proto';
import { describeCondition, judged, type ResourceJudgement } from './judgement.js';
import { conditionsOf, type Condition, type LiveObject } from './read.js';

/**
 * Every kind without a rule of its own (custom resources, ConfigMap, Secret, ServiceAccount, RBAC, ...),
 * judged by the conventional `status.conditions` (the kstatus conventions, plus the `Degraded` and
 * `Available` types that many operators use). In order:
 * 1. `Stalled` True (the controller gave up) or `Degraded` True → DEGRADED.
 * 2. `Ready` or `Available` False → PROGRESSING when the object says it is still working on it
 *    (`Reconciling` or `Progressing` True, or a reason like `Progressing`, `Reconciling`, `Pending`,
 *    `Creating`), else DEGRADED.
 * 3. `Reconciling` True, or `Ready`/`Available` Unknown → PROGRESSING.
 * 4. `Ready`/`Available` True → HEALTHY.
 * 5. `Progressing` True (and no readiness condition) → PROGRESSING.
 * 6. Anything else, including no status at all → HEALTHY: the object exists, and nothing says otherwise.
 * The observed-generation rule runs before this (see {@link judgeResource}).
 */
export function judgeByConditions(object: LiveObject): ResourceJudgement {
  const conditions = conditionsOf(object);
  const find = (type: string) => conditions.find((condition) => condition.type === type);
  const isTrue = (condition: Condition | undefined) => condition?.status === 'True';

  const failed = [find('Stalled'), find('Degraded')].find(isTrue);
  if (failed !== undefined) return judged(Health.DEGRADED, `${failed.type}: ${describeCondition(failed, 'no reason given')}`);

  const reconciling = find('Reconciling');
  const progressing = find('Progressing');
  const readiness = [find('Ready'), find('Available')].filter((condition) => condition !== undefined);
  const notReady = readiness.find((condition) => condition.status === 'False');
  if (notReady !== undefined) {
    const working = isTrue(reconciling) || isTrue(progressing) || isProgressingReason(notReady.reason);
    return judged(working ? Health.PROGRESSING : Health.DEGRADED, `not ${notReady.type}: ${describeCondition(notReady, 'no reason given')}`);
  }
  if (reconciling !== undefined && isTrue(reconciling)) return judged(Health.PROGRESSING, `Reconciling: ${describeCondition(reconciling, 'in progress')}`);
  const unknown = readiness.find((condition) => condition.status !== 'True');
  if (unknown !== undefined) return judged(Health.PROGRESSING, `${unknown.type} is ${unknown.status}: ${describeCondition(unknown, 'not reported yet')}`);
  const ready = readiness[0];
  if (ready !== undefined) return judged(Health.HEALTHY, `${ready.type}${ready.message === '' ? '' : `: ${ready.message}`}`);
  if (progressing !== undefined && isTrue(progressing)) return judged(Health.PROGRESSING, `Progressing: ${describeCondition(progressing, 'in progress')}`);
  return judged(Health.HEALTHY, 'exists');
}

// Reasons operators give for "not ready yet, working on it". A reason that also names a failure
// (`ProgressDeadlineExceeded`, `CreateFailed`, `ReconciliationFailed`) is a failure.
const WORKING_REASON = /progress|reconcil|pending|provision|creat|initiali[sz]|waiting|deploying|updating|upgrading|starting|scaling/i;
const FAILED_REASON = /fail|error|exceed|invalid|denied|timeout|timedout|backoff|unavailable/i;

function isProgressingReason(reason: string): boolean {
  return WORKING_REASON.test(reason) && !FAILED_REASON.test(reason);
}
