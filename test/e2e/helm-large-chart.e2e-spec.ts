import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { KubeApiTestServer, type KubeObject } from '../../agent/test/kube-api-server/index.js';
import { helmBinary } from '../../hub/test/support/chart-repos.js';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { startAgent, startHub, type HubProcess, type ManagedProcess } from '../harness/processes.js';
import { freePort } from '../harness/ports.js';
import { chartFiles, GROUP, LARGE_SCHEMA_PROPERTIES, NAMESPACE, RELEASE } from '../harness/large-chart.js';

/**
 * A chart like the real ones an operator installs (README "Helm charts"), end to end: CRDs (one over
 * 1 MiB, as kube-prometheus-stack's are), admission webhooks, an HPA, a PDB, a pre-install hook Job and
 * a post-install hook Job, a test hook, and a ConfigMap full of `{{ }}` text meant for other template
 * engines (helm-escaped `{{ "{{" }}`, a raw string, Prometheus rules and a Grafana dashboard read from
 * files). The chart is built and packaged here with the real helm, served from a chart repository on
 * loopback, rendered by the hub as a process and applied by a real agent with the Kubernetes driver to
 * a Kubernetes API test server.
 */

const appSetYaml = (repoURL: string) => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: guard }
spec:
  generators:
    - clusters: { selector: { matchLabels: { driver: kube } } }
  template:
    namespace: ${NAMESPACE}
    helm:
      repoURL: "${repoURL}"
      chart: guard
      version: "~2.4"
      releaseName: ${RELEASE}
      createNamespace: true
      values:
        owner: "team of {{ cluster.name }}"
  strategy:
    waves: [{ name: all, maxConcurrency: "100%", soak: 0s }]
