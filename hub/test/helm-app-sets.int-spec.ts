import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterCapabilitiesService } from '../src/clusters/cluster-capabilities.service';
import { FLOTILLA_PHASE } from '../src/core/helm/helm-hooks';
import type { RunningHub } from '../src/hub';
import { appSetClient, registerClusters, renderPerCluster } from './support/app-set-client';
import { listAppSetYaml } from './support/app-set-yaml';
import { chartFixture, helmBinary, startChartRepos, type ChartRepos } from './support/chart-repos';
import { startTestHub, type Gql } from './support/test-hub';
import type { TestDatabase } from './support/test-database';

interface PinView {
  repoURL: string;
  chart: string;
  version: string;
  digest: string;
  ociDigest: string | null;
}
interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
  spec?: { replicas?: number; template?: { spec: { containers: { image: string }[] } } };
}

const PASSWORD = 'repo-password-51c0de';
const REPLICAS = { 'eu-1': 2, 'us-1': 3, 'ap-1': 4 };

/** One App per cluster from the web chart, with per-cluster replicas and image tag in `values`. */
const appSetYaml = (repoURL: string, { name = 'web', version = '1.0.0', repository = 'local-http' }: { name?: string; version?: string; repository?: string } = {}) =>
  listAppSetYaml(
    name,
    Object.entries(REPLICAS).map(([cluster, replicas]) => `{ cluster: ${cluster}, replicas: "${replicas}" }`),
    `    namespace: shop
    helm:
      repoURL: "${repoURL}"
      chart: web
      version: "${version}"
      repository: ${repository}
      createNamespace: true
      values:
        replicas: "{{ replicas }}"
        image: "registry.example.com/web:{{ cluster.name }}"
`,
  );

