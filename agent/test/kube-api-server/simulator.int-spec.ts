import * as k8s from '@kubernetes/client-node';
import { Health } from '@flotilla/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judgeResource } from '../../src/core/health/index.js';
import { eventually } from '../support/eventually.js';
import { FAIL_ANNOTATION, KubeApiTestServer, SIMULATED_NODES, type KubeObject } from './index.js';
import { clientsFor, deployment, managersOf, serverSideApply, type Clients, type Manifest } from './spec-support.js';

// The workload simulator, judged by the agent's own health rules: rollouts go PROGRESSING then
// HEALTHY, the failure knob makes them DEGRADED, and every status write is a real write (new
// resourceVersion, watch event, same generation).

let server: KubeApiTestServer;
let clients: Clients;

beforeAll(async () => {
  server = await KubeApiTestServer.start({ simulatorTickMs: 10 });
  clients = clientsFor(server);
});
afterAll(() => server.close());

const get = (apiVersion: string, kind: string, name: string): KubeObject => server.getObject({ apiVersion, kind, namespace: 'default', name })!;
const healthOf = (object: KubeObject | k8s.KubernetesObject): Health => judgeResource(object as unknown as Record<string, unknown>, Date.now()).health;
const statusOf = (object: KubeObject): Record<string, unknown> => (object['status'] ?? {}) as Record<string, unknown>;
const failing = { [FAIL_ANNOTATION]: 'true' };

/** Every health the object went through, from the watch of its kind after `resourceVersion`. */
async function healthTrail(path: string, name: string, resourceVersion: string, until: (health: Health) => boolean): Promise<Health[]> {
  const trail: Health[] = [];
  let controller: AbortController | undefined;
  const finished = new Promise<void>((resolve, reject) => {
    void new k8s.Watch(clients.config)
      .watch(
        path,
        { resourceVersion, fieldSelector: `metadata.name=${name}` },
        (_type, object: k8s.KubernetesObject) => {
          const health = healthOf(object);
          if (trail[trail.length - 1] !== health) trail.push(health);
          if (until(health)) resolve();
        },
        (error) => (error ? reject(error as Error) : resolve()),
      )
      .then((started) => (controller = started));
  });
  await finished;
  controller?.abort();
  return trail;
}

