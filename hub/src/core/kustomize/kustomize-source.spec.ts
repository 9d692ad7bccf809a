import { describe, expect, it } from 'vitest';
import { parseAppSet } from '../app-set/parse-app-set';
import { expandAppSet } from '../expand-app-set';
import { completeGitSnapshot, type GitSnapshot } from '../generators/git-snapshot';
import { kustomizeKey, type KustomizeNeed, type KustomizeOutput } from './kustomize-render';

const REPO = 'https://git.example/shop.git';
const COMMIT = 'c'.repeat(40);
const clusters = [
  { name: 'eu-1', labels: {}, values: {} },
  { name: 'us-1', labels: {}, values: {} },
];

const document = (kustomize: string) => {
  const parsed = parseAppSet(`
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: web }
spec:
  generators:
    - list: { elements: [{ cluster: eu-1, tag: "1.0" }, { cluster: us-1, tag: "2.0" }] }
  template:
    namespace: web
    kustomize:
${kustomize}
`);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
};
const WEB = document(`      repoURL: ${REPO}
      path: apps/web
      namePrefix: "{{ cluster.name }}-"
      images: [{ name: web, newTag: "{{ tag }}" }]`);

const tree = completeGitSnapshot([{ repoURL: REPO, revision: 'HEAD', commit: COMMIT, files: { 'apps/web/kustomization.yaml': 'resources: [cm.yaml]\n', 'apps/web/cm.yaml': 'kind: ConfigMap\n' } }]);
const withOutputs = (snapshot: GitSnapshot, outputs: (need: KustomizeNeed) => KustomizeOutput): GitSnapshot => {
  const needs = expandAppSet(WEB, clusters, undefined, { git: snapshot }).needs as KustomizeNeed[];
  return { ...snapshot, kustomize: new Map(needs.map((need) => [need.key, outputs(need)])) };
};
const configMap = (name: string, text: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { text } });

describe('spec.template.kustomize in an expansion', () => {
  it('asks for the repository tree first, then for one render per distinct overlay, with the fields rendered per App', () => {
    expect(expandAppSet(WEB, clusters).needs).toEqual([{ kind: 'tree', repoURL: REPO, revision: 'HEAD' }]);
    const needs = expandAppSet(WEB, clusters, undefined, { git: tree }).needs;
    const requests = needs.map((need) => (need.kind === 'kustomize' ? need.request : need));
    expect(requests).toEqual([
      { repoURL: REPO, revision: 'HEAD', commit: COMMIT, path: 'apps/web', namePrefix: 'eu-1-', images: [{ name: 'web', newTag: '1.0' }] },
      { repoURL: REPO, revision: 'HEAD', commit: COMMIT, path: 'apps/web', namePrefix: 'us-1-', images: [{ name: 'web', newTag: '2.0' }] },
    ]);
    expect(needs.every((need) => need.kind === 'kustomize' && need.key === kustomizeKey(need.request))).toBe(true);
  });

  it("stages kustomize's output as rendered: a {{ }} string in it is never templated", () => {
    const snapshot = withOutputs(tree, (need) => ({ manifests: [configMap(`${need.request.namePrefix}cm`, '{{ $labels.instance }} {{ tag }}')] }));
    const expansion = expandAppSet(WEB, clusters, undefined, { git: snapshot });
    expect(expansion.issues).toEqual([]);
    expect(expansion.apps.map((app) => [app.clusterName, app.manifests])).toEqual([
      ['eu-1', [configMap('eu-1-cm', '{{ $labels.instance }} {{ tag }}')]],
      ['us-1', [configMap('us-1-cm', '{{ $labels.instance }} {{ tag }}')]],
    ]);
    expect(expansion.apps[0]!.explain.git).toEqual([{ repoURL: REPO, revision: 'HEAD', commit: COMMIT }]);
  });

  it('refuses the whole AppSet with the render failure as an issue at spec.template.kustomize', () => {
    const snapshot = withOutputs(tree, (need) => (need.request.namePrefix === 'us-1-' ? { code: 'KUSTOMIZE_FAILED', message: 'kustomize failed: apps/web/x.yaml: no such file' } : { manifests: [configMap('a', 'b')] }));
    const expansion = expandAppSet(WEB, clusters, undefined, { git: snapshot });
    expect(expansion.apps).toEqual([]);
    expect(expansion.issues).toMatchObject([{ code: 'KUSTOMIZE_FAILED', path: 'spec.template.kustomize', message: expect.stringContaining('no such file') }]);
  });

  it("a generator template with manifests replaces the spec's kustomize source for its Apps", () => {
    const parsed = parseAppSet(`
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: web }
spec:
  generators:
    - list:
        elements: [{ cluster: eu-1 }]
        template: { manifests: [{ apiVersion: v1, kind: ConfigMap, metadata: { name: inline } }] }
  template:
    kustomize: { repoURL: ${REPO}, path: apps/web }
`);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const expansion = expandAppSet(parsed.value, clusters);
    expect(expansion.needs).toEqual([]);
    expect(expansion.apps.map((app) => app.manifests)).toEqual([[{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inline' } }]]);
  });

  it.each([
    { name: 'a JSON 6902 patch without a target', fields: `      repoURL: ${REPO}\n      path: apps/web\n      patches: [{ patch: [{ op: remove, path: /data }] }]`, code: 'KUSTOMIZE_PATCH_TARGET_REQUIRED' },
    { name: 'a path with no kustomization', fields: `      repoURL: ${REPO}\n      path: apps`, code: 'KUSTOMIZE_NOT_FOUND' },
    { name: 'a path climbing out of the repository', fields: `      repoURL: ${REPO}\n      path: "../{{ cluster.name }}"`, code: 'INVALID_GIT_PATH' },
  ])('refuses $name with $code before any render', ({ fields, code }) => {
    const expansion = expandAppSet(document(fields), clusters, undefined, { git: tree });
    expect(expansion.needs).toEqual([]);
    // One issue per App when the rendered field differs per cluster; never another code.
    expect(expansion.issues.length).toBeGreaterThan(0);
    expect([...new Set(expansion.issues.map((i) => i.code))]).toEqual([code]);
  });
});
