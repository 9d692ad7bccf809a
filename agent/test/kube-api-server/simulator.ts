import { createHash } from 'node:crypto';
import { isMap, jsonEqual, type JsonMap } from './field-set.js';
import { timestamp, type ObjectApi } from './objects.js';
import { BUILT_IN_TYPES, storageKeyOf, type ResourceType } from './resource-types.js';
import { ApiError } from './status.js';
import type { ObjectStore } from './store.js';
import type { KubeObject } from './types.js';

/**
 * A kwok-like stand-in for the controllers, scheduler and kubelets: on each tick it moves every
 * workload's status one step forward, writing it as `kube-controller-manager` through the status
 * subresource (so resourceVersion moves and watches see it; generation does not). A rollout takes two
 * ticks: first the controller observes the new generation (PROGRESSING), then every replica is ready
 * (HEALTHY). An object annotated `sim.flotilla.dev/fail: "true"` never becomes ready; Deployments then
 * report ProgressDeadlineExceeded and Jobs fail after {@link FAIL_AFTER_TICKS} ticks.
 *
 * Like kube-controller-manager it also gives every active namespace its `default` ServiceAccount and
 * its `kube-root-ca.crt` ConfigMap, so that an agent meets objects in its namespaces it did not create.
 */

export const FAIL_ANNOTATION = 'sim.flotilla.dev/fail';
export const FAIL_AFTER_TICKS = 3;
/** DaemonSets run on this many pretend nodes. */
export const SIMULATED_NODES = 3;
const MANAGER = 'kube-controller-manager';
const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';
// Not a real certificate: nothing in a test cluster verifies it.
const ROOT_CA_PLACEHOLDER = '-----BEGIN CERTIFICATE-----\nTUlJQnRlc3QtY2x1c3Rlci1yb290LWNhLXBsYWNlaG9sZGVy\n-----END CERTIFICATE-----\n';

type Status = JsonMap;
type Condition = JsonMap;

const mapOf = (value: unknown): JsonMap => (isMap(value) ? value : {});
const numberOr = (value: unknown, fallback: number): number => (typeof value === 'number' ? value : fallback);

