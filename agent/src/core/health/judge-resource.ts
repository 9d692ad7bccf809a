import { Health } from '@flotilla/proto';
import { judgeWebhookConfiguration, type RelatedObjects } from './admission.js';
import { judgeHorizontalPodAutoscaler } from './autoscaling.js';
import { judgeCronJob, judgeJob } from './batch.js';
import { judgeByConditions } from './conditions.js';
import { judgeCustomResourceDefinition } from './crd.js';
import { formatDuration, judged, type ResourceJudgement } from './judgement.js';
import { judgeNamespace } from './namespaces.js';
import { judgeIngress, judgeService } from './network.js';
import { judgePod } from './pods.js';
import { judgePodDisruptionBudget } from './policy.js';
import { field, groupKindOf, listOf, numberOf, recordOf, textOf, timeOf, type LiveObject } from './read.js';
import { judgePersistentVolume, judgePersistentVolumeClaim } from './storage.js';
import { judgeDaemonSet, judgeDeployment, judgeReplicaSet, judgeStatefulSet } from './workloads.js';

/** A rule for one kind. `now` is in ms since the epoch. */
type KindRule = (object: LiveObject, now: number, related: RelatedObjects | undefined) => ResourceJudgement;

// Keyed by group-kind (`Deployment.apps`, `Pod`), so that a custom resource that happens to be called
// `Deployment` in another group is judged by its conditions, not by the apps/v1 rules.
const RULES: ReadonlyMap<string, KindRule> = new Map<string, KindRule>([
  ['Deployment.apps', judgeDeployment],
  ['StatefulSet.apps', judgeStatefulSet],
  ['DaemonSet.apps', judgeDaemonSet],
  ['ReplicaSet.apps', judgeReplicaSet],
  ['Pod', judgePod],
  ['Job.batch', judgeJob],
  ['CronJob.batch', judgeCronJob],
  ['Service', judgeService],
  ['Ingress.networking.k8s.io', judgeIngress],
  ['Ingress.extensions', judgeIngress],
  ['PersistentVolumeClaim', judgePersistentVolumeClaim],
  ['PersistentVolume', judgePersistentVolume],
  ['Namespace', judgeNamespace],
  ['CustomResourceDefinition.apiextensions.k8s.io', judgeCustomResourceDefinition],
  ['HorizontalPodAutoscaler.autoscaling', judgeHorizontalPodAutoscaler],
  ['PodDisruptionBudget.policy', judgePodDisruptionBudget],
  ['MutatingWebhookConfiguration.admissionregistration.k8s.io', (object, _now, related) => judgeWebhookConfiguration(object, related)],
  ['ValidatingWebhookConfiguration.admissionregistration.k8s.io', (object, _now, related) => judgeWebhookConfiguration(object, related)],
]);

// Controllers of these always write `status.observedGeneration`; until they have, their status is
// not about the current spec (a missing one reads as 0).
const ROLLOUT_KINDS = new Set(['Deployment.apps', 'StatefulSet.apps', 'DaemonSet.apps', 'ReplicaSet.apps']);

/**
 * Judges one live object as read from the API server. `now` in ms since epoch (for Job/CronJob deadlines etc.).
 *
 * In order:
 * 1. Not an object with a `kind` and an `apiVersion` → UNKNOWN, saying what is missing.
 * 2. `metadata.deletionTimestamp` set → PROGRESSING ("being deleted", with the finalizers waited on).
 *    Namespaces keep their own rule, which tells a stuck deletion from a slow one.
 * 3. `status.observedGeneration` below `metadata.generation` → PROGRESSING ("waiting for the controller to
 *    observe generation N"), whatever else the status says: health is always about the current spec. For
 *    Deployments, StatefulSets, DaemonSets and ReplicaSets a missing `observedGeneration` counts as 0.
 * 4. The rule of the object's group-kind (see the README of this folder), or the generic
 *    conditions rule for every other kind.
 *
 * `related` answers what a rule needs besides the object (a webhook's service endpoints); without it,
 * those rules judge on the object alone.
 *
 * Total and pure: never throws, never mutates `object`; the message is one line of at most
 * `MAX_JUDGEMENT_CHARS` characters.
 */
export function judgeResource(object: Readonly<Record<string, unknown>>, now: number, related?: RelatedObjects): ResourceJudgement {
  if (recordOf(object) === undefined) return judged(Health.UNKNOWN, 'not a Kubernetes object');
  const kind = textOf(object['kind']);
  const apiVersion = textOf(object['apiVersion']);
  if (kind === undefined || apiVersion === undefined) {
    return judged(Health.UNKNOWN, `not a Kubernetes object: no ${kind === undefined ? 'kind' : 'apiVersion'}`);
  }
  const groupKind = groupKindOf(apiVersion, kind);
  const deletedAt = textOf(field(object, 'metadata', 'deletionTimestamp'));
  if (deletedAt !== undefined && groupKind !== 'Namespace') return beingDeleted(object, deletedAt, now);
  const unobserved = unobservedGeneration(object, groupKind);
  if (unobserved !== undefined) return unobserved;
  return (RULES.get(groupKind) ?? judgeByConditions)(object, now, related);
}

function beingDeleted(object: LiveObject, deletedAt: string, now: number): ResourceJudgement {
  const since = timeOf(deletedAt);
  const finalizers = listOf(field(object, 'metadata', 'finalizers')).flatMap((finalizer) => textOf(finalizer) ?? []);
  const duration = since === undefined ? '' : ` for ${formatDuration(now - since)}`;
  const waiting = finalizers.length === 0 ? '' : `; waiting for finalizers: ${finalizers.join(', ')}`;
  return judged(Health.PROGRESSING, `being deleted${duration}${waiting}`);
}

function unobservedGeneration(object: LiveObject, groupKind: string): ResourceJudgement | undefined {
  const generation = numberOf(field(object, 'metadata', 'generation'));
  if (generation === undefined) return undefined;
  const observed = numberOf(field(object, 'status', 'observedGeneration')) ?? (ROLLOUT_KINDS.has(groupKind) ? 0 : undefined);
  if (observed === undefined || observed >= generation) return undefined;
  return judged(Health.PROGRESSING, `waiting for the controller to observe generation ${generation}`);
}
