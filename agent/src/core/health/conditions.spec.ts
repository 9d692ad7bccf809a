import { Health } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { judgeResource } from './judge-resource.js';

const NOW = Date.parse('2024-05-14T10:30:00Z');

function judge(object: Record<string, unknown>): { health: string; message: string } {
  const { health, message } = judgeResource(object, NOW);
  return { health: Health[health], message };
}

const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, observedGeneration: 2, lastTransitionTime: '2024-05-14T10:25:00Z' });

// A cert-manager Certificate: Ready is its readiness condition.
function certificate(conditions: object[], { generation = 2, observedGeneration }: { generation?: number; observedGeneration?: number } = {}) {
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: 'shop-tls', namespace: 'shop', uid: '4d5e6f7a-8b9c-4d0e-8f1a-2b3c4d5e6f7a', resourceVersion: '813300', generation, creationTimestamp: '2024-05-01T08:00:00Z' },
    spec: { secretName: 'shop-tls', dnsNames: ['shop.example.com'], issuerRef: { name: 'letsencrypt', kind: 'ClusterIssuer' } },
    status: {
      conditions,
      notAfter: '2024-08-12T09:00:00Z',
      notBefore: '2024-05-14T09:00:00Z',
      renewalTime: '2024-07-13T09:00:00Z',
      ...(observedGeneration === undefined ? {} : { observedGeneration }),
    },
  };
}

// A Flux Kustomization: kstatus conditions (Ready, Reconciling, Stalled) and status.observedGeneration.
function kustomization(conditions: object[], observedGeneration = 2) {
  return {
    apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
    kind: 'Kustomization',
    metadata: { name: 'apps', namespace: 'flux-system', uid: '8f9a0b1c-2d3e-4f4a-8b5c-6d7e8f9a0b1c', resourceVersion: '813350', generation: 2, creationTimestamp: '2024-05-01T08:00:00Z' },
    spec: { interval: '10m', path: './apps', prune: true, sourceRef: { kind: 'GitRepository', name: 'fleet' } },
    status: { observedGeneration, conditions, lastAttemptedRevision: 'main@sha1:5b1e0c2d' },
  };
}

