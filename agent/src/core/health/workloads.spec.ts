import { Health } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { judgeResource } from './judge-resource.js';

// Objects as `kubectl get -o json` shows them: a settled, healthy object by default, each case changing
// only the status (or spec) fields it is about.
const NOW = Date.parse('2024-05-14T10:30:00Z');

function judge(object: Record<string, unknown>): { health: string; message: string } {
  const { health, message } = judgeResource(object, NOW);
  return { health: Health[health], message };
}

const condition = (type: string, status: string, reason: string, message: string) => ({
  type,
  status,
  reason,
  message,
  lastUpdateTime: '2024-05-14T10:21:07Z',
  lastTransitionTime: '2024-05-14T10:20:41Z',
});

const podTemplate = {
  metadata: { labels: { app: 'web' } },
  spec: {
    containers: [
      {
        name: 'web',
        image: 'ghcr.io/acme/web:1.4.2',
        ports: [{ containerPort: 8080, protocol: 'TCP' }],
        readinessProbe: { httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
        resources: { requests: { cpu: '100m', memory: '128Mi' } },
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        imagePullPolicy: 'IfNotPresent',
      },
    ],
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    schedulerName: 'default-scheduler',
    securityContext: {},
  },
};

const metadata = (generation: number) => ({
  name: 'web',
  namespace: 'shop',
  uid: '6f1c2a7e-3b0d-4c1e-9a55-0c2d9e1f7a31',
  resourceVersion: '812734',
  generation,
  creationTimestamp: '2024-05-01T08:00:00Z',
  labels: { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/managed-by': 'flotilla' },
});

function deployment({ generation = 7, spec = {}, status = {} }: { generation?: number; spec?: object; status?: object } = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { ...metadata(generation), annotations: { 'deployment.kubernetes.io/revision': '5' } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      template: podTemplate,
      ...spec,
    },
    status: {
      observedGeneration: generation,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      conditions: [
        condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'),
        condition('Progressing', 'True', 'NewReplicaSetAvailable', 'ReplicaSet "web-7d9c5b8f6d" has successfully progressed.'),
      ],
      ...status,
    },
  };
}

function statefulSet({ generation = 3, spec = {}, status = {} }: { generation?: number; spec?: object; status?: object } = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: metadata(generation),
    spec: {
      replicas: 3,
      serviceName: 'web',
      selector: { matchLabels: { app: 'web' } },
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      revisionHistoryLimit: 10,
      template: podTemplate,
      ...spec,
    },
    status: {
      observedGeneration: generation,
      replicas: 3,
      readyReplicas: 3,
      currentReplicas: 3,
      updatedReplicas: 3,
      availableReplicas: 3,
      currentRevision: 'web-5f8d7c9b4',
      updateRevision: 'web-5f8d7c9b4',
      collisionCount: 0,
      ...status,
    },
  };
}

function daemonSet({ generation = 2, spec = {}, status = {} }: { generation?: number; spec?: object; status?: object } = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { ...metadata(generation), annotations: { 'deprecated.daemonset.template.generation': String(generation) } },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
      template: podTemplate,
      ...spec,
    },
    status: {
      observedGeneration: generation,
      currentNumberScheduled: 4,
      desiredNumberScheduled: 4,
      numberMisscheduled: 0,
      numberReady: 4,
      numberAvailable: 4,
      updatedNumberScheduled: 4,
      ...status,
    },
  };
}

function replicaSet({ generation = 1, spec = {}, status = {} }: { generation?: number; spec?: object; status?: object } = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      ...metadata(generation),
      name: 'web-7d9c5b8f6d',
      annotations: { 'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': '4', 'deployment.kubernetes.io/revision': '5' },
    },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web', 'pod-template-hash': '7d9c5b8f6d' } }, template: podTemplate, ...spec },
    status: { observedGeneration: generation, replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 3, availableReplicas: 3, ...status },
  };
}

