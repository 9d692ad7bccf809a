import { Health } from '@flotilla/proto';
import { describeCondition, formatDuration, judged, type ResourceJudgement } from './judgement.js';
import { conditionOf, field, listOf, numberOf, timeOf, type LiveObject } from './read.js';

/**
 * Job, in order:
 * - `Failed` (or `FailureTarget`, set while the pods of a failed Job are still terminating) → DEGRADED
 *   with the condition's reason and message.
 * - `Complete` → HEALTHY. `SuccessCriteriaMet` alone → PROGRESSING (the Job has succeeded, its pods are
 *   still terminating; `Complete` follows).
 * - `spec.suspend` → SUSPENDED.
 * - Running past `spec.activeDeadlineSeconds` (from `status.startTime`, at `now`) → DEGRADED: the
 *   controller is about to fail it with `DeadlineExceeded`.
 * - Else PROGRESSING, with the pod counts.
 */
export function judgeJob(object: LiveObject, now: number): ResourceJudgement {
  const failed = conditionOf(object, 'Failed');
  const failureTarget = conditionOf(object, 'FailureTarget');
  if (failed?.status === 'True') return judged(Health.DEGRADED, `Job failed: ${describeCondition(failed, 'no reason given')}`);
  if (failureTarget?.status === 'True') return judged(Health.DEGRADED, `Job failed: ${describeCondition(failureTarget, 'no reason given')}`);
  const succeeded = numberOf(field(object, 'status', 'succeeded')) ?? 0;
  if (conditionOf(object, 'Complete')?.status === 'True') return judged(Health.HEALTHY, `Job completed (${succeeded} succeeded)`);
  if (conditionOf(object, 'SuccessCriteriaMet')?.status === 'True') return judged(Health.PROGRESSING, 'Job succeeded; waiting for its pods to finish');
  if (field(object, 'spec', 'suspend') === true) return judged(Health.SUSPENDED, 'Job is suspended');

  const deadlineSeconds = numberOf(field(object, 'spec', 'activeDeadlineSeconds'));
  const startedAt = timeOf(field(object, 'status', 'startTime'));
  if (deadlineSeconds !== undefined && startedAt !== undefined && now - startedAt > deadlineSeconds * 1000) {
    return judged(Health.DEGRADED, `Job has run for ${formatDuration(now - startedAt)}, past its active deadline of ${formatDuration(deadlineSeconds * 1000)}`);
  }
  const active = numberOf(field(object, 'status', 'active')) ?? 0;
  const failedPods = numberOf(field(object, 'status', 'failed')) ?? 0;
  const completions = numberOf(field(object, 'spec', 'completions'));
  const parts = [`${active} running`, completions === undefined ? `${succeeded} succeeded` : `${succeeded} of ${completions} succeeded`];
  if (failedPods > 0) parts.push(`${failedPods} failed`);
  return judged(Health.PROGRESSING, `Job running: ${parts.join(', ')}`);
}

/**
 * CronJob: `spec.suspend` → SUSPENDED. Otherwise HEALTHY, unless its last scheduled run is over and did
 * not succeed → DEGRADED (as Argo CD does).
 *
 * "Did not succeed" is read from the CronJob alone, so no Job needs fetching: no Job is active and
 * `status.lastSuccessfulTime` is absent or older than `status.lastScheduleTime` (a successful run always
 * completes after it was scheduled). A run that failed and whose Job has since been deleted counts as
 * failed too. How late a CronJob is against its schedule is not judged: that needs the cron expression
 * and time zone evaluated, and a missed start shows up as a stale `lastScheduleTime` in the message.
 */
export function judgeCronJob(object: LiveObject, now: number): ResourceJudgement {
  if (field(object, 'spec', 'suspend') === true) return judged(Health.SUSPENDED, 'CronJob is suspended');
  const active = listOf(field(object, 'status', 'active')).length;
  const scheduledAt = timeOf(field(object, 'status', 'lastScheduleTime'));
  const succeededAt = timeOf(field(object, 'status', 'lastSuccessfulTime'));
  const ago = (at: number) => `${formatDuration(now - at)} ago`;
  if (active > 0) {
    return judged(Health.HEALTHY, `CronJob has ${active} running job${active === 1 ? '' : 's'}${scheduledAt === undefined ? '' : `, last scheduled ${ago(scheduledAt)}`}`);
  }
  if (scheduledAt === undefined) return judged(Health.HEALTHY, 'CronJob has not run yet');
  if (succeededAt === undefined || succeededAt < scheduledAt) {
    const lastSuccess = succeededAt === undefined ? 'it has never succeeded' : `last success ${ago(succeededAt)}`;
    return judged(Health.DEGRADED, `CronJob's last run, scheduled ${ago(scheduledAt)}, did not succeed; ${lastSuccess}`);
  }
  return judged(Health.HEALTHY, `CronJob's last run, scheduled ${ago(scheduledAt)}, succeeded`);
}