describe('AppSets rendered from Helm charts with the real helm, a chart repository and an OCI registry on loopback, on real PostgreSQL', () => {
  let db: TestDatabase;
  let hub: RunningHub;
  let gql: Gql;
  let scratch: string;
  let repos: ChartRepos;

  const { preview, apply, helmApps } = appSetClient(() => gql);
  const stagedApps = (name: string) => helmApps<PinView>(name, 'repoURL chart version digest ociDigest');
  /** The manifests and pins the hub renders for each cluster, as the expansion hands them to staging. */
  const rendered = (yaml: string) => renderPerCluster<Manifest>(hub, yaml, Object.keys(REPLICAS));
  const digestOf = (version: string) => `sha256:${createHash('sha256').update(readFileSync(join(repos.repoDir, `web-${version}.tgz`))).digest('hex')}`;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'flotilla-helm-app-sets-int-'));
    repos = await startChartRepos(scratch, PASSWORD);
    ({ db, hub, gql } = await startTestHub({
      FLOTILLA_DATA_DIR: join(scratch, 'hub-data'),
      FLOTILLA_HELM_BINARY: helmBinary,
      FLOTILLA_HELM_REPOSITORIES_FILE: repos.repositoriesFile,
    }));
    await registerClusters(gql, Object.keys(REPLICAS), { env: 'prod' });
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
    await db?.drop();
    await repos?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('applies a chart from an HTTP repository over three clusters, each with its own values, and records the pin of every App', async () => {
    const before = await preview(appSetYaml(repos.httpURL));
    expect(before.issues).toEqual([]);
    expect(before.totals).toMatchObject({ added: 3, changed: 0 });
    expect(await apply(appSetYaml(repos.httpURL))).toMatchObject({ changed: true, issues: [] });
    const apps = await stagedApps('web');
    expect(apps.map((a) => a.cluster).sort()).toEqual(['ap-1', 'eu-1', 'us-1']);
    for (const app of apps) {
      expect(app.stagedRevision).not.toBeNull();
      expect(app.explain!.helm).toEqual({ repoURL: repos.httpURL, chart: 'web', version: '1.0.0', digest: digestOf('1.0.0'), ociDigest: null });
    }
    const manifests = await rendered(appSetYaml(repos.httpURL));
    for (const [cluster, replicas] of Object.entries(REPLICAS)) {
      const objects = manifests.get(cluster)!.manifests;
      expect(objects[0]).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
      expect(objects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'CustomResourceDefinition', 'Deployment', 'Job', 'Namespace']);
      const deployment = objects.find((o) => o.kind === 'Deployment')!;
      expect(deployment.spec!.replicas).toBe(replicas);
      expect(deployment.spec!.template!.spec.containers[0]!.image).toBe(`registry.example.com/web:${cluster}`);
      expect(objects.find((o) => o.kind === 'Job')!.metadata.annotations![FLOTILLA_PHASE]).toBe('pre');
    }
  });

  it('previews a chart version bump as a diff on every cluster', async () => {
    const bumped = await preview(appSetYaml(repos.httpURL, { version: '1.1.0' }));
    expect(bumped.issues).toEqual([]);
    expect(bumped.totals).toMatchObject({ added: 0, changed: 3, unchanged: 0, removed: 0 });
    expect(bumped.clusters.map((c) => c.cluster).sort()).toEqual(['ap-1', 'eu-1', 'us-1']);
    for (const cluster of bumped.clusters) {
      const diff = cluster.changed[0]!.diff;
      expect(diff).toMatch(/^-.*greeting: hello$/m);
      expect(diff).toMatch(/^\+.*greeting: bonjour$/m);
      expect(diff).not.toMatch(/^[-+].*replicas/m);
    }
  });

  it("refuses a broken chart version at preview and at apply with helm's own error, staging nothing", async () => {
    const yaml = appSetYaml(repos.httpURL, { version: '9.9.9' });
    const refused = await preview(yaml);
    expect(refused.totals).toBeNull();
    expect(refused.issues.length).toBeGreaterThan(0);
    expect(new Set(refused.issues.map((i) => i.code))).toEqual(new Set(['HELM_TEMPLATE_FAILED']));
    expect(refused.issues[0]!.message).toContain('broken on purpose');
    expect(refused.issues[0]!.path).toBe('spec.template.helm');
    const applied = await apply(yaml);
    expect(applied.changed).toBe(false);
    expect(applied.issues.map((i) => i.code)).toContain('HELM_TEMPLATE_FAILED');
    // The applied version stays staged.
    expect((await stagedApps('web')).every((a) => a.explain!.helm!.version === '1.0.0')).toBe(true);
  });

  it('refuses a version the repository does not list, naming the listed ones', async () => {
    const refused = await preview(appSetYaml(repos.httpURL, { version: '3.0.0' }));
    expect(refused.totals).toBeNull();
    expect(refused.issues.map(({ code, path }) => ({ code, path }))).toEqual([{ code: 'CHART_VERSION_NOT_FOUND', path: 'spec.template.helm' }]);
    expect(refused.issues[0]!.message).toContain('Chart web has no version 3.0.0 (listed: 9.9.9, 8.0.0, 1.1.0, 1.0.0).');
    expect(JSON.stringify(refused)).not.toContain(PASSWORD);
  });

  it('resolves a range once for all clusters: one index.yaml read, the same version and digest on every cluster', async () => {
    const asked = repos.requests.filter((r) => r === '/index.yaml').length;
    const manifests = await rendered(appSetYaml(repos.httpURL, { version: '^1.0.0' }));
    expect(repos.requests.filter((r) => r === '/index.yaml').length).toBe(asked + 1);
    const pins = [...manifests.values()].map((m) => m.pin);
    expect(pins).toHaveLength(3);
    for (const pin of pins) expect(pin).toEqual({ repoURL: repos.httpURL, chart: 'web', version: '1.1.0', repository: 'local-http', digest: digestOf('1.1.0') });
  });

  it('hands the {{ }} string of a chart ConfigMap to every App byte-identical, and renders parameters only in values', async () => {
    const yaml = appSetYaml(repos.httpURL).replace('replicas: "{{ replicas }}"', 'replicas: "{{ replicas }}"\n        greeting: "from {{ cluster.name }}"');
    const manifests = await rendered(yaml);
    const written = readFileSync(join(chartFixture, 'files/alert.rules'), 'utf8');
    expect(written).toContain('{{');
    for (const cluster of Object.keys(REPLICAS)) {
      const data = manifests.get(cluster)!.manifests.find((o) => o.kind === 'ConfigMap')!.data!;
      expect(data['alert.rules']).toBe(written);
      expect(data['greeting']).toBe(`from ${cluster}`);
    }
  });

  it("renders each cluster's chart against the Kubernetes version and APIs its agent reported (.Capabilities)", async () => {
    const reported = {
      'eu-1': { kubernetesVersion: 'v1.31.4', apiVersions: ['apps/v1', 'v1'] },
      'us-1': { kubernetesVersion: 'v1.35.2', apiVersions: ['apps/v1', 'monitoring.coreos.com/v1', 'v1'] },
    };
    const db = hub.app.get(DataSource, { strict: false });
    for (const [name, capabilities] of Object.entries(reported)) {
      const [{ id }] = (await db.query('SELECT id FROM clusters WHERE name = $1', [name])) as { id: string }[];
      const recorded = await hub.app.get(ClusterCapabilitiesService, { strict: false }).record(id!, { ...capabilities, discoveryError: '' }, new Date());
      expect(recorded.problem).toBeUndefined();
    }
    const manifests = await rendered(appSetYaml(repos.httpURL));
    const data = (cluster: string) => manifests.get(cluster)!.manifests.find((o) => o.kind === 'ConfigMap')!.data!;
    expect(data('eu-1')['kubeVersion']).toBe('v1.31.4');
    expect(data('eu-1')).not.toHaveProperty('monitoring');
    expect(data('us-1')).toMatchObject({ kubeVersion: 'v1.35.2', monitoring: 'available' });
    // A cluster whose agent reported nothing renders with helm's defaults.
    expect(['v1.31.4', 'v1.35.2']).not.toContain(data('ap-1')['kubeVersion']);
    expect(data('ap-1')).not.toHaveProperty('monitoring');
  });

  it('applies a chart from an OCI registry and records its OCI digest', async () => {
    const yaml = appSetYaml(repos.ociURL, { name: 'web-oci', repository: 'local-oci' });
    expect(await apply(yaml)).toMatchObject({ changed: true, issues: [] });
    const apps = await stagedApps('web-oci');
    expect(apps).toHaveLength(3);
    for (const app of apps) {
      expect(app.explain!.helm).toEqual({ repoURL: repos.ociURL, chart: 'web', version: '1.0.0', digest: digestOf('1.0.0'), ociDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    }
    expect(new Set(apps.map((a) => a.explain!.helm!.ociDigest)).size).toBe(1);
  });
});