`;

interface ResourceView {
  kind: string;
  namespace: string;
  name: string;
  health: string;
  message: string;
}
interface AppView {
  cluster: string;
  health: string;
  message: string | null;
  resources: ResourceView[];
}

describe('a large chart with CRDs, webhooks, HPA, PDB, hooks and {{ }} text, from a chart repository to a Kubernetes cluster', () => {
  let home: string;
  let chartDir: string;
  let db: TestDatabase;
  let repo: Server;
  let repoURL: string;
  let hub: HubProcess;
  let api: ReturnType<typeof graphqlClient>;
  let server: KubeApiTestServer;
  let agent: ManagedProcess;

  const live = (apiVersion: string, kind: string, name: string, namespace = NAMESPACE) => server.getObject({ apiVersion, kind, namespace, name }) as (KubeObject & Record<string, unknown>) | undefined;
  const app = async (): Promise<AppView> => {
    const { appSet } = await api.must<{ appSet: { apps: AppView[] } }>(`{ appSet(name: "guard") { apps { cluster health message resources { kind namespace name health message } } } }`);
    expect(appSet.apps).toHaveLength(1);
    return appSet.apps[0]!;
  };
  const kube = (method: string, path: string, body?: unknown) =>
    fetch(`${server.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }).then(async (response) => {
      if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
    });
  const readySlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${RELEASE}-webhook-abcde`, namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': `${RELEASE}-webhook` } },
    addressType: 'IPv4',
    ports: [{ name: 'https', port: 8443, protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.244.0.17'], conditions: { ready: true } }],
  };

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'flotilla-large-chart-'));
    chartDir = join(home, 'src', 'guard');
    for (const [file, text] of Object.entries(chartFiles())) {
      mkdirSync(dirname(join(chartDir, file)), { recursive: true });
      writeFileSync(join(chartDir, file), text);
    }
    const repoDir = join(home, 'repo');
    mkdirSync(repoDir);
    const helmEnv = { ...process.env, HELM_CACHE_HOME: join(home, 'helm/cache'), HELM_CONFIG_HOME: join(home, 'helm/config'), HELM_DATA_HOME: join(home, 'helm/data') };
    execFileSync(helmBinary, ['package', chartDir, '--destination', repoDir], { env: helmEnv, stdio: 'pipe' });
    execFileSync(helmBinary, ['repo', 'index', repoDir], { env: helmEnv, stdio: 'pipe' });
    const port = await freePort();
    repo = createServer((req, res) => {
      const name = (req.url ?? '/').replace(/^\/+/, '');
      if (!/^[A-Za-z0-9._-]+$/.test(name)) return void res.writeHead(404).end();
      try {
        res.writeHead(200).end(readFileSync(join(repoDir, name)));
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => repo.listen(port, '127.0.0.1', resolve));
    repoURL = `http://127.0.0.1:${port}`;

    db = await createTestDatabase();
    hub = await startHub({ databaseUrl: db.url, env: { FLOTILLA_HELM_BINARY: helmBinary } });
    api = graphqlClient(hub.graphqlUrl, hub.adminToken);
    server = await KubeApiTestServer.start({ crdEstablishDelayMs: 100 });
    const kubeconfig = join(home, 'kube.kubeconfig');
    await server.writeKubeconfig(kubeconfig);
    const { registerCluster } = await api.must<{ registerCluster: { bootstrapToken: string } }>(`mutation { registerCluster(input: { name: "kube-large", labels: { driver: "kube" } }) { bootstrapToken } }`);
    agent = startAgent({ hubAddress: hub.grpcAddress, hubCa: hub.caBundle, cluster: 'kube-large', bootstrapToken: registerCluster.bootstrapToken, env: { FLOTILLA_DRIVER: 'kube', FLOTILLA_KUBECONFIG: kubeconfig } });
    await eventually(
      async () => {
        const { clusters } = await api.must<{ clusters: { name: string; connected: boolean; kubernetesVersion: string | null }[] }>(`{ clusters { name connected kubernetesVersion } }`);
        return clusters.some((c) => c.name === 'kube-large' && c.connected && c.kubernetesVersion !== null);
      },
      { what: `the agent connected with its capabilities\n${agent?.tail(10)}`, timeoutMs: 60_000 },
    );

    // The webhook's Service has a ready endpoint, as the EndpointSlice controller of a real cluster
    // would publish once the webhook's pods are ready (the test server runs no such controller).
    await kube('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    await kube('POST', `/apis/discovery.k8s.io/v1/namespaces/${NAMESPACE}/endpointslices`, readySlice);

    const applied = await api.must<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code path message } } }`, { y: appSetYaml(repoURL) });
    expect(applied.applyAppSet.issues).toEqual([]);
    const { startRollout } = await api.must<{ startRollout: { id: string } }>(`mutation { startRollout(appSet: "guard", reason: "install guard") { id } }`);
    await eventually(
      async () => {
        const { rollout } = await api.must<{ rollout: { phase: string; reason: string | null } }>(`query($id: ID!) { rollout(id: $id) { phase reason } }`, { id: startRollout.id });
        if (rollout.phase === 'PAUSED' || rollout.phase === 'FAILED' || rollout.phase === 'ROLLED_BACK') throw new Error(`rollout ${rollout.phase}: ${rollout.reason}\n${agent.tail(20)}\n${hub.tail(20)}`);
        return rollout.phase === 'SUCCEEDED';
      },
      { what: 'the rollout of the large chart', timeoutMs: 120_000 },
    );
  }, 240_000);

  afterAll(async () => {
    await agent?.stop();
    await hub?.stop();
    await server?.close();
    if (repo) await new Promise<void>((resolve) => repo.close(() => resolve()));
    await db?.drop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('applies every object the chart renders, its CRDs first (one over 1 MiB) and their custom resources, and leaves out the test hook', async () => {
    expect(Buffer.byteLength(chartFiles()['crds/policies.json']!)).toBeGreaterThan(1024 * 1024);
    for (const plural of ['gadgets', 'policies']) expect(live('apiextensions.k8s.io/v1', 'CustomResourceDefinition', `${plural}.${GROUP}`, ''), plural).toBeDefined();
    const policies = live('apiextensions.k8s.io/v1', 'CustomResourceDefinition', `policies.${GROUP}`, '') as unknown as { spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: { properties: Record<string, unknown> } } } } }[] } };
    expect(Object.keys(policies.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties)).toHaveLength(LARGE_SCHEMA_PROPERTIES);
    expect(live(`${GROUP}/v1`, 'Gadget', `${RELEASE}-default`)?.['spec']).toEqual({ size: 3, owner: 'team of kube-large' });
    for (const [apiVersion, kind] of [
      ['apps/v1', 'Deployment'],
      ['v1', 'Service'],
      ['autoscaling/v2', 'HorizontalPodAutoscaler'],
      ['policy/v1', 'PodDisruptionBudget'],
    ] as const) {
      expect(live(apiVersion, kind, `${RELEASE}-webhook`), kind).toBeDefined();
    }
    expect(live('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', `${RELEASE}-mutate`, '')).toBeDefined();
    expect(live('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', `${RELEASE}-validate`, '')).toBeDefined();
    expect(live('v1', 'Pod', `${RELEASE}-test`)).toBeUndefined();

    const resources = (await app()).resources.map((r) => `${r.kind} ${r.namespace}/${r.name}`).sort();
    expect(resources).toEqual(
      [
        `ConfigMap ${NAMESPACE}/${RELEASE}-monitoring`,
        `CustomResourceDefinition /gadgets.${GROUP}`,
        `CustomResourceDefinition /policies.${GROUP}`,
        `Deployment ${NAMESPACE}/${RELEASE}-webhook`,
        `Gadget ${NAMESPACE}/${RELEASE}-default`,
        `HorizontalPodAutoscaler ${NAMESPACE}/${RELEASE}-webhook`,
        `MutatingWebhookConfiguration /${RELEASE}-mutate`,
        `Namespace /${NAMESPACE}`,
        `PodDisruptionBudget ${NAMESPACE}/${RELEASE}-webhook`,
        `Service ${NAMESPACE}/${RELEASE}-webhook`,
        `ValidatingWebhookConfiguration /${RELEASE}-validate`,
      ].sort(),
    );
  });

  it('runs the pre-install hook before the chart’s objects and the post-install hook after them, and keeps both out of the App', async () => {
    const applies = server
      .requestLog()
      .filter((entry) => entry.method === 'PATCH' && !entry.query.includes('dryRun'))
      .map((entry) => entry.path);
    const firstApply = (suffix: string) => {
      const index = applies.findIndex((path) => path.endsWith(suffix));
      expect(index, `an apply of ${suffix}`).toBeGreaterThanOrEqual(0);
      return index;
    };
    const pre = firstApply(`/namespaces/${NAMESPACE}/jobs/${RELEASE}-prepare`);
    const post = firstApply(`/namespaces/${NAMESPACE}/jobs/${RELEASE}-announce`);
    const ordinary = [
      `/namespaces/${NAMESPACE}/configmaps/${RELEASE}-monitoring`,
      `/namespaces/${NAMESPACE}/deployments/${RELEASE}-webhook`,
      `/namespaces/${NAMESPACE}/services/${RELEASE}-webhook`,
      `/namespaces/${NAMESPACE}/horizontalpodautoscalers/${RELEASE}-webhook`,
      `/namespaces/${NAMESPACE}/poddisruptionbudgets/${RELEASE}-webhook`,
      `/namespaces/${NAMESPACE}/gadgets/${RELEASE}-default`,
      `/mutatingwebhookconfigurations/${RELEASE}-mutate`,
      `/validatingwebhookconfigurations/${RELEASE}-validate`,
    ].map(firstApply);
    expect(pre).toBeLessThan(Math.min(...ordinary));
    expect(post).toBeGreaterThan(Math.max(...ordinary));
    for (const name of ['prepare', 'announce']) {
      const hookJob = live('batch/v1', 'Job', `${RELEASE}-${name}`) as { status?: { conditions?: { type: string; status: string }[] } } | undefined;
      expect(hookJob?.status?.conditions, name).toContainEqual(expect.objectContaining({ type: 'Complete', status: 'True' }));
    }
  });

  it('delivers the ConfigMap’s {{ }} text byte for byte as helm rendered it', async () => {
    const data = live('v1', 'ConfigMap', `${RELEASE}-monitoring`)?.['data'] as Record<string, string> | undefined;
    expect(data?.['escaped']).toBe('{{ .Values.x }}');
    expect(data?.['raw']).toBe('{{ $labels.instance }} is down');
    expect(data?.['alert.rules']).toBe(readFileSync(join(chartDir, 'files/alert.rules'), 'utf8'));
    expect(data?.['dashboard.json']).toBe(readFileSync(join(chartDir, 'files/dashboard.json'), 'utf8'));
    expect(data?.['owner']).toBe('team of kube-large');

    // The same chart and values through helm itself: the agent's ConfigMap holds exactly its data.
    const valuesFile = join(home, 'owner-values.json');
    writeFileSync(valuesFile, JSON.stringify({ owner: 'team of kube-large' }));
    const rendered = execFileSync(helmBinary, ['template', RELEASE, chartDir, '--namespace', NAMESPACE, '--values', valuesFile], { stdio: 'pipe', maxBuffer: 64 * 1024 * 1024 }).toString('utf8');
    const configMap = parseAllDocuments(rendered)
      .map((doc) => doc.toJS() as { kind?: string; data?: Record<string, string> } | null)
      .find((doc) => doc?.kind === 'ConfigMap');
    expect(data).toEqual(configMap?.data);
  });

  it('judges the webhook configurations by their service’s endpoints, and the HPA and PDB by their status', async () => {
    const byKind = (view: AppView, kind: string) => view.resources.find((r) => r.kind === kind);
    const healthy = await app();
    expect(healthy).toMatchObject({ cluster: 'kube-large', health: 'HEALTHY' });
    expect(byKind(healthy, 'MutatingWebhookConfiguration')).toMatchObject({ health: 'HEALTHY', message: '1 webhook configured' });
    expect(byKind(healthy, 'ValidatingWebhookConfiguration')).toMatchObject({ health: 'HEALTHY', message: '1 webhook configured' });
    expect(byKind(healthy, 'HorizontalPodAutoscaler')).toMatchObject({ health: 'HEALTHY', message: expect.stringMatching(/^\d+ current, \d+ desired replicas$/) });
    expect(byKind(healthy, 'PodDisruptionBudget')).toMatchObject({ health: 'HEALTHY', message: expect.stringMatching(/^\d+ disruptions? allowed/) });

    // The webhook's last ready endpoint goes away: both configurations say so, with no new apply.
    await kube('DELETE', `/apis/discovery.k8s.io/v1/namespaces/${NAMESPACE}/endpointslices/${readySlice.metadata.name}`);
    const degraded = await eventually(
      async () => {
        const view = await app();
        return view.health === 'DEGRADED' && byKind(view, 'ValidatingWebhookConfiguration')?.health === 'DEGRADED' && byKind(view, 'MutatingWebhookConfiguration')?.health === 'DEGRADED' ? view : undefined;
      },
      { what: 'the webhook configurations DEGRADED', timeoutMs: 30_000 },
    );
    expect(byKind(degraded, 'ValidatingWebhookConfiguration')?.message).toBe(`webhook validate.${GROUP}: service ${NAMESPACE}/${RELEASE}-webhook has no ready endpoint (failurePolicy Fail)`);
    expect(byKind(degraded, 'MutatingWebhookConfiguration')?.message).toBe(`webhook mutate.${GROUP}: service ${NAMESPACE}/${RELEASE}-webhook has no ready endpoint (failurePolicy Ignore)`);

    await kube('POST', `/apis/discovery.k8s.io/v1/namespaces/${NAMESPACE}/endpointslices`, readySlice);
    await eventually(async () => (await app()).health === 'HEALTHY', { what: 'the App HEALTHY again', timeoutMs: 30_000 });
  });
});
