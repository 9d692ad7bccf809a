import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiTestServer } from '../../agent/test/kube-api-server/index.js';
import { chartFixture, helmBinary, startChartRepos, type ChartRepos } from '../../hub/test/support/chart-repos.js';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { startAgent, startHub, type HubProcess, type ManagedProcess } from '../harness/processes.js';

/**
 * One chart on a fleet of Kubernetes clusters of different versions, end to end (README "Helm
 * charts"): the hub as a process renders the chart with the real helm from a chart repository on
 * loopback, per cluster with the capabilities its agent reported; three agents with the Kubernetes
 * driver apply it to three Kubernetes API test servers that report 1.33, 1.34 and 1.35. A version bump
 * is previewed as a per-cluster diff and rolled out in waves by region; a broken version is refused
 * at preview with helm's own error.
 */
const CLUSTERS = [
  { name: 'kube-a', version: 'v1.33.2', region: 'eu' },
  { name: 'kube-b', version: 'v1.34.1', region: 'eu' },
  { name: 'kube-c', version: 'v1.35.0', region: 'us' },
] as const;
const PASSWORD = 'chart-repo-password';

const appSet = (repoURL: string, version: string) => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: web }
spec:
  generators:
    - clusters: { selector: { matchLabels: { driver: kube } } }
  template:
    namespace: shop
    helm:
      repoURL: "${repoURL}"
      repository: local-http
      chart: web
      version: "${version}"
      releaseName: web
      createNamespace: true
      values:
        image: "registry.example.com/web:{{ cluster.labels.region }}"
  strategy:
    waves:
      - { name: eu, selector: { matchLabels: { region: eu } }, maxConcurrency: "100%", soak: 0s }
      - { name: us, selector: { matchLabels: { region: us } }, maxConcurrency: "100%", soak: 0s }
