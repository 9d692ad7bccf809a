import { Health } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { judgeResource } from './judge-resource.js';
import { MAX_JUDGEMENT_CHARS } from './judgement.js';

const NOW = Date.parse('2024-05-14T10:30:00Z');

function judge(object: Record<string, unknown>, now = NOW): { health: string; message: string } {
  const { health, message } = judgeResource(object, now);
  return { health: Health[health], message };
}

const settledDeployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', uid: '6f1c2a7e-3b0d-4c1e-9a55-0c2d9e1f7a31', resourceVersion: '812734', generation: 7, creationTimestamp: '2024-05-01T08:00:00Z' },
  spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'ghcr.io/acme/web:1.4.2' }] } } },
  status: {
    observedGeneration: 7,
    replicas: 3,
    updatedReplicas: 3,
    readyReplicas: 3,
    availableReplicas: 3,
    conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }],
  },
};

describe('judgeResource', () => {
  it.each([
    {
      name: 'an object being deleted is progressing, with how long and the finalizers it waits for',
      object: { ...settledDeployment, metadata: { ...settledDeployment.metadata, deletionTimestamp: '2024-05-14T10:27:30Z', deletionGracePeriodSeconds: 0, finalizers: ['foregroundDeletion'] } },
      health: 'PROGRESSING',
      message: 'being deleted for 2m; waiting for finalizers: foregroundDeletion',
    },
    {
      name: 'a ConfigMap being deleted is progressing too',
      object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-config', namespace: 'shop', deletionTimestamp: '2024-05-14T10:29:50Z' }, data: { color: 'blue' } },
      health: 'PROGRESSING',
      message: 'being deleted for 10s',
    },
    {
      name: 'a kind called Deployment in another API group is judged by its conditions, not by the apps/v1 rule',
      object: {
        apiVersion: 'acme.io/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: 'shop', generation: 1 },
        spec: { target: 'prod' },
        status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Deployed', message: 'deployed to prod' }] },
      },
      health: 'HEALTHY',
      message: 'Ready: deployed to prod',
    },
    { name: 'an object without a kind is unknown, saying so', object: { apiVersion: 'v1', metadata: { name: 'x' } }, health: 'UNKNOWN', message: 'not a Kubernetes object: no kind' },
    { name: 'an object without an apiVersion is unknown, saying so', object: { kind: 'ConfigMap', metadata: { name: 'x' } }, health: 'UNKNOWN', message: 'not a Kubernetes object: no apiVersion' },
    {
      name: 'mistyped status fields read as absent instead of failing the judgement',
      object: { ...settledDeployment, status: { ...settledDeployment.status, updatedReplicas: '3', conditions: 'none' } },
      health: 'PROGRESSING',
      message: '0 of 3 replicas updated',
    },
  ])('$name', ({ object, health, message }) => {
    expect(judge(object)).toEqual({ health, message });
  });

  it('judges an array or null given where an object belongs as unknown instead of throwing', () => {
    expect(judge([] as unknown as Record<string, unknown>)).toEqual({ health: 'UNKNOWN', message: 'not a Kubernetes object' });
    expect(judge(null as unknown as Record<string, unknown>)).toEqual({ health: 'UNKNOWN', message: 'not a Kubernetes object' });
  });

  it('keeps messages to one bounded line, however long the controller text is', () => {
    const object = {
      apiVersion: 'acme.io/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'shop' },
      status: { conditions: [{ type: 'Ready', status: 'False', reason: 'Failed', message: `line one\nline two\t${'x'.repeat(1000)}` }] },
    };
    const { health, message } = judge(object);
    expect(health).toBe('DEGRADED');
    expect(message.length).toBe(MAX_JUDGEMENT_CHARS);
    expect(message).toMatch(/^not Ready: Failed: line one line two x+…\[truncated\]$/);
  });

  it('does not change the object it judges', () => {
    const object = structuredClone(settledDeployment);
    judgeResource(object, NOW);
    expect(object).toEqual(settledDeployment);
  });

  it('gives the same judgement for the same object and time', () => {
    expect(judgeResource(settledDeployment, NOW)).toEqual(judgeResource(structuredClone(settledDeployment), NOW));
  });
});
