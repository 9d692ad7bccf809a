import { describe, expect, it } from 'vitest';
import { kindScopeKey, prepareObjects, summarizeProblems, type KindScopes } from './desired-objects.js';

const scopes: KindScopes = new Map([
  [kindScopeKey('v1', 'ConfigMap'), true],
  [kindScopeKey('v1', 'Namespace'), false],
  [kindScopeKey('apps/v1', 'Deployment'), true],
  [kindScopeKey('apiextensions.k8s.io/v1', 'CustomResourceDefinition'), false],
  [kindScopeKey('rbac.authorization.k8s.io/v1', 'ClusterRole'), false],
]);
const app = { appName: 'web', appSet: 'web-set', namespace: 'shop' };
const configMap = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra } });
const widgetCrd = (scope: string) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: { group: 'example.com', scope, names: { kind: 'Widget', plural: 'widgets' }, versions: [{ name: 'v1', served: true, storage: true }] },
});

describe('prepareObjects', () => {
  it('puts namespaced objects that name no namespace into the App namespace and leaves cluster-scoped ones without', () => {
    const result = prepareObjects(app, [configMap('a'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }], scopes);
    expect(result.ok && result.objects.map((o) => [o.ref.kind, o.ref.namespace, o.namespaced])).toEqual([
      ['ConfigMap', 'shop', true],
      ['Namespace', '', false],
    ]);
    expect(result.ok && (result.objects[1]?.body['metadata'] as Record<string, unknown>)['namespace']).toBeUndefined();
  });

  it('keeps a namespace the manifest names', () => {
    const result = prepareObjects(app, [configMap('a', { namespace: 'other' })], scopes);
    expect(result.ok && result.objects[0]?.ref.namespace).toBe('other');
  });

  it('adds the tracking labels and annotations, overwriting values the manifest sets for them', () => {
    const result = prepareObjects(
      app,
      [configMap('a', { labels: { tier: 'web', 'flotilla.dev/app': 'someone-else' }, annotations: { note: 'x', 'flotilla.dev/app': 'someone-else' } })],
      scopes,
    );
    expect(result.ok && result.objects[0]?.body['metadata']).toEqual({
      name: 'a',
      namespace: 'shop',
      labels: { tier: 'web', 'app.kubernetes.io/managed-by': 'flotilla', 'flotilla.dev/app': 'web' },
      annotations: { note: 'x', 'flotilla.dev/app': 'web', 'flotilla.dev/app-set': 'web-set' },
    });
  });

  it('does not change the manifests it is given', () => {
    const manifest = configMap('a', { labels: { tier: 'web' } });
    const before = structuredClone(manifest);
    prepareObjects(app, [manifest], scopes);
    expect(manifest).toEqual(before);
  });

  it('takes the scope of a custom resource from the App own CustomResourceDefinition and names it', () => {
    for (const [scope, namespaced] of [['Namespaced', true], ['Cluster', false]] as const) {
      const result = prepareObjects(app, [widgetCrd(scope), { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }], scopes);
      expect(result.ok && result.objects[1]).toMatchObject({ namespaced, definedByCrd: 'widgets.example.com', ref: { namespace: namespaced ? 'shop' : '' } });
    }
  });

  it('reads the apply-order annotation', () => {
    const result = prepareObjects(app, [configMap('a', { annotations: { 'flotilla.dev/apply-order': '-3' } }), configMap('b')], scopes);
    expect(result.ok && result.objects.map((o) => o.order)).toEqual([-3, 0]);
  });

  it('makes an object declared twice one object, the later declaration winning', () => {
    const result = prepareObjects(app, [{ ...configMap('a'), data: { v: '1' } }, { ...configMap('a'), data: { v: '2' } }], scopes);
    expect(result.ok && result.objects.map((o) => o.body['data'])).toEqual([{ v: '2' }]);
  });

  it.each([
    { name: 'a missing apiVersion', manifest: { kind: 'ConfigMap', metadata: { name: 'a' } }, message: 'apiVersion must be' },
    { name: 'a missing kind', manifest: { apiVersion: 'v1', metadata: { name: 'a' } }, message: 'kind is required' },
    { name: 'a missing name', manifest: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'a-' } }, message: 'metadata.name is required' },
    { name: 'a kind the cluster does not serve', manifest: { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'g' } }, message: 'serves no kind Gadget' },
    { name: 'a namespace on a cluster-scoped object', manifest: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', namespace: 'x' } }, message: 'is cluster-scoped but names namespace' },
    { name: 'a non-integer apply order', manifest: configMap('a', { annotations: { 'flotilla.dev/apply-order': 'first' } }), message: 'must be an integer' },
  ])('refuses $name', ({ manifest, message }) => {
    const result = prepareObjects(app, [configMap('ok'), manifest], scopes);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems).toHaveLength(1);
      expect(result.problems[0]?.message).toContain('manifests[1]');
      expect(result.problems[0]?.message).toContain(message);
    }
  });

  it('reports every problem at once and lists the unknown kinds', () => {
    const result = prepareObjects(
      app,
      [{ apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'g' } }, { apiVersion: 'v1', kind: 'ConfigMap' }],
      scopes,
    );
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems.map((p) => p.index)).toEqual([0, 1]);
      expect(result.unknownKinds).toEqual(['example.com/v1 Gadget']);
      expect(summarizeProblems(result.problems)).toMatch(/^2 manifests cannot be applied: manifests\[0\]/);
    }
  });

  it('refuses a namespaced object when neither it nor the App names a namespace', () => {
    const result = prepareObjects({ ...app, namespace: '' }, [configMap('a')], scopes);
    expect(!result.ok && result.problems[0]?.message).toContain('names no namespace and the App has none');
  });
});