describe('Deployment', () => {
  it.each([
    { name: 'a settled rollout is healthy', object: deployment(), health: 'HEALTHY', message: 'Deployment has 3/3 updated replicas available' },
    {
      name: 'a spec the controller has not observed yet is progressing, whatever the old status says',
      object: deployment({ generation: 8, status: { observedGeneration: 7 } }),
      health: 'PROGRESSING',
      message: 'waiting for the controller to observe generation 8',
    },
    {
      name: 'a new Deployment without any status yet is progressing',
      object: { ...deployment(), status: {} },
      health: 'PROGRESSING',
      message: 'waiting for the controller to observe generation 7',
    },
    {
      name: 'a paused Deployment is suspended',
      object: deployment({
        spec: { paused: true },
        status: { conditions: [condition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused')] },
      }),
      health: 'SUSPENDED',
      message: 'Deployment is paused',
    },
    {
      name: 'a rollout past its progress deadline is degraded, with the controller message',
      object: deployment({
        status: {
          replicas: 4,
          updatedReplicas: 1,
          readyReplicas: 3,
          availableReplicas: 3,
          unavailableReplicas: 1,
          conditions: [
            condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'),
            condition('Progressing', 'False', 'ProgressDeadlineExceeded', 'ReplicaSet "web-85f7b9c6d4" has timed out progressing.'),
          ],
        },
      }),
      health: 'DEGRADED',
      message: 'Deployment exceeded its progress deadline: ReplicaSet "web-85f7b9c6d4" has timed out progressing.',
    },
    {
      name: 'a rollout that has not updated every replica yet is progressing',
      object: deployment({
        status: {
          replicas: 4,
          updatedReplicas: 1,
          readyReplicas: 3,
          availableReplicas: 3,
          conditions: [condition('Progressing', 'True', 'ReplicaSetUpdated', 'ReplicaSet "web-85f7b9c6d4" is progressing.')],
        },
      }),
      health: 'PROGRESSING',
      message: '1 of 3 replicas updated',
    },
    {
      name: 'old replicas still terminating keep the rollout progressing',
      object: deployment({ status: { replicas: 4, updatedReplicas: 3, readyReplicas: 4, availableReplicas: 4 } }),
      health: 'PROGRESSING',
      message: '1 old replica pending termination',
    },
    {
      name: 'updated replicas that are not all available keep the rollout progressing',
      object: deployment({ status: { replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2, unavailableReplicas: 1 } }),
      health: 'PROGRESSING',
      message: '2 of 3 updated replicas are available',
    },
    {
      name: 'a Deployment scaled to zero is healthy',
      object: deployment({ spec: { replicas: 0 }, status: { replicas: 0, updatedReplicas: 0, readyReplicas: 0, availableReplicas: 0 } }),
      health: 'HEALTHY',
      message: 'Deployment is scaled to zero',
    },
    {
      name: 'a Deployment without spec.replicas counts the default of one',
      object: deployment({ spec: { replicas: undefined }, status: { replicas: 0, updatedReplicas: 0, readyReplicas: 0, availableReplicas: 0 } }),
      health: 'PROGRESSING',
      message: '0 of 1 replicas updated',
    },
  ])('$name', ({ object, health, message }) => {
    expect(judge(object)).toEqual({ health, message });
  });
});

describe('StatefulSet', () => {
  it.each([
    { name: 'a settled StatefulSet is healthy', object: statefulSet(), health: 'HEALTHY', message: 'StatefulSet has 3/3 pods ready at revision web-5f8d7c9b4' },
    {
      name: 'a spec the controller has not observed yet is progressing',
      object: statefulSet({ generation: 4, status: { observedGeneration: 3 } }),
      health: 'PROGRESSING',
      message: 'waiting for the controller to observe generation 4',
    },
    {
      name: 'a StatefulSet whose pods are not all ready is progressing',
      object: statefulSet({ status: { readyReplicas: 1, availableReplicas: 1, currentReplicas: 1, updatedReplicas: 1, replicas: 2 } }),
      health: 'PROGRESSING',
      message: '1 of 3 pods ready',
    },
    {
      name: 'a rolling update that has not reached every pod is progressing',
      object: statefulSet({ status: { currentReplicas: 2, updatedReplicas: 1, updateRevision: 'web-6c9f8d7b5' } }),
      health: 'PROGRESSING',
      message: '1 of 3 pods updated',
    },
    {
      name: 'a rolling update with every pod updated but the revision not yet promoted is progressing',
      object: statefulSet({ status: { currentReplicas: 0, updatedReplicas: 3, updateRevision: 'web-6c9f8d7b5' } }),
      health: 'PROGRESSING',
      message: 'rolling update to revision web-6c9f8d7b5 in progress: 3 of 3 pods updated',
    },
    {
      name: 'a partitioned rolling update waits only for the pods at or above the partition',
      object: statefulSet({
        spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } },
        status: { currentReplicas: 2, updatedReplicas: 1, updateRevision: 'web-6c9f8d7b5' },
      }),
      health: 'PROGRESSING',
      message: 'partitioned rollout: 1 of 2 pods updated (partition 1)',
    },
    {
      name: 'a partitioned rolling update is healthy once the pods above the partition are updated',
      object: statefulSet({
        spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } },
        status: { currentReplicas: 1, updatedReplicas: 2, updateRevision: 'web-6c9f8d7b5' },
      }),
      health: 'HEALTHY',
      message: 'partitioned rollout complete: 2 of 3 pods updated (partition 1)',
    },
    {
      name: 'an OnDelete StatefulSet is healthy once observed and ready, even with pods at the old revision',
      object: statefulSet({
        spec: { updateStrategy: { type: 'OnDelete' } },
        status: { currentReplicas: 3, updatedReplicas: 0, updateRevision: 'web-6c9f8d7b5' },
      }),
      health: 'HEALTHY',
      message: 'StatefulSet has 3/3 pods ready; pods update when deleted (OnDelete)',
    },
    {
      name: 'an OnDelete StatefulSet that has not observed its spec is still progressing',
      object: statefulSet({ generation: 5, spec: { updateStrategy: { type: 'OnDelete' } }, status: { observedGeneration: 4 } }),
      health: 'PROGRESSING',
      message: 'waiting for the controller to observe generation 5',
    },
  ])('$name', ({ object, health, message }) => {
    expect(judge(object)).toEqual({ health, message });
  });
});