describe('workload simulator', () => {
  it('takes a new Deployment from PROGRESSING to HEALTHY, observing its generation', async () => {
    const created = await serverSideApply(clients, deployment('sim-web', { replicas: 3 }), 'flotilla-agent');
    const trail = await healthTrail('/apis/apps/v1/namespaces/default/deployments', 'sim-web', created.metadata!.resourceVersion!, (health) => health === Health.HEALTHY);
    expect(trail).toEqual([Health.PROGRESSING, Health.HEALTHY]);
    const live = get('apps/v1', 'Deployment', 'sim-web');
    expect(live.metadata.generation).toBe(1);
    expect(statusOf(live)).toMatchObject({ observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    expect(statusOf(live)['conditions']).toEqual([
      expect.objectContaining({ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }),
      expect.objectContaining({ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }),
    ]);
    expect(managersOf(live)).toEqual(['flotilla-agent/Apply', 'kube-controller-manager/Update/status']);
  });

  it('rolls a changed Deployment out again under its new generation', async () => {
    await serverSideApply(clients, deployment('sim-rollout'), 'flotilla-agent');
    await eventually(() => expect(healthOf(get('apps/v1', 'Deployment', 'sim-rollout'))).toBe(Health.HEALTHY));
    const updated = await serverSideApply(clients, deployment('sim-rollout', { image: 'nginx:1.28' }), 'flotilla-agent');
    expect(updated.metadata?.generation).toBe(2);
    const trail = await healthTrail('/apis/apps/v1/namespaces/default/deployments', 'sim-rollout', updated.metadata!.resourceVersion!, (health) => health === Health.HEALTHY);
    expect(trail).toEqual([Health.PROGRESSING, Health.HEALTHY]);
    expect(statusOf(get('apps/v1', 'Deployment', 'sim-rollout'))['observedGeneration']).toBe(2);
  });

  it('never makes a Deployment annotated to fail available, and reports ProgressDeadlineExceeded', async () => {
    await serverSideApply(clients, deployment('sim-broken', { annotations: failing }), 'flotilla-agent');
    await eventually(() => expect(healthOf(get('apps/v1', 'Deployment', 'sim-broken'))).toBe(Health.DEGRADED));
    const status = statusOf(get('apps/v1', 'Deployment', 'sim-broken'));
    expect(status).toMatchObject({ observedGeneration: 1, availableReplicas: 0 });
    expect(status['conditions']).toContainEqual(expect.objectContaining({ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }));
  });

  it.each([
    ['StatefulSet', { currentReplicas: 2, updatedReplicas: 2, readyReplicas: 2, observedGeneration: 1 }],
    ['ReplicaSet', { replicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 }],
    ['DaemonSet', { desiredNumberScheduled: SIMULATED_NODES, updatedNumberScheduled: SIMULATED_NODES, numberAvailable: SIMULATED_NODES, numberReady: SIMULATED_NODES, observedGeneration: 1 }],
  ])('brings a %s to HEALTHY with its counters filled in', async (kind, expected) => {
    const name = `sim-${kind.toLowerCase()}`;
    const manifest = { ...deployment(name, { replicas: 2 }), kind } as Manifest & { spec: Record<string, unknown> };
    if (kind === 'DaemonSet') delete manifest.spec['replicas'];
    await serverSideApply(clients, manifest, 'flotilla-agent');
    await eventually(() => expect(healthOf(get('apps/v1', kind, name))).toBe(Health.HEALTHY));
    const status = statusOf(get('apps/v1', kind, name));
    expect(status).toMatchObject(expected);
    if (kind === 'StatefulSet') expect(status['currentRevision']).toBe(status['updateRevision']);
  });

  it('completes a Job, and fails one annotated to fail', async () => {
    const job = (name: string, annotations?: Record<string, string>) => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, ...(annotations === undefined ? {} : { annotations }) },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.36' }] } } },
    });
    await serverSideApply(clients, job('sim-job'), 'flotilla-agent');
    await serverSideApply(clients, job('sim-job-broken', failing), 'flotilla-agent');
    await eventually(() => expect(healthOf(get('batch/v1', 'Job', 'sim-job'))).toBe(Health.HEALTHY));
    expect(statusOf(get('batch/v1', 'Job', 'sim-job'))).toMatchObject({ succeeded: 1, completionTime: expect.any(String), conditions: expect.arrayContaining([expect.objectContaining({ type: 'Complete', status: 'True' })]) });
    await eventually(() => expect(healthOf(get('batch/v1', 'Job', 'sim-job-broken'))).toBe(Health.DEGRADED));
    expect(statusOf(get('batch/v1', 'Job', 'sim-job-broken'))['conditions']).toContainEqual(expect.objectContaining({ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }));
  });

  it('binds claims, publishes load balancer addresses and runs pods', async () => {
    await serverSideApply(clients, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'sim-claim' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }, 'flotilla-agent');
    await serverSideApply(clients, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'sim-lb' }, spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80 }] } }, 'flotilla-agent');
    await serverSideApply(clients, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'sim-pod' }, spec: { containers: [{ name: 'main', image: 'nginx:1.27' }] } }, 'flotilla-agent');
    await eventually(() => {
      expect(statusOf(get('v1', 'PersistentVolumeClaim', 'sim-claim'))).toMatchObject({ phase: 'Bound', capacity: { storage: '1Gi' } });
      expect(statusOf(get('v1', 'Service', 'sim-lb'))).toMatchObject({ loadBalancer: { ingress: [{ ip: expect.stringMatching(/^192\.0\.2\.\d+$/) }] } });
      expect(healthOf(get('v1', 'Pod', 'sim-pod'))).toBe(Health.HEALTHY);
    });
    expect(statusOf(get('v1', 'Pod', 'sim-pod'))).toMatchObject({ phase: 'Running', conditions: expect.arrayContaining([expect.objectContaining({ type: 'Ready', status: 'True' })]) });
  });

  it('gives every namespace its default ServiceAccount and kube-root-ca.crt ConfigMap, like the namespace controllers', async () => {
    await clients.core.createNamespace({ body: { metadata: { name: 'sim-fresh' } } });
    await eventually(() => expect(server.listObjects({ namespace: 'sim-fresh' }).map((object) => `${object.kind}/${object.metadata.name}`)).toEqual(['ConfigMap/kube-root-ca.crt', 'ServiceAccount/default']));
  });

  it('writes status through the store: a new resourceVersion for each change, the same generation', async () => {
    const created = await serverSideApply(clients, deployment('sim-versions'), 'flotilla-agent');
    await eventually(() => expect(healthOf(get('apps/v1', 'Deployment', 'sim-versions'))).toBe(Health.HEALTHY));
    const live = get('apps/v1', 'Deployment', 'sim-versions');
    expect(Number(live.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata!.resourceVersion));
    expect(live.metadata.generation).toBe(created.metadata!.generation);
  });
});