function shortHash(value: unknown): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const digest = createHash('sha256').update(JSON.stringify(value ?? null)).digest();
  return [...digest.subarray(0, 10)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

/**
 * Runs one simulated controller write. A refusal by the API (the namespace began terminating, the
 * object changed under it) is what a real controller meets too: it retries on the next tick. Anything
 * else is a bug and is thrown.
 */
function ignoringRaces(write: () => unknown): void {
  try {
    write();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
  }
}

/** A stable address octet (2..251) per object, for pod and load balancer IPs. */
const octetOf = (object: KubeObject): number => (createHash('sha256').update(object.metadata.uid ?? '').digest()[0]! % 250) + 2;

export class WorkloadSimulator {
  private timer: NodeJS.Timeout | undefined;
  /** Ticks each failing object has spent at its generation, by uid/generation; only current ones are kept. */
  private readonly stuckTicks = new Map<string, number>();
  private stuckThisTick = new Set<string>();
  private readonly types = new Map(BUILT_IN_TYPES.map((type) => [type.kind, type]));

  constructor(
    private readonly api: ObjectApi,
    private readonly store: ObjectStore,
    private readonly now: () => Date,
  ) {}

  start(tickMs: number): void {
    this.timer = setInterval(() => this.tick(), tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One step for every simulated object. */
  tick(): void {
    this.stuckThisTick = new Set();
    this.populateNamespaces();
    const steps: Record<string, (object: KubeObject, failing: boolean) => Status | undefined> = {
      Deployment: (object, failing) => this.deployment(object, failing),
      StatefulSet: (object, failing) => this.statefulSet(object, failing),
      DaemonSet: (object, failing) => this.daemonSet(object, failing),
      ReplicaSet: (object, failing) => this.replicaSet(object, failing),
      Job: (object, failing) => this.job(object, failing),
      PersistentVolumeClaim: (object, failing) => (failing ? undefined : { ...mapOf(object['status']), phase: 'Bound', accessModes: mapOf(object['spec'])['accessModes'], capacity: mapOf(mapOf(mapOf(object['spec'])['resources'])['requests']) }),
      Service: (object, failing) => this.loadBalancer(object, failing, mapOf(object['spec'])['type'] === 'LoadBalancer'),
      Ingress: (object, failing) => this.loadBalancer(object, failing, true),
      Pod: (object, failing) => this.pod(object, failing),
      HorizontalPodAutoscaler: (object, failing) => this.autoscaler(object, failing),
      PodDisruptionBudget: (object, failing) => this.disruptionBudget(object, failing),
      PersistentVolume: (object, failing) => ({ ...mapOf(object['status']), phase: failing ? 'Failed' : mapOf(object['spec'])['claimRef'] === undefined ? 'Available' : 'Bound' }),
    };
    for (const [kind, step] of Object.entries(steps)) {
      const type = this.types.get(kind)!;
      for (const object of this.store.list(storageKeyOf(type))) {
        if (object.metadata.deletionTimestamp !== undefined) continue;
        const failing = object.metadata.annotations?.[FAIL_ANNOTATION] === 'true';
        const next = step(object, failing);
        if (next !== undefined && !jsonEqual(next, object['status'] ?? {})) ignoringRaces(() => this.write(type, object, next));
      }
    }
    for (const key of this.stuckTicks.keys()) if (!this.stuckThisTick.has(key)) this.stuckTicks.delete(key);
  }

  private populateNamespaces(): void {
    const namespaces = this.types.get('Namespace')!;
    const defaults: [ResourceType, KubeObject][] = [
      [this.types.get('ServiceAccount')!, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } }],
      [this.types.get('ConfigMap')!, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', annotations: { 'kubernetes.io/description': ROOT_CA_DESCRIPTION } }, data: { 'ca.crt': ROOT_CA_PLACEHOLDER } }],
    ];
    for (const namespace of this.store.list(storageKeyOf(namespaces))) {
      if (namespace.metadata.deletionTimestamp !== undefined) continue;
      for (const [type, object] of defaults) {
        if (this.api.stored(type, namespace.metadata.name, object.metadata.name!) !== undefined) continue;
        ignoringRaces(() => this.api.create(type, namespace.metadata.name, object, { dryRun: false, fieldManager: MANAGER }));
      }
    }
  }

  private write(type: ResourceType, object: KubeObject, status: Status): void {
    this.api.writeStatus(type, object, status, MANAGER);
  }

  /** Counts ticks a failing object has been stuck at its current generation. */
  private stuck(object: KubeObject): number {
    const key = `${object.metadata.uid}/${object.metadata.generation}`;
    this.stuckThisTick.add(key);
    const ticks = (this.stuckTicks.get(key) ?? 0) + 1;
    this.stuckTicks.set(key, ticks);
    return ticks;
  }

  /** A condition that keeps its timestamps while its status, reason and message stay the same. */
  private condition(previous: unknown, type: string, status: string, reason: string, message: string, withUpdateTime = false): Condition {
    const before = (Array.isArray(mapOf(previous)['conditions']) ? (mapOf(previous)['conditions'] as unknown[]) : []).map(mapOf).find((entry) => entry['type'] === type);
    const now = timestamp(this.now());
    const same = before !== undefined && before['status'] === status && before['reason'] === reason && before['message'] === message;
    return {
      type,
      status,
      ...(withUpdateTime ? { lastUpdateTime: same ? before['lastUpdateTime'] : now } : {}),
      lastTransitionTime: before !== undefined && before['status'] === status ? before['lastTransitionTime'] : now,
      reason,
      message,
    };
  }

  /** An autoscaler that can scale and has metrics, at its minimum; a failing one cannot get its target's scale. */
  private autoscaler(object: KubeObject, failing: boolean): Status {
    const previous = object['status'];
    const replicas = typeof mapOf(object['spec'])['minReplicas'] === 'number' ? (mapOf(object['spec'])['minReplicas'] as number) : 1;
    const conditions = failing
      ? [this.condition(previous, 'AbleToScale', 'False', 'FailedGetScale', 'the HPA controller was unable to get the target\'s current scale'), this.condition(previous, 'ScalingActive', 'False', 'FailedGetScale', 'the HPA controller was unable to get the target\'s current scale')]
      : [this.condition(previous, 'AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size'), this.condition(previous, 'ScalingActive', 'True', 'ValidMetricFound', 'the HPA was able to successfully calculate a replica count')];
    return { observedGeneration: object.metadata.generation, currentReplicas: replicas, desiredReplicas: replicas, conditions };
  }

  /** A budget over {@link SIMULATED_NODES} pretend pods (all healthy, none when failing). */
  private disruptionBudget(object: KubeObject, failing: boolean): Status {
    const spec = mapOf(object['spec']);
    const expected = SIMULATED_NODES;
    const amount = (value: unknown): number => (typeof value === 'number' ? value : typeof value === 'string' && value.endsWith('%') ? Math.ceil((expected * Number(value.slice(0, -1))) / 100) : 0);
    const desired = spec['minAvailable'] !== undefined ? amount(spec['minAvailable']) : spec['maxUnavailable'] !== undefined ? Math.max(0, expected - amount(spec['maxUnavailable'])) : expected;
    const current = failing ? 0 : expected;
    const allowed = Math.max(0, current - desired);
    const condition = allowed > 0 ? this.condition(object['status'], 'DisruptionAllowed', 'True', 'SufficientPods', '') : this.condition(object['status'], 'DisruptionAllowed', 'False', 'InsufficientPods', '');
    return { observedGeneration: object.metadata.generation, currentHealthy: current, desiredHealthy: desired, disruptionsAllowed: allowed, expectedPods: expected, conditions: [{ ...condition, observedGeneration: object.metadata.generation }] };
  }

  private deployment(object: KubeObject, failing: boolean): Status | undefined {
    const spec = mapOf(object['spec']);
    const status = mapOf(object['status']);
    const desired = numberOr(spec['replicas'], 1);
    const generation = object.metadata.generation ?? 1;
    const replicaSet = `${object.metadata.name}-${shortHash(spec['template'])}`;
    const observed = status['observedGeneration'] === generation;
    const counts = (updated: number, available: number): Status => ({
      observedGeneration: generation,
      replicas: desired,
      updatedReplicas: updated,
      readyReplicas: available,
      availableReplicas: available,
      ...(desired - available > 0 ? { unavailableReplicas: desired - available } : {}),
    });
    const availableCondition = (available: number): Condition =>
      available >= desired
        ? this.condition(status, 'Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', true)
        : this.condition(status, 'Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', true);
    if (spec['paused'] === true) return { ...status, observedGeneration: generation };
    if (!observed) {
      const available = Math.min(numberOr(status['availableReplicas'], 0), desired);
      return {
        ...counts(0, failing ? 0 : available),
        conditions: [availableCondition(failing ? 0 : available), this.condition(status, 'Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${replicaSet}" is progressing.`, true)],
      };
    }
    if (failing) {
      const deadline = this.stuck(object) >= FAIL_AFTER_TICKS;
      return {
        ...counts(desired, 0),
        conditions: [
          availableCondition(0),
          deadline
            ? this.condition(status, 'Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${replicaSet}" has timed out progressing.`, true)
            : this.condition(status, 'Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${replicaSet}" is progressing.`, true),
        ],
      };
    }
    return {
      ...counts(desired, desired),
      conditions: [availableCondition(desired), this.condition(status, 'Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${replicaSet}" has successfully progressed.`, true)],
    };
  }

  private statefulSet(object: KubeObject, failing: boolean): Status {
    const spec = mapOf(object['spec']);
    const status = mapOf(object['status']);
    const desired = numberOr(spec['replicas'], 1);
    const generation = object.metadata.generation ?? 1;
    const revision = `${object.metadata.name}-${shortHash(spec['template'])}`;
    const base = { observedGeneration: generation, replicas: desired, updateRevision: revision, collisionCount: 0 };
    if (status['observedGeneration'] !== generation) {
      const ready = failing ? 0 : Math.min(numberOr(status['readyReplicas'], 0), desired);
      return { ...base, currentReplicas: Math.min(numberOr(status['currentReplicas'], 0), desired), updatedReplicas: 0, readyReplicas: ready, availableReplicas: ready, currentRevision: status['currentRevision'] ?? revision };
    }
    if (failing) return { ...base, currentReplicas: 0, updatedReplicas: desired, readyReplicas: 0, availableReplicas: 0, currentRevision: status['currentRevision'] ?? revision };
    return { ...base, currentReplicas: desired, updatedReplicas: desired, readyReplicas: desired, availableReplicas: desired, currentRevision: revision };
  }

  private daemonSet(object: KubeObject, failing: boolean): Status {
    const status = mapOf(object['status']);
    const generation = object.metadata.generation ?? 1;
    const base = { observedGeneration: generation, desiredNumberScheduled: SIMULATED_NODES, currentNumberScheduled: SIMULATED_NODES, numberMisscheduled: 0 };
    if (status['observedGeneration'] !== generation) {
      const ready = failing ? 0 : numberOr(status['numberReady'], 0);
      return { ...base, updatedNumberScheduled: 0, numberReady: ready, numberAvailable: ready, ...(ready < SIMULATED_NODES ? { numberUnavailable: SIMULATED_NODES - ready } : {}) };
    }
    if (failing) return { ...base, updatedNumberScheduled: SIMULATED_NODES, numberReady: 0, numberAvailable: 0, numberUnavailable: SIMULATED_NODES };
    return { ...base, updatedNumberScheduled: SIMULATED_NODES, numberReady: SIMULATED_NODES, numberAvailable: SIMULATED_NODES };
  }

  private replicaSet(object: KubeObject, failing: boolean): Status {
    const status = mapOf(object['status']);
    const desired = numberOr(mapOf(object['spec'])['replicas'], 1);
    const generation = object.metadata.generation ?? 1;
    const base = { observedGeneration: generation, replicas: desired, fullyLabeledReplicas: desired };
    if (status['observedGeneration'] !== generation || failing) return { ...base, readyReplicas: 0, availableReplicas: 0 };
    return { ...base, readyReplicas: desired, availableReplicas: desired };
  }

  private job(object: KubeObject, failing: boolean): Status | undefined {
    const status = mapOf(object['status']);
    const spec = mapOf(object['spec']);
    const done = (Array.isArray(status['conditions']) ? status['conditions'] : []).map(mapOf).some((condition) => (condition['type'] === 'Complete' || condition['type'] === 'Failed') && condition['status'] === 'True');
    if (done || spec['suspend'] === true) return undefined;
    const now = timestamp(this.now());
    if (status['startTime'] === undefined) return { startTime: now, active: numberOr(spec['parallelism'], 1), ready: 0, terminating: 0, uncountedTerminatedPods: {} };
    if (failing) {
      if (this.stuck(object) < FAIL_AFTER_TICKS) return status;
      const message = 'Job has reached the specified backoff limit';
      return {
        ...status,
        active: 0,
        ready: 0,
        failed: numberOr(spec['backoffLimit'], 6) + 1,
        conditions: [
          this.condition(status, 'FailureTarget', 'True', 'BackoffLimitExceeded', message),
          this.condition(status, 'Failed', 'True', 'BackoffLimitExceeded', message),
        ],
      };
    }
    const message = 'Reached expected number of succeeded pods';
    return {
      ...status,
      active: 0,
      ready: 0,
      succeeded: numberOr(spec['completions'], 1),
      completionTime: now,
      conditions: [this.condition(status, 'SuccessCriteriaMet', 'True', 'CompletionsReached', message), this.condition(status, 'Complete', 'True', 'CompletionsReached', message)],
    };
  }

  private loadBalancer(object: KubeObject, failing: boolean, applies: boolean): Status | undefined {
    if (!applies || failing) return undefined;
    return { ...mapOf(object['status']), loadBalancer: { ingress: [{ ip: `192.0.2.${octetOf(object)}`, ipMode: 'VIP' }] } };
  }

  private pod(object: KubeObject, failing: boolean): Status | undefined {
    const status = mapOf(object['status']);
    if (status['phase'] === 'Succeeded' || status['phase'] === 'Failed') return undefined;
    const containers = (Array.isArray(mapOf(object['spec'])['containers']) ? (mapOf(object['spec'])['containers'] as unknown[]) : []).map(mapOf);
    const startedAt = typeof status['startTime'] === 'string' ? status['startTime'] : timestamp(this.now());
    const ready = failing ? 'False' : 'True';
    const notReady = `containers with unready status: [${containers.map((container) => container['name']).join(' ')}]`;
    const condition = (type: string, value: string): Condition => {
      const reason = value === 'True' ? '' : 'ContainersNotReady';
      const kept = this.condition(status, type, value, reason, value === 'True' ? '' : notReady);
      return { type, status: value, lastProbeTime: null, lastTransitionTime: kept['lastTransitionTime'], ...(value === 'True' ? {} : { reason, message: notReady }) };
    };
    return {
      phase: 'Running',
      conditions: [condition('PodReadyToStartContainers', 'True'), condition('Initialized', 'True'), condition('Ready', ready), condition('ContainersReady', ready), condition('PodScheduled', 'True')],
      hostIP: '10.0.0.1',
      hostIPs: [{ ip: '10.0.0.1' }],
      podIP: `10.244.0.${octetOf(object)}`,
      startTime: startedAt,
      qosClass: 'BestEffort',
      containerStatuses: containers.map((container) => ({
        name: container['name'],
        image: container['image'],
        imageID: '',
        ready: !failing,
        started: !failing,
        restartCount: 0,
        state: failing ? { waiting: { reason: 'CrashLoopBackOff', message: 'back-off restarting failed container' } } : { running: { startedAt } },
      })),
    };
  }
}
