import { Health } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { judgeResource } from './judge-resource.js';

const NOW = Date.parse('2024-05-14T10:30:00Z');

function judge(object: Record<string, unknown>): { health: string; message: string } {
  const { health, message } = judgeResource(object, NOW);
  return { health: Health[health], message };
}

const podCondition = (type: string, status: string, extra: object = {}) => ({ type, status, lastProbeTime: null, lastTransitionTime: '2024-05-14T10:20:41Z', ...extra });

const runningContainer = (name: string, extra: object = {}) => ({
  name,
  image: `ghcr.io/acme/${name}:1.4.2`,
  imageID: `ghcr.io/acme/${name}@sha256:5d1c7e9a0b3f4c2d8e6a7b9c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e`,
  containerID: 'containerd://0f3e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e',
  ready: true,
  started: true,
  restartCount: 0,
  state: { running: { startedAt: '2024-05-14T10:20:43Z' } },
  lastState: {},
  ...extra,
});

function pod({ restartPolicy = 'Always', status = {} }: { restartPolicy?: string; status?: object } = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web-0',
      namespace: 'shop',
      uid: 'a3e1f0c2-9b8d-4e7f-8a6b-5c4d3e2f1a0b',
      resourceVersion: '812901',
      creationTimestamp: '2024-05-14T10:20:40Z',
      labels: { app: 'web' },
    },
    spec: {
      containers: [{ name: 'web', image: 'ghcr.io/acme/web:1.4.2', ports: [{ containerPort: 8080, protocol: 'TCP' }] }],
      restartPolicy,
      nodeName: 'node-a',
      serviceAccountName: 'default',
      terminationGracePeriodSeconds: 30,
    },
    status: {
      phase: 'Running',
      conditions: [
        podCondition('PodReadyToStartContainers', 'True'),
        podCondition('Initialized', 'True'),
        podCondition('Ready', 'True'),
        podCondition('ContainersReady', 'True'),
        podCondition('PodScheduled', 'True'),
      ],
      hostIP: '10.0.1.12',
      podIP: '10.244.1.17',
      podIPs: [{ ip: '10.244.1.17' }],
      startTime: '2024-05-14T10:20:40Z',
      qosClass: 'Burstable',
      containerStatuses: [runningContainer('web')],
      ...status,
    },
  };
}

const notReady = [
  podCondition('Initialized', 'True'),
  podCondition('Ready', 'False', { reason: 'ContainersNotReady', message: 'containers with unready status: [web]' }),
  podCondition('ContainersReady', 'False', { reason: 'ContainersNotReady', message: 'containers with unready status: [web]' }),
  podCondition('PodScheduled', 'True'),
];

