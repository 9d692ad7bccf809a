import { Health } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { judgeResource } from './judge-resource.js';

const NOW = Date.parse('2024-05-14T10:30:00Z');

function judge(object: Record<string, unknown>): { health: string; message: string } {
  const { health, message } = judgeResource(object, NOW);
  return { health: Health[health], message };
}

const nsCondition = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastTransitionTime: '2024-05-14T10:28:00Z' });

function namespace({ deleting = false, status = { phase: 'Active' } }: { deleting?: boolean; status?: object } = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: 'shop',
      uid: '2e3f4a5b-6c7d-4e8f-9a0b-1c2d3e4f5a6b',
      resourceVersion: '813010',
      creationTimestamp: '2024-05-01T08:00:00Z',
      labels: { 'kubernetes.io/metadata.name': 'shop' },
      ...(deleting ? { deletionTimestamp: '2024-05-14T10:28:00Z' } : {}),
    },
    spec: { finalizers: ['kubernetes'] },
    status,
  };
}

describe('Namespace', () => {
  it.each([
    { name: 'an active namespace is healthy', object: namespace(), health: 'HEALTHY', message: 'Namespace is active' },
    {
      name: 'a terminating namespace waiting for its content to go is progressing',
      object: namespace({
        deleting: true,
        status: {
          phase: 'Terminating',
          conditions: [
            nsCondition('NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered', 'All resources successfully discovered'),
            nsCondition('NamespaceDeletionGroupVersionParsingFailure', 'False', 'ParsedGroupVersions', 'All legacy kube types successfully parsed'),
            nsCondition('NamespaceDeletionContentFailure', 'False', 'ContentDeleted', 'All content successfully deleted, may be waiting on finalization'),
            nsCondition('NamespaceContentRemaining', 'True', 'SomeResourcesRemain', 'Some resources are remaining: pods. has 2 resource instances'),
            nsCondition('NamespaceFinalizersRemaining', 'False', 'ContentHasNoFinalizers', 'All content-preserving finalizers finished'),
          ],
        },
      }),
      health: 'PROGRESSING',
      message: 'Namespace is being deleted: SomeResourcesRemain: Some resources are remaining: pods. has 2 resource instances',
    },
    {
      name: 'a terminating namespace whose content cannot be discovered is degraded, because it will not finish alone',
      object: namespace({
        deleting: true,
        status: {
          phase: 'Terminating',
          conditions: [
            nsCondition(
              'NamespaceDeletionDiscoveryFailure',
              'True',
              'DiscoveryFailed',
              'Discovery failed for some groups, 1 failing: unable to retrieve the complete list of server APIs: metrics.k8s.io/v1beta1: the server is currently unable to handle the request',
            ),
          ],
        },
      }),
      health: 'DEGRADED',
      message: expect.stringMatching(/^Namespace deletion is stuck: DiscoveryFailed: Discovery failed for some groups/),
    },
    {
      name: 'a namespace with a deletion timestamp but no status yet is progressing',
      object: namespace({ deleting: true, status: {} }),
      health: 'PROGRESSING',
      message: 'Namespace is being deleted',
    },
  ])('$name', ({ object, health, message }) => {
    expect(judge(object)).toEqual({ health, message });
  });
});
