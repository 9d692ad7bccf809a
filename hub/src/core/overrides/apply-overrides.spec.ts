import { describe, expect, it } from 'vitest';
import type { OverrideSpec } from '../app-set/app-set-spec';
import { TemplateRenderer } from '../render/template-renderer';
import { applyOverrides, mergePatch } from './apply-overrides';

const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { app: 'web', stage: 'base' } }, spec: { replicas: 1, args: ['a', 'b'] } };
const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web' }, data: { a: '1' } };
const target = { labels: { region: 'eu', env: 'prod' }, params: { cluster: { name: 'eu-1', labels: { region: 'eu' } } } };

describe('mergePatch', () => {
  it.each<{ name: string; target: unknown; patch: unknown; want: unknown }>([
    { name: 'objects merge recursively', target: { a: { b: 1, c: 2 } }, patch: { a: { c: 3 } }, want: { a: { b: 1, c: 3 } } },
    { name: 'arrays replace', target: { a: [1, 2, 3] }, patch: { a: [4] }, want: { a: [4] } },
    { name: 'null deletes a key', target: { a: 1, b: 2 }, patch: { a: null }, want: { b: 2 } },
    { name: 'null on a missing key is a no-op', target: { b: 2 }, patch: { a: null }, want: { b: 2 } },
    { name: 'an object replaces a scalar', target: { a: 'x' }, patch: { a: { b: 1 } }, want: { a: { b: 1 } } },
    { name: 'a scalar replaces an object', target: { a: { b: 1 } }, patch: { a: 'x' }, want: { a: 'x' } },
  ])('$name', ({ target: t, patch, want }) => {
    expect(mergePatch(t, patch)).toEqual(want);
  });

  it('never mutates its arguments', () => {
    const t = { a: { b: 1 } };
    const patch = { a: { c: 2 } };
    mergePatch(t, patch);
    expect(t).toEqual({ a: { b: 1 } });
    expect(patch).toEqual({ a: { c: 2 } });
  });
});

describe('applyOverrides', () => {
  const run = (overrides: OverrideSpec[]) => applyOverrides([deployment, configMap], overrides, target, new TemplateRenderer());

  it('a patch naming kind and metadata.name applies to that manifest only', () => {
    const result = run([{ patch: { kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3 } } }]);
    expect(result.issues).toEqual([]);
    expect(result.manifests).toEqual([{ ...deployment, spec: { replicas: 3, args: ['a', 'b'] } }, configMap]);
  });

  it('a patch naming no kind applies to every manifest', () => {
    const result = run([{ patch: { metadata: { annotations: { a: 'b' } } } }]);
    expect(result.manifests.map((m) => (m['metadata'] as Record<string, unknown>)['annotations'])).toEqual([{ a: 'b' }, { a: 'b' }]);
  });

  it('an override whose selector does not match the cluster is skipped', () => {
    const result = run([{ selector: { matchLabels: { region: 'us' } }, patch: { spec: { replicas: 9 } } }]);
    expect(result.manifests).toEqual([deployment, configMap]);
  });

  it('overrides apply in order, later on top of earlier', () => {
    const result = run([
      { patch: { kind: 'ConfigMap', metadata: { name: 'web' }, data: { a: '2', b: 'x' } } },
      { patch: { kind: 'ConfigMap', metadata: { name: 'web' }, data: { b: null } } },
    ]);
    expect(result.manifests[1]).toEqual({ ...configMap, data: { a: '2' } });
  });

  it('patch string leaves are rendered over the App parameters', () => {
    const result = run([{ patch: { kind: 'ConfigMap', metadata: { name: 'web' }, data: { who: '{{ cluster.name }}' } } }]);
    expect(result.manifests[1]!['data']).toEqual({ a: '1', who: 'eu-1' });
  });

  it('a patch naming a manifest that does not exist is an issue', () => {
    const result = run([{ patch: { kind: 'Secret', metadata: { name: 'web' } } }]);
    expect(result.issues).toEqual([expect.objectContaining({ code: 'OVERRIDE_NO_TARGET', path: 'spec.template.overrides[0].patch' })]);
  });

  it('a template error in a patch is an issue with its path', () => {
    const result = run([{ patch: { data: { v: '{{ nope }}' } } }]);
    expect(result.issues).toEqual([expect.objectContaining({ code: 'TEMPLATE_ERROR', path: 'spec.template.overrides[0].patch.data.v' })]);
  });

  it('never mutates the input manifests', () => {
    run([{ patch: { metadata: { labels: { stage: null } }, spec: { replicas: 5 } } }]);
    expect(deployment.metadata.labels).toEqual({ app: 'web', stage: 'base' });
    expect(deployment.spec.replicas).toBe(1);
  });
});
