import { Health } from '@flotilla/proto';
import { describeCondition, judged, type ResourceJudgement } from './judgement.js';
import { conditionOf, field, numberOf, type LiveObject } from './read.js';

/**
 * HorizontalPodAutoscaler (autoscaling/v2 `status.conditions`):
 * - `AbleToScale` False (it cannot read or update the target's scale) → DEGRADED.
 * - `ScalingActive` False → DEGRADED (no metrics, a bad selector...), except reason `ScalingDisabled`
 *   (the target is scaled to zero on purpose) → HEALTHY with a note.
 * - Neither condition yet → PROGRESSING: the controller has not computed a replica count.
 * - Both True → HEALTHY, with the current and desired replicas (and `ScalingLimited` when it holds).
 */
export function judgeHorizontalPodAutoscaler(object: LiveObject): ResourceJudgement {
  const ableToScale = conditionOf(object, 'AbleToScale');
  const scalingActive = conditionOf(object, 'ScalingActive');
  if (ableToScale?.status === 'False') return judged(Health.DEGRADED, `cannot scale: ${describeCondition(ableToScale, 'AbleToScale is False')}`);
  if (scalingActive?.status === 'False') {
    if (scalingActive.reason === 'ScalingDisabled') return judged(Health.HEALTHY, `scaling disabled: ${describeCondition(scalingActive)}`);
    return judged(Health.DEGRADED, `scaling is not active: ${describeCondition(scalingActive, 'ScalingActive is False')}`);
  }
  if (ableToScale === undefined || scalingActive === undefined) return judged(Health.PROGRESSING, 'waiting for the autoscaler to compute a replica count');
  if (ableToScale.status !== 'True' || scalingActive.status !== 'True') return judged(Health.PROGRESSING, `autoscaler status unknown: ${describeCondition(ableToScale.status !== 'True' ? ableToScale : scalingActive)}`);
  const current = numberOf(field(object, 'status', 'currentReplicas')) ?? 0;
  const desired = numberOf(field(object, 'status', 'desiredReplicas')) ?? current;
  const limited = conditionOf(object, 'ScalingLimited');
  const note = limited?.status === 'True' ? `; limited: ${describeCondition(limited)}` : '';
  return judged(Health.HEALTHY, `${current} current, ${desired} desired replicas${note}`);
}