describe('Pod', () => {
  it.each([
    { name: 'a running pod with every container ready is healthy', object: pod(), health: 'HEALTHY', message: 'Pod running, 1/1 containers ready' },
    {
      name: 'a pod that ran to completion is healthy',
      object: pod({
        restartPolicy: 'Never',
        status: {
          phase: 'Succeeded',
          containerStatuses: [runningContainer('web', { ready: false, started: false, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: '2024-05-14T10:20:43Z', finishedAt: '2024-05-14T10:21:03Z' } } })],
        },
      }),
      health: 'HEALTHY',
      message: 'Pod completed',
    },
    {
      name: 'a failed pod is degraded with the failed container and its exit code',
      object: pod({
        restartPolicy: 'Never',
        status: {
          phase: 'Failed',
          containerStatuses: [runningContainer('web', { ready: false, started: false, state: { terminated: { exitCode: 2, reason: 'Error', startedAt: '2024-05-14T10:20:43Z', finishedAt: '2024-05-14T10:20:44Z' } } })],
        },
      }),
      health: 'DEGRADED',
      message: 'Pod failed: container web exited with code 2 (Error)',
    },
    {
      name: 'a pod evicted by the kubelet is degraded with the eviction message',
      object: pod({ status: { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 91204Ki.', containerStatuses: [] } }),
      health: 'DEGRADED',
      message: 'Pod failed: The node was low on resource: memory. Threshold quantity: 100Mi, available: 91204Ki.',
    },
    {
      name: 'a pod whose container was OOM-killed is degraded saying so',
      object: pod({
        restartPolicy: 'Never',
        status: { phase: 'Failed', containerStatuses: [runningContainer('web', { ready: false, state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } })] },
      }),
      health: 'DEGRADED',
      message: 'Pod failed: container web was OOMKilled',
    },
    {
      name: 'a container in CrashLoopBackOff makes the pod degraded',
      object: pod({
        status: {
          conditions: notReady,
          containerStatuses: [
            runningContainer('web', {
              ready: false,
              started: false,
              restartCount: 6,
              state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container=web pod=web-0_shop(a3e1f0c2-9b8d-4e7f-8a6b-5c4d3e2f1a0b)' } },
              lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: '2024-05-14T10:24:51Z', finishedAt: '2024-05-14T10:24:52Z' } },
            }),
          ],
        },
      }),
      health: 'DEGRADED',
      message: 'container web: CrashLoopBackOff: back-off 5m0s restarting failed container=web pod=web-0_shop(a3e1f0c2-9b8d-4e7f-8a6b-5c4d3e2f1a0b)',
    },
    {
      name: 'a pending pod that cannot pull its image is degraded',
      object: pod({
        status: {
          phase: 'Pending',
          conditions: notReady,
          containerStatuses: [
            runningContainer('web', {
              ready: false,
              started: false,
              state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "ghcr.io/acme/web:1.4.3"' } },
            }),
          ],
        },
      }),
      health: 'DEGRADED',
      message: 'container web: ImagePullBackOff: Back-off pulling image "ghcr.io/acme/web:1.4.3"',
    },
    {
      name: 'an image that does not exist is degraded on the first pull error, whatever the restart policy',
      object: pod({
        restartPolicy: 'OnFailure',
        status: {
          phase: 'Pending',
          conditions: notReady,
          containerStatuses: [runningContainer('web', { ready: false, started: false, state: { waiting: { reason: 'ErrImagePull', message: 'rpc error: code = NotFound desc = failed to pull and unpack image' } } })],
        },
      }),
      health: 'DEGRADED',
      message: 'container web: ErrImagePull: rpc error: code = NotFound desc = failed to pull and unpack image',
    },
    {
      name: 'a failing init container makes the pod degraded',
      object: pod({
        status: {
          phase: 'Pending',
          conditions: notReady,
          initContainerStatuses: [
            runningContainer('migrate', { ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=migrate' } } }),
          ],
          containerStatuses: [runningContainer('web', { ready: false, started: false, state: { waiting: { reason: 'PodInitializing' } } })],
        },
      }),
      health: 'DEGRADED',
      message: 'container migrate: CrashLoopBackOff: back-off 40s restarting failed container=migrate',
    },
    {
      name: 'an unschedulable pod is progressing with the scheduler message',
      object: pod({
        status: {
          phase: 'Pending',
          conditions: [
            podCondition('PodScheduled', 'False', {
              reason: 'Unschedulable',
              message: '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
            }),
          ],
          containerStatuses: undefined,
          hostIP: undefined,
          podIP: undefined,
        },
      }),
      health: 'PROGRESSING',
      message: expect.stringMatching(/^Pod not scheduled: Unschedulable: 0\/3 nodes are available: 3 Insufficient cpu\./),
    },
    {
      name: 'a scheduled pod creating its containers is progressing',
      object: pod({
        status: {
          phase: 'Pending',
          conditions: notReady,
          containerStatuses: [runningContainer('web', { ready: false, started: false, state: { waiting: { reason: 'ContainerCreating' } } })],
        },
      }),
      health: 'PROGRESSING',
      message: 'Pod pending: ContainerCreating',
    },
    {
      name: 'a running pod whose container is not ready yet is progressing',
      object: pod({ status: { conditions: notReady, containerStatuses: [runningContainer('web', { ready: false })] } }),
      health: 'PROGRESSING',
      message: 'waiting for containers to be ready: web',
    },
    {
      name: 'a running pod whose container restarted and is not ready is degraded',
      object: pod({
        status: {
          conditions: notReady,
          containerStatuses: [
            runningContainer('web', {
              ready: false,
              restartCount: 2,
              lastState: { terminated: { exitCode: 137, reason: 'Error', startedAt: '2024-05-14T10:22:00Z', finishedAt: '2024-05-14T10:25:00Z' } },
            }),
          ],
        },
      }),
      health: 'DEGRADED',
      message: 'container web restarted 2 times and is not ready (last exit: Error, code 137)',
    },
    {
      name: 'a ready pod that restarted once in the past is healthy',
      object: pod({ status: { containerStatuses: [runningContainer('web', { restartCount: 1, lastState: { terminated: { exitCode: 1, reason: 'Error' } } })] } }),
      health: 'HEALTHY',
      message: 'Pod running, 1/1 containers ready',
    },
    {
      name: 'a running pod with restartPolicy Never is progressing until it completes, even when ready',
      object: pod({ restartPolicy: 'Never' }),
      health: 'PROGRESSING',
      message: 'Pod running to completion (restartPolicy Never)',
    },
    {
      name: 'a running pod with restartPolicy OnFailure is progressing until it completes',
      object: pod({ restartPolicy: 'OnFailure' }),
      health: 'PROGRESSING',
      message: 'Pod running to completion (restartPolicy OnFailure)',
    },
    {
      name: 'a pod on a node that stopped reporting is unknown',
      object: pod({ status: { phase: 'Unknown', message: 'node node-a is not ready' } }),
      health: 'UNKNOWN',
      message: 'Pod phase is Unknown: node node-a is not ready',
    },
  ])('$name', ({ object, health, message }) => {
    expect(judge(object)).toEqual({ health, message });
  });
});
