import { describe, expect, it } from 'vitest';
import { parseAppSet } from '../app-set/parse-app-set';
import { expandAppSet } from '../expand-app-set';
import type { GitSnapshot } from '../generators/git-snapshot';
import type { HelmChartNeed, HelmChartPin, HelmRenderNeed, HelmRenderOutput } from './helm-render';
import type { ResolvedChart } from './helm-source';

const REPO = 'https://charts.example.com';
const clusters = [
  { name: 'eu-1', labels: {}, values: {} },
  { name: 'us-1', labels: {}, values: {} },
];
const PIN: ResolvedChart = { repoURL: REPO, chart: 'web', version: '1.4.2', digest: `sha256:${'a'.repeat(64)}` };

const document = (helm: string, namespace = 'shop') => {
  const parsed = parseAppSet(`
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: web }
spec:
  generators:
    - list: { elements: [{ cluster: eu-1, replicas: "2" }, { cluster: us-1, replicas: "3" }] }
  template:
    namespace: ${namespace}
    helm:
${helm}
`);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
};
const WEB = document(`      repoURL: ${REPO}
      chart: web
      version: "^1.4.0"
      values: { replicas: "{{ replicas }}", note: "{{ cluster.name }}" }`);

const expand = (doc = WEB, git: GitSnapshot = { trees: new Map(), files: new Map() }) => expandAppSet(doc, clusters, undefined, { git });
/** The snapshot after the hub pinned every chart the expansion asked for. */
const pinned = (pin: HelmChartPin, doc = WEB): GitSnapshot => {
  const needs = expand(doc).needs as HelmChartNeed[];
  return { trees: new Map(), files: new Map(), helm: { charts: new Map(needs.map((n) => [n.key, pin])), renders: new Map() } };
};
/** The snapshot after the hub also rendered every App. */
const rendered = (output: (need: HelmRenderNeed) => HelmRenderOutput, doc = WEB): GitSnapshot => {
  const snapshot = pinned(PIN, doc);
  const needs = expand(doc, snapshot).needs as HelmRenderNeed[];
  return { ...snapshot, helm: { charts: snapshot.helm!.charts, renders: new Map(needs.map((n) => [n.key, output(n)])) } };
};
const configMap = (need: HelmRenderNeed) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: need.request.releaseName }, data: { rules: 'summary: {{ $labels.instance }}' } });

describe('spec.template.helm in an expansion', () => {
  it('asks the hub to pin the chart once for every cluster, before anything is rendered', () => {
    const result = expand();
    expect(result.apps).toEqual([]);
    expect(result.issues).toEqual([]);
    expect(result.needs).toEqual([{ kind: 'helm-chart', key: expect.any(String), ref: { repoURL: REPO, chart: 'web', version: '^1.4.0' } }]);
  });

  it("then asks for one render per cluster of the same pin, with that App's values rendered over its parameters", () => {
    const needs = expand(WEB, pinned(PIN)).needs as HelmRenderNeed[];
    expect(needs.map((n) => ({ kind: n.kind, cluster: n.clusterName, chart: n.chart, request: n.request }))).toEqual([
      { kind: 'helm', cluster: 'eu-1', chart: PIN, request: { releaseName: 'web', namespace: 'shop', createNamespace: false, values: { replicas: '2', note: 'eu-1' }, valueFiles: [], skipCRDs: false } },
      { kind: 'helm', cluster: 'us-1', chart: PIN, request: { releaseName: 'web', namespace: 'shop', createNamespace: false, values: { replicas: '3', note: 'us-1' }, valueFiles: [], skipCRDs: false } },
    ]);
  });

  it.each([
    { name: 'releaseName and namespace may use parameters', fields: 'releaseName: "web-{{ cluster.name }}"\n      namespace: "ns-{{ replicas }}"', releaseName: 'web-eu-1', namespace: 'ns-2' },
    { name: "they default to the App's name and namespace", fields: '', releaseName: 'web', namespace: 'shop' },
  ])('$name', ({ fields, releaseName, namespace }) => {
    const doc = document(`      repoURL: ${REPO}
      chart: web
      version: 1.4.2${fields ? `\n      ${fields}` : ''}`);
    const first = (expand(doc, pinned(PIN, doc)).needs as HelmRenderNeed[])[0]!;
    expect(first.request).toMatchObject({ releaseName, namespace });
  });

  it('stages the rendered objects as rendered (never templated again) and records the pin in explain', () => {
    const result = expand(WEB, rendered((need) => ({ manifests: [configMap(need)] })));
    expect(result.issues).toEqual([]);
    expect(result.apps.map((a) => a.clusterName)).toEqual(['eu-1', 'us-1']);
    for (const app of result.apps) {
      expect(app.manifests).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web' }, data: { rules: 'summary: {{ $labels.instance }}' } }]);
      expect(app.explain.helm).toEqual(PIN);
    }
  });

  it.each([
    { name: 'a chart that cannot be pinned', snapshot: () => pinned({ code: 'CHART_VERSION_NOT_FOUND', message: 'Chart web has no version ^9.0.0 (listed: 1.4.2).' }), code: 'CHART_VERSION_NOT_FOUND' },
    { name: 'a render helm refused', snapshot: () => rendered(() => ({ code: 'HELM_TEMPLATE_FAILED', message: 'chart web 1.4.2: execution error' })), code: 'HELM_TEMPLATE_FAILED' },
  ])('refuses the AppSet for $name, staging nothing', ({ snapshot, code }) => {
    const result = expand(WEB, snapshot());
    expect(result.apps).toEqual([]);
    expect(result.needs).toEqual([]);
    expect(result.issues.map((i) => [i.code, i.path])).toEqual([[code, 'spec.template.helm']]);
  });

  it('refuses values whose template does not render', () => {
    const doc = document(`      repoURL: ${REPO}
      chart: web
      values: { replicas: "{{ missing.param }}" }`);
    const result = expand(doc);
    expect(result.apps).toEqual([]);
    expect(result.issues.length).toBeGreaterThan(0);
    expect(result.issues[0]!.path).toContain('spec.template.helm');
  });

  it.each([
    { name: 'a repoURL that is not http(s) or oci, without path', helm: `      repoURL: git@example.com:charts.git\n      chart: web`, code: 'HELM_SOURCE_UNSUPPORTED' },
    { name: 'no chart and no path', helm: `      repoURL: ${REPO}`, code: 'HELM_CHART_REQUIRED' },
    { name: 'both chart and path', helm: `      repoURL: ${REPO}\n      chart: web\n      path: charts/web`, code: 'HELM_SOURCE_AMBIGUOUS' },
  ])('refuses $name before anything is pinned', ({ helm, code }) => {
    const result = expand(document(helm));
    expect(result.apps).toEqual([]);
    expect(result.needs).toEqual([]);
    expect([...new Set(result.issues.map((i) => i.code))]).toEqual([code]);
  });

  it('refuses a field helm does not take when the AppSet is parsed', () => {
    expect(() => document(`      repoURL: ${REPO}\n      chart: web\n      targetRevision: main`)).toThrow();
  });

  it('asks the hub to pin a chart of a Git repository by path and revision (default HEAD)', () => {
    const result = expand(document(`      repoURL: git@example.com:charts.git\n      path: charts/web`));
    expect(result.needs).toEqual([{ kind: 'helm-chart', key: expect.any(String), ref: { repoURL: 'git@example.com:charts.git', path: 'charts/web', revision: 'HEAD' } }]);
  });
});