describe('kinds without a rule of their own, judged by their conditions', () => {
  it.each([
    {
      name: 'a custom resource whose Ready condition is True is healthy',
      object: certificate([cond('Ready', 'True', 'Ready', 'Certificate is up to date and has not expired')]),
      health: 'HEALTHY',
      message: 'Ready: Certificate is up to date and has not expired',
    },
    {
      name: 'a custom resource whose Ready condition is False for a failure is degraded',
      object: certificate([cond('Ready', 'False', 'DoesNotExist', 'Issuing certificate as Secret does not exist'), cond('Issuing', 'False', 'Failed', 'The certificate request has failed to complete and will be retried: ACME order failed')]),
      health: 'DEGRADED',
      message: 'not Ready: DoesNotExist: Issuing certificate as Secret does not exist',
    },
    {
      name: 'Ready False while the object says it is still progressing is progressing',
      object: kustomization([cond('Ready', 'False', 'Progressing', 'Reconciliation in progress'), cond('Reconciling', 'True', 'Progressing', 'Reconciliation in progress')]),
      health: 'PROGRESSING',
      message: 'not Ready: Progressing: Reconciliation in progress',
    },
    {
      name: 'Ready False with a reason naming work in progress is progressing',
      object: certificate([cond('Ready', 'False', 'Pending', 'Waiting for CertificateRequest "shop-tls-1" to complete')]),
      health: 'PROGRESSING',
      message: 'not Ready: Pending: Waiting for CertificateRequest "shop-tls-1" to complete',
    },
    {
      name: 'a reason that names progress but also a failure is a failure',
      object: certificate([cond('Ready', 'False', 'ProgressDeadlineExceeded', 'gave up waiting')]),
      health: 'DEGRADED',
      message: 'not Ready: ProgressDeadlineExceeded: gave up waiting',
    },
    {
      name: 'Stalled True means the controller gave up: degraded, even with Reconciling True',
      object: kustomization([
        cond('Ready', 'False', 'BuildFailed', 'kustomize build failed: accumulating resources from ./apps'),
        cond('Stalled', 'True', 'BuildFailed', 'kustomize build failed: accumulating resources from ./apps'),
        cond('Reconciling', 'True', 'ProgressingWithRetry', 'retrying'),
      ]),
      health: 'DEGRADED',
      message: 'Stalled: BuildFailed: kustomize build failed: accumulating resources from ./apps',
    },
    {
      name: 'Reconciling True is progressing even while Ready is still True from the last run',
      object: kustomization([cond('Ready', 'True', 'ReconciliationSucceeded', 'Applied revision: main@sha1:4a0d9c1b'), cond('Reconciling', 'True', 'Progressing', 'Fetching manifests for revision main@sha1:5b1e0c2d')]),
      health: 'PROGRESSING',
      message: 'Reconciling: Progressing: Fetching manifests for revision main@sha1:5b1e0c2d',
    },
    {
      name: 'Ready Unknown is progressing',
      object: kustomization([cond('Ready', 'Unknown', 'Progressing', 'Reconciliation in progress')]),
      health: 'PROGRESSING',
      message: 'Ready is Unknown: Progressing: Reconciliation in progress',
    },
    {
      name: 'an operator reporting Degraded True is degraded even while Available',
      object: certificate([cond('Available', 'True', 'AsExpected', ''), cond('Degraded', 'True', 'ReplicasUnavailable', '1 of 3 replicas are unavailable')]),
      health: 'DEGRADED',
      message: 'Degraded: ReplicasUnavailable: 1 of 3 replicas are unavailable',
    },
    {
      name: 'Available True is healthy, for APIService-style objects',
      object: {
        apiVersion: 'apiregistration.k8s.io/v1',
        kind: 'APIService',
        metadata: { name: 'v1beta1.metrics.k8s.io', uid: '0c1d2e3f-4a5b-4c6d-8e7f-8a9b0c1d2e3f', resourceVersion: '810001', creationTimestamp: '2024-05-01T08:00:00Z' },
        spec: { group: 'metrics.k8s.io', version: 'v1beta1', groupPriorityMinimum: 100, versionPriority: 100, service: { name: 'metrics-server', namespace: 'kube-system', port: 443 } },
        status: { conditions: [{ type: 'Available', status: 'True', reason: 'Passed', message: 'all checks passed', lastTransitionTime: '2024-05-01T08:01:00Z' }] },
      },
      health: 'HEALTHY',
      message: 'Available: all checks passed',
    },
    {
      name: 'Available False is degraded, for APIService-style objects',
      object: {
        apiVersion: 'apiregistration.k8s.io/v1',
        kind: 'APIService',
        metadata: { name: 'v1beta1.metrics.k8s.io', uid: '0c1d2e3f-4a5b-4c6d-8e7f-8a9b0c1d2e3f', resourceVersion: '810001', creationTimestamp: '2024-05-01T08:00:00Z' },
        spec: { group: 'metrics.k8s.io', version: 'v1beta1', service: { name: 'metrics-server', namespace: 'kube-system', port: 443 } },
        status: {
          conditions: [{ type: 'Available', status: 'False', reason: 'MissingEndpoints', message: 'endpoints for service/metrics-server in "kube-system" have no addresses with port name "https"', lastTransitionTime: '2024-05-14T10:00:00Z' }],
        },
      },
      health: 'DEGRADED',
      message: 'not Available: MissingEndpoints: endpoints for service/metrics-server in "kube-system" have no addresses with port name "https"',
    },
    {
      name: 'Progressing True without a readiness condition is progressing',
      object: certificate([cond('Progressing', 'True', 'Provisioning', 'creating the database')]),
      health: 'PROGRESSING',
      message: 'Progressing: Provisioning: creating the database',
    },
    {
      name: 'conditions of types nobody standardised are not a problem',
      object: certificate([cond('Issuing', 'False', 'Issued', 'issued')]),
      health: 'HEALTHY',
      message: 'exists',
    },
    {
      name: 'a custom resource whose controller has not observed its generation is progressing, whatever its conditions say',
      object: certificate([cond('Ready', 'True', 'Ready', 'Certificate is up to date and has not expired')], { generation: 3, observedGeneration: 2 }),
      health: 'PROGRESSING',
      message: 'waiting for the controller to observe generation 3',
    },
    {
      name: 'a custom resource without status.observedGeneration is judged by its conditions alone',
      object: certificate([cond('Ready', 'True', 'Ready', 'up to date')], { generation: 9 }),
      health: 'HEALTHY',
      message: 'Ready: up to date',
    },
    {
      name: 'a ConfigMap, which has no status at all, is healthy because it exists',
      object: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'web-config', namespace: 'shop', uid: '6e7f8a9b-0c1d-4e2f-8a3b-4c5d6e7f8a9b', resourceVersion: '812400', creationTimestamp: '2024-05-01T08:00:00Z' },
        data: { color: 'blue', 'app.properties': 'greeting=hello\n' },
      },
      health: 'HEALTHY',
      message: 'exists',
    },
    {
      name: 'a ClusterRoleBinding is healthy because it exists',
      object: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'web-reader', uid: '7f8a9b0c-1d2e-4f3a-8b4c-5d6e7f8a9b0c', resourceVersion: '812420', creationTimestamp: '2024-05-01T08:00:00Z' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'ServiceAccount', name: 'web', namespace: 'shop' }],
      },
      health: 'HEALTHY',
      message: 'exists',
    },
  ])('$name', ({ object, health, message }) => {
    expect(judge(object)).toEqual({ health, message });
  });
});
