import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { kustomizationOverlay } from './overlay';

const base = { repoURL: '/repos/shop', revision: 'main', commit: 'a'.repeat(40), path: 'apps/web' };

describe('kustomizationOverlay', () => {
  it('references only the source directory when the request sets nothing else', () => {
    expect(parse(kustomizationOverlay(base, '../repo/apps/web'))).toEqual({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['../repo/apps/web'] });
  });

  it('carries namespace, prefix, suffix, labels, images and both kinds of patch, patches inlined as YAML text', () => {
    const overlay = parse(
      kustomizationOverlay(
        {
          ...base,
          namespace: 'shop',
          namePrefix: 'eu-',
          nameSuffix: '-v2',
          commonLabels: { team: 'web' },
          images: [{ name: 'web', newTag: '1.2.3' }, { name: 'db', newName: 'registry.example/db', digest: 'sha256:abc' }],
          patches: [
            { patch: { kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3 } } },
            { patch: [{ op: 'replace', path: '/spec/replicas', value: 2 }], target: { kind: 'Deployment', name: 'db' } },
          ],
        },
        '../repo/apps/web',
      ),
    ) as { images: unknown[]; patches: { patch: string; target?: unknown }[] };
    expect(overlay).toMatchObject({ namespace: 'shop', namePrefix: 'eu-', nameSuffix: '-v2', commonLabels: { team: 'web' } });
    expect(overlay.images).toEqual([{ name: 'web', newTag: '1.2.3' }, { name: 'db', newName: 'registry.example/db', digest: 'sha256:abc' }]);
    expect(parse(overlay.patches[0]!.patch)).toEqual({ kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3 } });
    expect(overlay.patches[0]!.target).toBeUndefined();
    expect(parse(overlay.patches[1]!.patch)).toEqual([{ op: 'replace', path: '/spec/replicas', value: 2 }]);
    expect(overlay.patches[1]!.target).toEqual({ kind: 'Deployment', name: 'db' });
  });

  it('keeps a string that looks like YAML or a template a string inside a patch', () => {
    const overlay = parse(kustomizationOverlay({ ...base, patches: [{ patch: { kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: '{{ .x }}', b: 'true', c: '- item' } } }] }, '../repo')) as {
      patches: { patch: string }[];
    };
    expect(parse(overlay.patches[0]!.patch)).toEqual({ kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: '{{ .x }}', b: 'true', c: '- item' } });
  });
});
