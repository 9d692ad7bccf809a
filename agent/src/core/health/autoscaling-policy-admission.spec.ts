import { Health } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { countReadyEndpoints, type RelatedObjects } from './admission.js';
import { judgeResource } from './judge-resource.js';

const NOW = Date.parse('2024-05-14T10:30:00Z');

function judge(object: Record<string, unknown>, related?: RelatedObjects): { health: string; message: string } {
  const { health, message } = judgeResource(object, NOW, related);
  return { health: Health[health], message };
}

const condition = (type: string, status: string, reason: string, message = '') => ({ type, status, reason, message, lastTransitionTime: '2024-05-14T10:00:00Z' });

function hpa(conditions: readonly object[], status: Record<string, unknown> = { currentReplicas: 3, desiredReplicas: 3 }) {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'shop', generation: 1 },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 10 },
    status: { observedGeneration: 1, ...status, ...(conditions.length > 0 ? { conditions } : {}) },
  };
}

describe('HorizontalPodAutoscaler', () => {
  it.each([
    ['HEALTHY', 'both conditions hold', [condition('AbleToScale', 'True', 'ReadyForNewScale'), condition('ScalingActive', 'True', 'ValidMetricFound')], '3 current, 3 desired replicas'],
    [
      'HEALTHY',
      'the replica count is limited',
      [condition('AbleToScale', 'True', 'ReadyForNewScale'), condition('ScalingActive', 'True', 'ValidMetricFound'), condition('ScalingLimited', 'True', 'TooManyReplicas', 'the desired replica count is more than the maximum replica count')],
      '3 current, 3 desired replicas; limited: TooManyReplicas: the desired replica count is more than the maximum replica count',
    ],
    ['PROGRESSING', 'the controller has not reported', [], 'waiting for the autoscaler to compute a replica count'],
    [
      'DEGRADED',
      'it cannot read the scale of its target',
      [condition('AbleToScale', 'False', 'FailedGetScale', 'deployments/scale.apps "web" not found'), condition('ScalingActive', 'False', 'FailedGetScale')],
      'cannot scale: FailedGetScale: deployments/scale.apps "web" not found',
    ],
    [
      'DEGRADED',
      'metrics are missing',
      [condition('AbleToScale', 'True', 'SucceededGetScale'), condition('ScalingActive', 'False', 'FailedGetResourceMetric', 'unable to get metrics for resource cpu')],
      'scaling is not active: FailedGetResourceMetric: unable to get metrics for resource cpu',
    ],
    [
      'HEALTHY',
      'its target is scaled to zero',
      [condition('AbleToScale', 'True', 'SucceededGetScale'), condition('ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero')],
      'scaling disabled: ScalingDisabled: scaling is disabled since the replica count of the target is zero',
    ],
  ] as const)('is %s when %s', (health, _case, conditions, message) => {
    expect(judge(hpa(conditions))).toEqual({ health, message });
  });
});

function pdb(status: Record<string, unknown> | undefined) {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'web', namespace: 'shop', generation: 1 },
    spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } },
    ...(status === undefined ? {} : { status: { observedGeneration: 1, ...status } }),
  };
}

describe('PodDisruptionBudget', () => {
  it.each([
    ['PROGRESSING', 'the controller has not counted', undefined, 'waiting for the disruption controller to count pods'],
    [
      'HEALTHY',
      'disruptions are allowed',
      { currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1, expectedPods: 3, conditions: [condition('DisruptionAllowed', 'True', 'SufficientPods')] },
      '1 disruption allowed; 3 of 2 desired healthy',
    ],
    [
      'DEGRADED',
      'fewer pods are healthy than desired',
      { currentHealthy: 1, desiredHealthy: 2, disruptionsAllowed: 0, expectedPods: 3, conditions: [condition('DisruptionAllowed', 'False', 'InsufficientPods')] },
      '1 pod short of the budget: 1 of 2 desired healthy',
    ],
    [
      'HEALTHY',
      'the budget allows no disruption by design',
      { currentHealthy: 3, desiredHealthy: 3, disruptionsAllowed: 0, expectedPods: 3, conditions: [condition('DisruptionAllowed', 'False', 'InsufficientPods')] },
      'no disruption allowed by the budget; 3 of 3 desired healthy',
    ],
    [
      'DEGRADED',
      'the controller cannot evaluate it',
      { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0, conditions: [condition('DisruptionAllowed', 'False', 'SyncFailed', 'found no controllers for pod "web-1"')] },
      'budget not evaluated: SyncFailed: found no controllers for pod "web-1"',
    ],
  ] as const)('is %s when %s', (health, _case, status, message) => {
    expect(judge(pdb(status))).toEqual({ health, message });
  });
});

function webhooks(kind: string, ...services: readonly ({ namespace: string; name: string } | { url: string })[]) {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind,
    metadata: { name: 'cert-manager-webhook', generation: 1 },
    webhooks: services.map((target, index) => ({
      name: `webhook-${index}.cert-manager.io`,
      clientConfig: 'url' in target ? { url: target.url } : { service: { ...target, path: '/mutate', port: 443 } },
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      failurePolicy: 'Fail',
    })),
  };
}

const endpoints = (ready: Record<string, number | undefined>): RelatedObjects => ({ readyEndpoints: (namespace, name) => ready[`${namespace}/${name}`] });

describe('webhook configurations', () => {
  it.each(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'])('judges a %s by the ready endpoints of its services', (kind) => {
    const config = webhooks(kind, { url: 'https://hooks.example.com/v' }, { namespace: 'cert-manager', name: 'cert-manager-webhook' });
    expect(judge(config, endpoints({ 'cert-manager/cert-manager-webhook': 2 }))).toEqual({ health: 'HEALTHY', message: '2 webhooks configured' });
    expect(judge(config, endpoints({ 'cert-manager/cert-manager-webhook': 0 }))).toEqual({
      health: 'DEGRADED',
      message: 'webhook webhook-1.cert-manager.io: service cert-manager/cert-manager-webhook has no ready endpoint (failurePolicy Fail)',
    });
  });

  it.each([
    ['no related objects are known', undefined],
    ["the service's endpoints are unknown", endpoints({})],
  ])('is HEALTHY when %s', (_case, related) => {
    expect(judge(webhooks('ValidatingWebhookConfiguration', { namespace: 'cert-manager', name: 'cert-manager-webhook' }), related)).toEqual({ health: 'HEALTHY', message: '1 webhook configured' });
  });

  it('counts ready addresses of EndpointSlices and Endpoints, an absent ready condition counting as ready', () => {
    const slice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }, { addresses: ['10.0.0.2'], conditions: { ready: false } }, { addresses: ['10.0.0.3'] }],
    };
    const legacy = { apiVersion: 'v1', kind: 'Endpoints', subsets: [{ addresses: [{ ip: '10.0.0.4' }], notReadyAddresses: [{ ip: '10.0.0.5' }] }] };
    expect(countReadyEndpoints([slice, legacy])).toBe(3);
    expect(countReadyEndpoints([])).toBe(0);
  });
});
