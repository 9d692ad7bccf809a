import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHelmConfig, type HelmConfig } from '../src/config/helm-config';
import { FLOTILLA_PHASE } from '../src/core/helm/helm-hooks';
import type { ResolvedChart } from '../src/core/helm/helm-source';
import { HelmRenderer, type HelmRenderRequest, type HelmResult } from '../src/helm/helm-renderer';
import { chartFixture as fixture, helmBinary, startChartRepos, type ChartRepos } from './support/chart-repos';

const PASSWORD = 'repo-password-7f3a9c';

function value<T>(result: HelmResult<T>): T {
  if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
  return result.value;
}

const request = (over: Partial<HelmRenderRequest> = {}): HelmRenderRequest => ({ releaseName: 'web', namespace: 'shop', createNamespace: false, values: {}, valueFiles: [], skipCRDs: false, ...over });

function find(manifests: readonly Record<string, unknown>[], kind: string): Record<string, unknown> | undefined {
  return manifests.find((m) => m['kind'] === kind);
}

describe('Helm charts rendered on the hub with the real helm binary (HTTP repository, OCI registry)', () => {
  let scratch: string;
  let repos: ChartRepos;
  let repoDir: string;
  let httpURL: string;
  let ociURL: string;
  let repositoriesFile: string;
  let requests: string[] = [];
  const renderers: HelmRenderer[] = [];

  const renderer = (env: Record<string, string> = {}): HelmRenderer => {
    const problems: string[] = [];
    const config: HelmConfig = loadHelmConfig({ FLOTILLA_HELM_BINARY: helmBinary, FLOTILLA_HELM_REPOSITORIES_FILE: repositoriesFile, ...env }, problems);
    expect(problems).toEqual([]);
    const made = new HelmRenderer(config);
    renderers.push(made);
    return made;
  };

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'helm-int-'));
    repos = await startChartRepos(scratch, PASSWORD);
    ({ repoDir, httpURL, ociURL, repositoriesFile, requests } = repos);
  }, 120_000);

  afterAll(async () => {
    for (const made of renderers) made.close();
    await repos?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  describe('an HTTP chart repository (index.yaml)', () => {
    it('resolves a range once, to the highest matching version, and pins the digest of its bytes', async () => {
      const helm = renderer();
      const before = requests.filter((r) => r === '/index.yaml').length;
      const chart = value(await helm.resolve({ repoURL: httpURL, chart: 'web', version: '^1.0.0', repository: 'local-http' }));
      expect(chart).toEqual({ repoURL: httpURL, chart: 'web', version: '1.1.0', repository: 'local-http', digest: `sha256:${createHash('sha256').update(readFileSync(join(repoDir, 'web-1.1.0.tgz'))).digest('hex')}` });
      // Rendering for several clusters reuses the pinned chart: the repository is not asked again.
      const asked = requests.length;
      value(await helm.render(chart, request()));
      value(await helm.render(chart, request({ capabilities: { kubeVersion: 'v1.33.1' } })));
      expect(requests.length).toBe(asked);
      expect(requests.filter((r) => r === '/index.yaml').length).toBe(before + 1);
    });

    it('renders per cluster capabilities: the Kubernetes version and the served API versions reach .Capabilities', async () => {
      const helm = renderer();
      const chart = value(await helm.resolve({ repoURL: httpURL, chart: 'web', version: '1.0.0', repository: 'local-http' }));
      const old = value(await helm.render(chart, request({ capabilities: { kubeVersion: 'v1.31.4', apiVersions: [] } })));
      const recent = value(await helm.render(chart, request({ capabilities: { kubeVersion: 'v1.35.2', apiVersions: ['monitoring.coreos.com/v1'] } })));
      expect(find(old.manifests, 'ConfigMap')!['data']).toMatchObject({ kubeVersion: 'v1.31.4' });
      expect(find(old.manifests, 'ConfigMap')!['data']).not.toHaveProperty('monitoring');
      expect(find(recent.manifests, 'ConfigMap')!['data']).toMatchObject({ kubeVersion: 'v1.35.2', monitoring: 'available' });
    });

    it('a ConfigMap whose data holds {{ }} arrives byte-identical to the chart file, never templated again', async () => {
      const helm = renderer();
      const chart = value(await helm.resolve({ repoURL: httpURL, chart: 'web', version: '1.0.0', repository: 'local-http' }));
      const { manifests } = value(await helm.render(chart, request({ values: { greeting: '{{ cluster.name }}' } })));
      const data = find(manifests, 'ConfigMap')!['data'] as Record<string, string>;
      expect(data['alert.rules']).toBe(readFileSync(join(fixture, 'files/alert.rules'), 'utf8'));
      expect(data['greeting']).toBe('{{ cluster.name }}');
    });

    it('marks pre-install hooks as phase pre with their delete policy, leaves test hooks out, includes CRDs unless skipCRDs', async () => {
      const helm = renderer();
      const chart = value(await helm.resolve({ repoURL: httpURL, chart: 'web', version: '1.0.0', repository: 'local-http' }));
      const full = value(await helm.render(chart, request()));
      expect(full.manifests.map((m) => m['kind']).sort()).toEqual(['ConfigMap', 'CustomResourceDefinition', 'Deployment', 'Job']);
      expect((find(full.manifests, 'Job')!['metadata'] as { annotations: Record<string, string> }).annotations).toEqual({
        'helm.sh/hook': 'pre-install,pre-upgrade',
        'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
        [FLOTILLA_PHASE]: 'pre',
      });
      // --skip-tests already leaves the chart's test Pod out; nothing else was dropped.
      expect(full.manifests.map((m) => (m['metadata'] as { name: string }).name)).not.toContain('web-test');
      expect(full.dropped).toEqual([]);
      const noCrds = value(await helm.render(chart, request({ skipCRDs: true, createNamespace: true })));
      expect(noCrds.manifests.map((m) => m['kind'])).not.toContain('CustomResourceDefinition');
      expect(noCrds.manifests[0]).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    });

    it('applies values files from the chart, then the AppSet values (which win), and refuses a values file outside the chart', async () => {
      const helm = renderer();
      const chart = value(await helm.resolve({ repoURL: httpURL, chart: 'web', version: '1.0.0', repository: 'local-http' }));
      const replicas = async (over: Partial<HelmRenderRequest>) => (find(value(await helm.render(chart, request(over))).manifests, 'Deployment')!['spec'] as { replicas: number }).replicas;
      expect(await replicas({})).toBe(1);
      expect(await replicas({ valueFiles: ['values-prod.yaml'] })).toBe(3);
      expect(await replicas({ valueFiles: ['values-prod.yaml'], values: { replicas: 5 } })).toBe(5);
      for (const file of ['../../../etc/passwd', '/etc/passwd', 'missing.yaml']) {
        expect(await helm.render(chart, request({ valueFiles: [file] }))).toMatchObject({ ok: false, code: 'HELM_VALUE_FILE_NOT_FOUND' });
      }
    });

    it('a version bump renders the new version: only what the chart changed differs', async () => {
      const helm = renderer();
      const [from, to] = await Promise.all(['1.0.0', '1.1.0'].map(async (version) => value(await helm.render(value(await helm.resolve({ repoURL: httpURL, chart: 'web', version, repository: 'local-http' })), request()))));
      expect(find(from!.manifests, 'ConfigMap')!['data']).toMatchObject({ greeting: 'hello' });
      expect(find(to!.manifests, 'ConfigMap')!['data']).toMatchObject({ greeting: 'bonjour' });
      expect(to!.manifests.filter((m) => m['kind'] !== 'ConfigMap')).toEqual(from!.manifests.filter((m) => m['kind'] !== 'ConfigMap'));
    });

    it("refuses a broken chart version with helm's own error", async () => {
      const helm = renderer();
      const chart = value(await helm.resolve({ repoURL: httpURL, chart: 'web', version: '9.9.9', repository: 'local-http' }));
      const result = await helm.render(chart, request());
      expect(result).toMatchObject({ ok: false, code: 'HELM_TEMPLATE_FAILED' });
      expect(!result.ok && result.message).toContain('broken on purpose');
    });

    it('stops a render at the output limit', async () => {
      const helm = renderer({ FLOTILLA_HELM_MAX_OUTPUT_MB: '1' });
      const chart = value(await helm.resolve({ repoURL: httpURL, chart: 'web', version: '8.0.0', repository: 'local-http' }));
      const result = await helm.render(chart, request());
      expect(result).toMatchObject({ ok: false, code: 'HELM_TEMPLATE_FAILED' });
      expect(!result.ok && result.message).toContain('printed more than 1048576 bytes');
    });

    it.each([
      { name: 'a version the repository does not list', source: { version: '3.0.0', repository: 'local-http' }, code: 'CHART_VERSION_NOT_FOUND', message: 'Chart web has no version 3.0.0 (listed: 9.9.9, 8.0.0, 1.1.0, 1.0.0).' },
      { name: 'a repository missing from the hub configuration', source: { version: '1.0.0', repository: 'nope' }, code: 'HELM_REPO_NOT_CONFIGURED', message: `helm repository "nope" is not in the hub's repositories file` },
      { name: 'a configured repository for another URL', source: { version: '1.0.0', repository: 'other' }, code: 'HELM_REPO_NOT_CONFIGURED', message: undefined },
      { name: 'no credentials for a repository that needs them', source: { version: '1.0.0' }, code: 'HELM_PULL_FAILED', message: `chart web from ${'HTTP'}: /index.yaml answered HTTP 401` },
    ])('refuses $name with a clear error that carries no credential', async ({ source, code, message }) => {
      const result = await renderer().resolve({ repoURL: httpURL, chart: 'web', ...source });
      expect(result).toMatchObject({ ok: false, code });
      if (message !== undefined && !result.ok) expect(result.message).toBe(message.replace('HTTP:', `${httpURL}:`));
      expect(JSON.stringify(result)).not.toContain(PASSWORD);
    });

    it('refuses credentials written into repoURL', async () => {
      const result = await renderer().resolve({ repoURL: `http://flotilla:${PASSWORD}@127.0.0.1:1`, chart: 'web', version: '1.0.0' });
      expect(result).toMatchObject({ ok: false, code: 'HELM_REPO_INVALID' });
      expect(JSON.stringify(result)).not.toContain(PASSWORD);
    });
  });

  describe('an OCI registry (docker-registry on loopback, charts pushed with helm push)', () => {
    it('resolves a range against the tags once and records the version, the OCI digest and the same bytes as were pushed', async () => {
      const helm = renderer();
      const chart: ResolvedChart = value(await helm.resolve({ repoURL: ociURL, chart: 'web', version: '^1.0.0', repository: 'local-oci' }));
      expect(chart).toEqual({
        repoURL: ociURL,
        chart: 'web',
        version: '1.1.0',
        repository: 'local-oci',
        digest: `sha256:${createHash('sha256').update(readFileSync(join(repoDir, 'web-1.1.0.tgz'))).digest('hex')}`,
        ociDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      });
      const { manifests } = value(await helm.render(chart, request()));
      expect(find(manifests, 'ConfigMap')!['data']).toMatchObject({ greeting: 'bonjour' });
    });

    it("a renderer that did not pin the chart pulls the exact version again and checks it is the same bytes", async () => {
      const chart = value(await renderer().resolve({ repoURL: ociURL, chart: 'web', version: '1.0.0', repository: 'local-oci' }));
      const other = renderer();
      expect(value(await other.render(chart, request())).manifests.length).toBe(4);
      const tampered = await other.render({ ...chart, digest: `sha256:${'0'.repeat(64)}` }, request());
      expect(tampered).toMatchObject({ ok: false, code: 'HELM_CHART_CHANGED' });
    });

    it("refuses a broken chart version with helm's error, and a version the registry does not hold", async () => {
      const helm = renderer();
      const broken = value(await helm.resolve({ repoURL: ociURL, chart: 'web', version: '9.9.9', repository: 'local-oci' }));
      const result = await helm.render(broken, request());
      expect(!result.ok && result.message).toContain('broken on purpose');
      expect(await helm.resolve({ repoURL: ociURL, chart: 'web', version: '4.0.0', repository: 'local-oci' })).toMatchObject({ ok: false, code: 'HELM_PULL_FAILED' });
    });
  });
});