describe('DaemonSet', () => {
  it.each([
    { name: 'a settled DaemonSet is healthy', object: daemonSet(), health: 'HEALTHY', message: 'DaemonSet has 4/4 updated pods available' },
    {
      name: 'a spec the controller has not observed yet is progressing',
      object: daemonSet({ generation: 3, status: { observedGeneration: 2 } }),
      health: 'PROGRESSING',
      message: 'waiting for the controller to observe generation 3',
    },
    {
      name: 'a rolling update that has not reached every node is progressing',
      object: daemonSet({ status: { updatedNumberScheduled: 2, numberAvailable: 3, numberUnavailable: 1 } }),
      health: 'PROGRESSING',
      message: '2 of 4 pods updated',
    },
    {
      name: 'updated pods that are not all available keep it progressing',
      object: daemonSet({ status: { numberReady: 3, numberAvailable: 3, numberUnavailable: 1 } }),
      health: 'PROGRESSING',
      message: '3 of 4 pods available',
    },
    {
      name: 'an OnDelete DaemonSet with every pod available is healthy even with pods at the old revision',
      object: daemonSet({ spec: { updateStrategy: { type: 'OnDelete' } }, status: { updatedNumberScheduled: 1 } }),
      health: 'HEALTHY',
      message: 'DaemonSet has 4/4 pods available, 1 updated; pods update when deleted (OnDelete)',
    },
    {
      name: 'a DaemonSet whose selector matches no node is healthy',
      object: daemonSet({ status: { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberReady: 0, numberAvailable: 0, updatedNumberScheduled: 0 } }),
      health: 'HEALTHY',
      message: 'DaemonSet has no node to run on',
    },
  ])('$name', ({ object, health, message }) => {
    expect(judge(object)).toEqual({ health, message });
  });
});

describe('ReplicaSet', () => {
  it.each([
    { name: 'a ReplicaSet with every replica available is healthy', object: replicaSet(), health: 'HEALTHY', message: 'ReplicaSet has 3/3 replicas available' },
    {
      name: 'a spec the controller has not observed yet is progressing',
      object: replicaSet({ generation: 2, status: { observedGeneration: 1 } }),
      health: 'PROGRESSING',
      message: 'waiting for the controller to observe generation 2',
    },
    {
      name: 'a ReplicaSet with fewer replicas available than desired is progressing',
      object: replicaSet({ status: { readyReplicas: 2, availableReplicas: 2 } }),
      health: 'PROGRESSING',
      message: '2 of 3 replicas available',
    },
    {
      name: 'a ReplicaSet that cannot create pods is degraded, with the reason',
      object: replicaSet({
        status: {
          replicas: 2,
          readyReplicas: 2,
          availableReplicas: 2,
          conditions: [
            {
              type: 'ReplicaFailure',
              status: 'True',
              reason: 'FailedCreate',
              message: 'pods "web-7d9c5b8f6d-x2x7q" is forbidden: exceeded quota: compute, requested: cpu=100m, used: cpu=2, limited: cpu=2',
              lastTransitionTime: '2024-05-14T10:22:00Z',
            },
          ],
        },
      }),
      health: 'DEGRADED',
      message: expect.stringMatching(/^ReplicaSet cannot create pods: FailedCreate: pods "web-7d9c5b8f6d-x2x7q" is forbidden: exceeded quota/),
    },
  ])('$name', ({ object, health, message }) => {
    expect(judge(object)).toEqual({ health, message });
  });
});
