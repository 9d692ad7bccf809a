import { Health } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { judgeResource } from './judge-resource.js';

const NOW = Date.parse('2024-05-14T10:30:00Z');

function judge(object: Record<string, unknown>): { health: string; message: string } {
  const { health, message } = judgeResource(object, NOW);
  return { health: Health[health], message };
}

const crdCondition = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastTransitionTime: '2024-05-14T10:29:58Z' });

function crd(conditions: object[] | undefined) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.acme.io', uid: '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f', resourceVersion: '813200', generation: 1, creationTimestamp: '2024-05-14T10:29:58Z' },
    spec: {
      group: 'acme.io',
      names: { kind: 'Widget', listKind: 'WidgetList', plural: 'widgets', singular: 'widget' },
      scope: 'Namespaced',
      versions: [
        { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
        { name: 'v1beta1', served: false, storage: false, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
      ],
      conversion: { strategy: 'None' },
    },
    status: {
      acceptedNames: { kind: 'Widget', listKind: 'WidgetList', plural: 'widgets', singular: 'widget' },
      storedVersions: ['v1'],
      ...(conditions === undefined ? {} : { conditions }),
    },
  };
}

const namesAccepted = crdCondition('NamesAccepted', 'True', 'NoConflicts', 'no conflicts found');

describe('CustomResourceDefinition', () => {
  it.each([
    {
      name: 'an established CRD is healthy and names its kind and served versions',
      object: crd([namesAccepted, crdCondition('Established', 'True', 'InitialNamesAccepted', 'the initial names have been accepted')]),
      health: 'HEALTHY',
      message: 'CRD is established: Widget (v1)',
    },
    {
      name: 'a CRD whose names clash with another is degraded',
      object: crd([
        crdCondition('NamesAccepted', 'False', 'KindConflict', '"Widget" is already in use'),
        crdCondition('Established', 'False', 'NotAccepted', 'not all names are accepted'),
      ]),
      health: 'DEGRADED',
      message: 'CRD names not accepted: KindConflict: "Widget" is already in use',
    },
    {
      name: 'a CRD with a non-structural schema is degraded',
      object: crd([
        namesAccepted,
        crdCondition('Established', 'True', 'InitialNamesAccepted', 'the initial names have been accepted'),
        crdCondition('NonStructuralSchema', 'True', 'Violations', 'spec.versions[0].schema.openAPIV3Schema.type: Required value: must not be empty at the root'),
      ]),
      health: 'DEGRADED',
      message: 'CRD schema is not structural: Violations: spec.versions[0].schema.openAPIV3Schema.type: Required value: must not be empty at the root',
    },
    {
      name: 'a CRD whose names are accepted but that is not served yet is progressing',
      object: crd([namesAccepted, crdCondition('Established', 'False', 'Installing', 'the initial names have been accepted')]),
      health: 'PROGRESSING',
      message: 'waiting for the CRD to be established: Installing: the initial names have been accepted',
    },
    { name: 'a CRD just created, without conditions, is progressing', object: crd(undefined), health: 'PROGRESSING', message: 'waiting for the CRD to be established' },
  ])('$name', ({ object, health, message }) => {
    expect(judge(object)).toEqual({ health, message });
  });
});
