import { describe, expect, it } from 'vitest';
import { orderForApply, orderForDeletion } from './apply-order.js';
import type { ObjectRef } from './object-ref.js';

const ref = (kind: string, name: string, group = ''): ObjectRef => ({ apiVersion: group === '' ? 'v1' : `${group}/v1`, group, version: 'v1', kind, namespace: '', name });
const crd = ref('CustomResourceDefinition', 'widgets.example.com', 'apiextensions.k8s.io');
const ns = ref('Namespace', 'shop');
const cm = ref('ConfigMap', 'cm');
const deploy = ref('Deployment', 'web', 'apps');
const widget = ref('Widget', 'w', 'example.com');

describe('orderForApply', () => {
  it.each([
    {
      name: 'definitions first, then namespaces, then the rest in manifest order',
      objects: [
        { ref: widget, order: 0, index: 0 },
        { ref: cm, order: 0, index: 1 },
        { ref: ns, order: 0, index: 2 },
        { ref: crd, order: 0, index: 3 },
      ],
      want: ['CustomResourceDefinition', 'Namespace', 'Widget', 'ConfigMap'],
    },
    {
      name: 'the apply-order annotation orders within a phase, lower first',
      objects: [
        { ref: deploy, order: 0, index: 0 },
        { ref: cm, order: -1, index: 1 },
        { ref: widget, order: 5, index: 2 },
      ],
      want: ['ConfigMap', 'Deployment', 'Widget'],
    },
    {
      name: 'the annotation never moves an object before its phase',
      objects: [
        { ref: cm, order: -100, index: 0 },
        { ref: ns, order: 100, index: 1 },
      ],
      want: ['Namespace', 'ConfigMap'],
    },
    {
      name: 'equal orders keep manifest order (stable)',
      objects: [
        { ref: deploy, order: 1, index: 0 },
        { ref: widget, order: 1, index: 1 },
        { ref: cm, order: 1, index: 2 },
      ],
      want: ['Deployment', 'Widget', 'ConfigMap'],
    },
  ])('$name', ({ objects, want }) => {
    expect(orderForApply(objects).map((o) => o.ref.kind)).toEqual(want);
  });

  it('does not reorder its input', () => {
    const objects = [
      { ref: cm, order: 0, index: 0 },
      { ref: crd, order: 0, index: 1 },
    ];
    orderForApply(objects);
    expect(objects.map((o) => o.ref.kind)).toEqual(['ConfigMap', 'CustomResourceDefinition']);
  });
});

describe('orderForDeletion', () => {
  it('deletes custom resources and other objects first, namespaces next, definitions last', () => {
    expect(orderForDeletion([crd, ns, widget, cm, deploy]).map((r) => r.kind)).toEqual(['ConfigMap', 'Deployment', 'Widget', 'Namespace', 'CustomResourceDefinition']);
  });
});
