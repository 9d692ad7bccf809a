import { Health, SyncStatus } from '@flotilla/proto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/core/desired-state.js';
import type { AppStatus } from '../../src/driver/cluster-driver.js';
import { eventually } from '../support/eventually.js';
import { appSpec, createNamespace, deploymentObject, readLive, resourceOf, serviceObject, startDriver, type DriverUnderTest } from './support/harness.js';
import { describeForTargets } from './support/suite.js';
import { startTestServerTarget, type KubeTarget } from './support/targets.js';

// What a real chart carries besides workloads (webhooks, autoscaling, disruption budgets, network
// policy, storage), applied through the real driver; and what the driver does when an upgrade meets a
// field the API server will not change.

const summary = (status: AppStatus | undefined) => `${Health[status?.health ?? 0]}/${SyncStatus[status?.syncStatus ?? 0]}`;
const specOf = (object: Record<string, unknown> | undefined) => object?.['spec'] as { template?: { spec?: { containers?: { image: string }[] } } } | undefined;

const migrationJob = (image: string): Manifest => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'migrate' },
  spec: { backoffLimit: 1, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image }] } } },
});

describeForTargets('the Kubernetes driver meeting an immutable field', (target) => {
  let under: DriverUnderTest;

  beforeAll(async () => {
    under = await startDriver(target());
  }, 30_000);
  afterAll(async () => {
    await under?.close();
  }, 30_000);

  it("reports the App FAILED with the API server's message when an upgrade changes a Job's pod template, and leaves the Job as it was", async () => {
    const ns = target().namespace('immutable');
    await createNamespace(target(), ns);
    expect(await under.driver.apply(appSpec('upgrade', ns, [migrationJob('registry.k8s.io/pause:3.9')]))).toEqual({ kind: 'done' });

    const result = await under.driver.apply(appSpec('upgrade', ns, [migrationJob('registry.k8s.io/pause:3.10'), serviceObject('web')], {}, 2n));

    expect(result).toMatchObject({ kind: 'failed', retryAfterMs: expect.any(Number) });
    expect(result.kind === 'failed' && result.message).toMatch(/^1 of 2 objects failed to apply: Job\.batch [^ ]+\/migrate: .*422 Invalid: Job\.batch "migrate" is invalid: spec\.template: Invalid value: .*: field is immutable$/);
    expect(under.driver.status('upgrade')).toMatchObject({ syncStatus: SyncStatus.FAILED, health: Health.DEGRADED });
    expect(specOf(await readLive(target(), `/apis/batch/v1/namespaces/${ns}/jobs/migrate`))?.template?.spec?.containers?.[0]?.image).toBe('registry.k8s.io/pause:3.9');
    // The rest of the revision is applied all the same.
    expect(await readLive(target(), `/api/v1/namespaces/${ns}/services/web`)).toEqual(expect.objectContaining({ kind: 'Service' }));
  });
});

describe('the Kubernetes driver applying a chart-like set of built-in kinds to the Kubernetes API test server', () => {
  let target: KubeTarget;
  let under: DriverUnderTest | undefined;

  beforeAll(async () => {
    target = await startTestServerTarget();
  }, 30_000);
  afterEach(async () => {
    await under?.close();
    under = undefined;
  });
  afterAll(async () => {
    await target?.close();
  });

  it('applies a webhook configuration, HPA, PDB, NetworkPolicy, StorageClass and PersistentVolume and ends HEALTHY', async () => {
    under = await startDriver(target);
    const ns = target.namespace('chart');
    await createNamespace(target, ns);
    const suffix = target.suffix;
    target.cleanupLater(`/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/guard-${suffix}`);
    target.cleanupLater(`/apis/storage.k8s.io/v1/storageclasses/local-${suffix}`);
    target.cleanupLater(`/api/v1/persistentvolumes/data-${suffix}`);
    const manifests: Manifest[] = [
      deploymentObject('web', { replicas: 2 }),
      serviceObject('web'),
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: `guard-${suffix}` },
        webhooks: [
          {
            name: 'guard.example.com',
            clientConfig: { service: { namespace: ns, name: 'web', path: '/validate' } },
            rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }],
            admissionReviewVersions: ['v1'],
            sideEffects: 'None',
            failurePolicy: 'Ignore',
          },
        ],
      },
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'web' },
        spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }] },
      },
      { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } } },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'web' },
        spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 8080, protocol: 'TCP' }] }] },
      },
      { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: `local-${suffix}` }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' },
      {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: `data-${suffix}` },
        spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: `local-${suffix}`, hostPath: { path: '/srv/data' } },
      },
    ];

    // The webhook's service has a ready endpoint (the test server runs no EndpointSlice controller).
    await target.client.request('POST', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
      body: { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.1.2.3'] }] },
    });

    expect(await under.driver.apply(appSpec('chart', ns, manifests))).toEqual({ kind: 'done' });

    await eventually(() => expect(summary(under!.driver.status('chart'))).toBe('HEALTHY/SYNCED'), { timeoutMs: 10_000, intervalMs: 50 });
    const status = under.driver.status('chart');
    expect(resourceOf(status, 'HorizontalPodAutoscaler', 'web')).toMatchObject({ health: Health.HEALTHY, message: '2 current, 2 desired replicas' });
    expect(resourceOf(status, 'PodDisruptionBudget', 'web')).toMatchObject({ health: Health.HEALTHY, message: '2 disruptions allowed; 3 of 1 desired healthy' });
    expect(resourceOf(status, 'PersistentVolume', `data-${suffix}`)).toMatchObject({ health: Health.HEALTHY, message: 'volume is available' });
    expect(resourceOf(status, 'ValidatingWebhookConfiguration', `guard-${suffix}`)?.health).toBe(Health.HEALTHY);
    expect(resourceOf(status, 'NetworkPolicy', 'web')?.health).toBe(Health.HEALTHY);
    expect(resourceOf(status, 'StorageClass', `local-${suffix}`)?.health).toBe(Health.HEALTHY);
  });
});
