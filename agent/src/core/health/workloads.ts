import { Health } from '@flotilla/proto';
import { count, describeCondition, judged, type ResourceJudgement } from './judgement.js';
import { conditionOf, field, numberOf, textOf, type LiveObject } from './read.js';

/**
 * Controllers that roll pods out: Deployment, StatefulSet, DaemonSet, ReplicaSet. The rules follow
 * `kubectl rollout status` and Argo CD. They assume the controller has observed the object's current
 * generation: {@link judgeResource} answers PROGRESSING before they run otherwise, since a status
 * written for an older spec says nothing about the current one.
 *
 * `spec.replicas` reads as 1 when absent, as the API server defaults it.
 */

/**
 * Deployment: paused → SUSPENDED; progress deadline exceeded → DEGRADED; PROGRESSING while replicas are
 * not all updated, old replicas still run, or updated replicas are not all available; else HEALTHY.
 */
export function judgeDeployment(object: LiveObject): ResourceJudgement {
  if (field(object, 'spec', 'paused') === true) return judged(Health.SUSPENDED, 'Deployment is paused');
  const progressing = conditionOf(object, 'Progressing');
  if (progressing !== undefined && progressing.status !== 'True' && progressing.reason === 'ProgressDeadlineExceeded') {
    return judged(Health.DEGRADED, `Deployment exceeded its progress deadline: ${progressing.message || 'no progress'}`);
  }
  const desired = numberOf(field(object, 'spec', 'replicas')) ?? 1;
  const replicas = status(object, 'replicas');
  const updated = status(object, 'updatedReplicas');
  const available = status(object, 'availableReplicas');
  if (updated < desired) return judged(Health.PROGRESSING, `${updated} of ${desired} replicas updated`);
  if (replicas > updated) return judged(Health.PROGRESSING, `${count(replicas - updated, 'old replica')} pending termination`);
  if (available < updated) return judged(Health.PROGRESSING, `${available} of ${updated} updated replicas are available`);
  if (desired === 0) return judged(Health.HEALTHY, 'Deployment is scaled to zero');
  return judged(Health.HEALTHY, `Deployment has ${updated}/${desired} updated replicas available`);
}

/**
 * StatefulSet: PROGRESSING until every replica is ready. Then by update strategy: `OnDelete` is HEALTHY
 * (pods change only when someone deletes them, so there is no rollout to wait for); a partitioned
 * rolling update is HEALTHY once the pods at or above the partition are updated; a full rolling update is
 * HEALTHY once every pod is updated and the current revision is the update revision.
 */
export function judgeStatefulSet(object: LiveObject): ResourceJudgement {
  const desired = numberOf(field(object, 'spec', 'replicas')) ?? 1;
  const ready = status(object, 'readyReplicas');
  const updated = status(object, 'updatedReplicas');
  if (ready < desired) return judged(Health.PROGRESSING, `${ready} of ${desired} pods ready`);
  if (textOf(field(object, 'spec', 'updateStrategy', 'type')) === 'OnDelete') {
    return judged(Health.HEALTHY, `StatefulSet has ${ready}/${desired} pods ready; pods update when deleted (OnDelete)`);
  }
  const partition = numberOf(field(object, 'spec', 'updateStrategy', 'rollingUpdate', 'partition')) ?? 0;
  if (partition > 0) {
    const target = Math.max(0, desired - partition);
    if (updated < target) return judged(Health.PROGRESSING, `partitioned rollout: ${updated} of ${target} pods updated (partition ${partition})`);
    return judged(Health.HEALTHY, `partitioned rollout complete: ${updated} of ${desired} pods updated (partition ${partition})`);
  }
  if (updated < desired) return judged(Health.PROGRESSING, `${updated} of ${desired} pods updated`);
  const currentRevision = textOf(field(object, 'status', 'currentRevision'));
  const updateRevision = textOf(field(object, 'status', 'updateRevision'));
  if (currentRevision !== undefined && updateRevision !== undefined && currentRevision !== updateRevision) {
    return judged(Health.PROGRESSING, `rolling update to revision ${updateRevision} in progress: ${updated} of ${desired} pods updated`);
  }
  if (desired === 0) return judged(Health.HEALTHY, 'StatefulSet is scaled to zero');
  return judged(Health.HEALTHY, `StatefulSet has ${ready}/${desired} pods ready${updateRevision === undefined ? '' : ` at revision ${updateRevision}`}`);
}

/**
 * DaemonSet: PROGRESSING while pods are not all updated (rolling update only) or not all available;
 * `OnDelete` skips the update count for the same reason as for StatefulSets; else HEALTHY.
 */
export function judgeDaemonSet(object: LiveObject): ResourceJudgement {
  const desired = status(object, 'desiredNumberScheduled');
  const updated = status(object, 'updatedNumberScheduled');
  const available = status(object, 'numberAvailable');
  const onDelete = textOf(field(object, 'spec', 'updateStrategy', 'type')) === 'OnDelete';
  if (!onDelete && updated < desired) return judged(Health.PROGRESSING, `${updated} of ${desired} pods updated`);
  if (available < desired) return judged(Health.PROGRESSING, `${available} of ${desired} pods available`);
  if (desired === 0) return judged(Health.HEALTHY, 'DaemonSet has no node to run on');
  if (onDelete) return judged(Health.HEALTHY, `DaemonSet has ${available}/${desired} pods available, ${updated} updated; pods update when deleted (OnDelete)`);
  return judged(Health.HEALTHY, `DaemonSet has ${available}/${desired} updated pods available`);
}

/**
 * ReplicaSet: a `ReplicaFailure` condition (quota, admission) → DEGRADED; PROGRESSING while fewer
 * replicas are available than desired; else HEALTHY.
 */
export function judgeReplicaSet(object: LiveObject): ResourceJudgement {
  const failure = conditionOf(object, 'ReplicaFailure');
  if (failure?.status === 'True') return judged(Health.DEGRADED, `ReplicaSet cannot create pods: ${describeCondition(failure, 'ReplicaFailure')}`);
  const desired = numberOf(field(object, 'spec', 'replicas')) ?? 1;
  const available = status(object, 'availableReplicas');
  if (available < desired) return judged(Health.PROGRESSING, `${available} of ${desired} replicas available`);
  if (desired === 0) return judged(Health.HEALTHY, 'ReplicaSet is scaled to zero');
  return judged(Health.HEALTHY, `ReplicaSet has ${available}/${desired} replicas available`);
}

// Counters the controller omits when they are zero.
function status(object: LiveObject, name: string): number {
  return numberOf(field(object, 'status', name)) ?? 0;
}