`;

interface Preview {
  issues: { code: string; message: string }[];
  clusters: { cluster: string; changed: { app: string; diff: string }[] }[];
}

describe('a Helm chart on Kubernetes clusters of three versions, with the real helm and real agents', () => {
  let home: string;
  let db: TestDatabase;
  let repos: ChartRepos;
  let hub: HubProcess;
  let api: ReturnType<typeof graphqlClient>;
  const servers = new Map<string, KubeApiTestServer>();
  const agents: ManagedProcess[] = [];

  const configMap = (cluster: string) => servers.get(cluster)!.getObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'web' }) as { data?: Record<string, string> } | undefined;
  const preview = async (version: string): Promise<Preview> =>
    (await api.must<{ previewAppSet: Preview }>(`query($y: String!) { previewAppSet(yaml: $y) { issues { code message } clusters { cluster changed { app diff } } } }`, { y: appSet(repos.httpURL, version) })).previewAppSet;
  const rollOut = async (version: string) => {
    const applied = await api.must<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code path message } } }`, { y: appSet(repos.httpURL, version) });
    expect(applied.applyAppSet.issues).toEqual([]);
    const { startRollout } = await api.must<{ startRollout: { id: string } }>(`mutation { startRollout(appSet: "web", reason: "chart ${version}") { id } }`);
    return eventually(
      async () => {
        const { rollout } = await api.must<{ rollout: { phase: string; reason: string | null; waves: { name: string; clusters: string[] }[] } }>(
          `query($id: ID!) { rollout(id: $id) { phase reason waves { name clusters } } }`,
          { id: startRollout.id },
        );
        if (rollout.phase === 'PAUSED' || rollout.phase === 'FAILED' || rollout.phase === 'ROLLED_BACK') throw new Error(`rollout ${rollout.phase}: ${rollout.reason}\n${agents.map((a) => a.tail(10)).join('\n')}`);
        return rollout.phase === 'SUCCEEDED' ? rollout : undefined;
      },
      { what: `the rollout of chart ${version}`, timeoutMs: 120_000 },
    );
  };

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'flotilla-helm-fleet-'));
    db = await createTestDatabase();
    repos = await startChartRepos(join(home, 'charts'), PASSWORD);
    hub = await startHub({ databaseUrl: db.url, env: { FLOTILLA_HELM_BINARY: helmBinary, FLOTILLA_HELM_REPOSITORIES_FILE: repos.repositoriesFile } });
    api = graphqlClient(hub.graphqlUrl, hub.adminToken);
    for (const cluster of CLUSTERS) {
      const server = await KubeApiTestServer.start({ kubernetesVersion: cluster.version, crdEstablishDelayMs: 100 });
      servers.set(cluster.name, server);
      const kubeconfig = join(home, `${cluster.name}.kubeconfig`);
      await server.writeKubeconfig(kubeconfig);
      const { registerCluster } = await api.must<{ registerCluster: { bootstrapToken: string } }>(
        `mutation($name: String!, $labels: JSONObject) { registerCluster(input: { name: $name, labels: $labels }) { bootstrapToken } }`,
        { name: cluster.name, labels: { driver: 'kube', region: cluster.region } },
      );
      agents.push(startAgent({ hubAddress: hub.grpcAddress, hubCa: hub.caBundle, cluster: cluster.name, bootstrapToken: registerCluster.bootstrapToken, env: { FLOTILLA_DRIVER: 'kube', FLOTILLA_KUBECONFIG: kubeconfig } }));
    }
    await eventually(
      async () => {
        const { clusters } = await api.must<{ clusters: { name: string; connected: boolean; kubernetesVersion: string | null }[] }>(`{ clusters { name connected kubernetesVersion } }`);
        return CLUSTERS.every((c) => clusters.some((seen) => seen.name === c.name && seen.connected && seen.kubernetesVersion === c.version));
      },
      { what: `three agents connected with their clusters' versions\n${agents.map((a) => a.tail(10)).join('\n')}`, timeoutMs: 60_000 },
    );
  }, 180_000);

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    await hub?.stop();
    for (const server of servers.values()) await server.close();
    await repos?.stop();
    await db?.drop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("renders the chart per cluster with the cluster's own Kubernetes version, and keeps the chart's {{ }} text as written", async () => {
    await rollOut('1.0.0');
    const rules = readFileSync(join(chartFixture, 'files/alert.rules'), 'utf8');
    for (const cluster of CLUSTERS) {
      const data = configMap(cluster.name)?.data;
      expect(data?.['kubeVersion'], cluster.name).toBe(cluster.version);
      expect(data?.['greeting']).toBe('hello');
      expect(data?.['alert.rules']).toBe(rules);
    }
  });

  it('previews a chart version bump as a diff on every cluster', async () => {
    const bump = await preview('1.1.0');
    expect(bump.issues).toEqual([]);
    expect(bump.clusters.map((c) => c.cluster).sort()).toEqual(CLUSTERS.map((c) => c.name));
    for (const cluster of bump.clusters) {
      const diff = cluster.changed.map((c) => c.diff).join('\n');
      expect(diff, cluster.cluster).toMatch(/^-.*hello/m);
      expect(diff, cluster.cluster).toMatch(/^\+.*bonjour/m);
    }
  });

  it('refuses a broken chart version at preview with helm’s own error', async () => {
    const broken = await preview('9.9.9');
    expect(broken.issues.length).toBeGreaterThan(0);
    expect(broken.issues.map((i) => i.message).join('\n')).toContain('broken on purpose');
  });

  it('rolls the bump out in waves, eu then us, and every cluster ends on the new version', async () => {
    const done = await rollOut('1.1.0');
    expect(done.waves.map((w) => [w.name, [...w.clusters].sort()])).toEqual([
      ['eu', ['kube-a', 'kube-b']],
      ['us', ['kube-c']],
    ]);
    for (const cluster of CLUSTERS) {
      expect(configMap(cluster.name)?.data?.['greeting'], cluster.name).toBe('bonjour');
      expect(configMap(cluster.name)?.data?.['kubeVersion'], cluster.name).toBe(cluster.version);
    }
  });
});
