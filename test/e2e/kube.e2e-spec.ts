import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiTestServer, type KubeObject } from '../../agent/test/kube-api-server/index.js';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { startAgent, startHub, type HubProcess, type ManagedProcess } from '../harness/processes.js';

// The hub and three agents with the Kubernetes driver as real processes, each agent against its own
// Kubernetes API test server (agent/test/kube-api-server): real manifests go through server-side apply,
// kubectl changes show as drift, removals prune, and an agent restarted while the hub is down keeps
// reconciling from the desired state it cached in a Secret.

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const KUBECTL = join(ROOT, '.tools/bin/kubectl');
const REGIONS = ['us', 'eu', 'ap'] as const;
const CLUSTERS = REGIONS.map((region) => ({ name: `kube-${region}`, region }));
/** The agent restarted while the hub is down keeps its cache in a Secret of this namespace. */
const AGENT_NAMESPACE = 'kube-system';

const STRATEGY = `  strategy:
    byLabel: { label: region, order: [us, eu, ap], maxConcurrency: "100%", maxFailures: 0, soak: 1s, progressDeadline: 1m }`;

const CRD = `
      - apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: { name: widgets.example.com }
        spec:
          group: example.com
          scope: Namespaced
          names: { plural: widgets, singular: widget, kind: Widget, listKind: WidgetList }
          versions:
            - name: v1
              served: true
              storage: true
              schema:
                openAPIV3Schema:
                  type: object
                  properties:
                    spec: { type: object, x-kubernetes-preserve-unknown-fields: true }`;

/** One App per cluster with real workloads, a CRD and its custom resource. */
const storefrontYaml = (drift: 'report' | 'heal') => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: storefront }
spec:
  generators:
    - clusters: {}
  template:
    namespace: shop
    manifests:
      - apiVersion: v1
        kind: Namespace
        metadata: { name: shop }
${CRD}
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: storefront-config }
        data: { region: "{{ cluster.labels.region }}", tier: web }
      - apiVersion: apps/v1
        kind: Deployment
        metadata: { name: storefront }
        spec:
          replicas: 2
          selector: { matchLabels: { app: storefront } }
          template:
            metadata: { labels: { app: storefront } }
            spec: { containers: [{ name: web, image: "nginx:1.27", ports: [{ containerPort: 80 }] }] }
      - apiVersion: v1
        kind: Service
        metadata: { name: storefront }
        spec: { selector: { app: storefront }, ports: [{ port: 80, targetPort: 80 }] }
      - apiVersion: example.com/v1
        kind: Widget
        metadata: { name: storefront-widget }
        spec: { size: 3, region: "{{ cluster.labels.region }}" }
  syncPolicy:
    mode: sync
    drift: ${drift}
    scope: { namespaces: [shop], clusterScoped: true }
${STRATEGY}`;

/** One App per part and cluster (a matrix of a list and the clusters), each a ConfigMap in shop. */
const addonsYaml = (parts: string[]) => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: addons }
spec:
  generators:
    - matrix:
        generators:
          - list: { elements: [${parts.map((part) => `{ part: ${part} }`).join(', ')}] }
          - clusters: {}
  template:
    name: "{{ part }}"
    namespace: shop
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: "{{ part }}-config" }
        data: { part: "{{ part }}" }
  syncPolicy:
    mode: sync
    scope: { namespaces: [shop], clusterScoped: false }
${STRATEGY}`;

interface AppView {
  cluster: string;
  name: string;
  revision: string | null;
  stagedRevision: string | null;
  health: string;
  upToDate: boolean;
  drifted: boolean;
  resources: { kind: string; name: string; health: string; drifted: boolean; driftedFields: string[] }[];
}

interface Cluster {
  name: string;
  region: string;
  server: KubeApiTestServer;
  kubeconfig: string;
  token: string;
  agent: ManagedProcess;
}

describe('the Kubernetes driver end to end: a hub and three agents, each with its own Kubernetes API', () => {
  let db: TestDatabase;
  let hub: HubProcess;
  let api: ReturnType<typeof graphqlClient>;
  let home: string;
  const clusters: Cluster[] = [];

  const agentEnv = (cluster: Pick<Cluster, 'kubeconfig'>) => ({
    FLOTILLA_DRIVER: 'kube',
    FLOTILLA_KUBECONFIG: cluster.kubeconfig,
    FLOTILLA_CACHE_STORE: 'secret',
    FLOTILLA_AGENT_NAMESPACE: AGENT_NAMESPACE,
  });
  const cluster = (region: string) => clusters.find((c) => c.region === region)!;
  const configMap = (c: Cluster, name: string) => c.server.getObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name }) as (KubeObject & { data?: Record<string, string> }) | undefined;

  /** Runs kubectl against one cluster's API server (asynchronously: the server lives in this process). */
  const kubectl = (c: Cluster, ...args: string[]) =>
    new Promise<string>((done, fail) => {
      execFile(KUBECTL, ['--kubeconfig', c.kubeconfig, ...args], { env: { PATH: process.env['PATH'] ?? '', HOME: home, KUBECACHEDIR: join(home, 'cache') }, timeout: 30_000 }, (error, stdout, stderr) =>
        error === null ? done(stdout) : fail(new Error(`kubectl ${args.join(' ')} failed: ${stderr}`)),
      );
    });

  const apps = async (appSet: string) =>
    (
      await api.must<{ appSet: { apps: AppView[] } }>(
        `query($n: String!) { appSet(name: $n) { apps { cluster name revision stagedRevision health upToDate drifted resources { kind name health drifted driftedFields } } } }`,
        { n: appSet },
      )
    ).appSet.apps;
  const storefront = async (clusterName: string) => (await apps('storefront')).find((a) => a.cluster === clusterName);

  /** Applies an AppSet, rolls it out through every wave and waits until the rollout succeeded. */
  const rollOut = async (appSet: string, yaml: string, force = false) => {
    const applied = await api.must<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!, $f: Boolean) { applyAppSet(yaml: $y, force: $f) { issues { code path message } } }`, {
      y: yaml,
      f: force,
    });
    expect(applied.applyAppSet.issues).toEqual([]);
    const { startRollout } = await api.must<{ startRollout: { id: string } }>(`mutation($a: String!) { startRollout(appSet: $a) { id } }`, { a: appSet });
    return eventually(
      async () => {
        const { rollout } = await api.must<{ rollout: { phase: string; reason: string; events: { kind: string; message: string }[] } }>(
          `query($id: ID!) { rollout(id: $id) { phase reason events { kind message } } }`,
          { id: startRollout.id },
        );
        if (rollout.phase === 'PAUSED' || rollout.phase === 'ROLLED_BACK') throw new Error(`rollout ${rollout.phase}: ${rollout.reason}`);
        return rollout.phase === 'SUCCEEDED' ? rollout : undefined;
      },
      { what: 'the rollout to succeed', timeoutMs: 90_000 },
    );
  };

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'flotilla-kube-e2e-'));
    db = await createTestDatabase();
    hub = await startHub({ databaseUrl: db.url });
    api = graphqlClient(hub.graphqlUrl, hub.adminToken);
    for (const { name, region } of CLUSTERS) {
      const server = await KubeApiTestServer.start({ crdEstablishDelayMs: 200 });
      const kubeconfig = join(home, `${name}.kubeconfig`);
      await server.writeKubeconfig(kubeconfig);
      const { registerCluster } = await api.must<{ registerCluster: { bootstrapToken: string } }>(
        `mutation($name: String!, $labels: JSONObject) { registerCluster(input: { name: $name, labels: $labels }) { bootstrapToken } }`,
        { name, labels: { region } },
      );
      const token = registerCluster.bootstrapToken;
      const agent = startAgent({ hubAddress: hub.grpcAddress, hubCa: hub.caBundle, cluster: name, bootstrapToken: token, env: agentEnv({ kubeconfig }) });
      clusters.push({ name, region, server, kubeconfig, token, agent });
    }
    await eventually(async () => (await api.must<{ clusters: { connected: boolean }[] }>(`{ clusters { connected } }`)).clusters.filter((c) => c.connected).length === 3, {
      what: `three agents connected\n${clusters.map((c) => c.agent.tail(10)).join('\n')}`,
    });
  });

  afterAll(async () => {
    await Promise.all(clusters.map((c) => c.agent.stop()));
    await hub?.stop();
    await Promise.all(clusters.map((c) => c.server.close()));
    await db?.drop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('rolls real manifests out wave by wave: a Namespace, a ConfigMap, a Deployment, a Service, a CRD and its custom resource, all HEALTHY', async () => {
    const done = await rollOut('storefront', storefrontYaml('report'));
    expect(done.events.filter((e) => e.kind === 'WAVE_STARTED').map((e) => e.message)).toEqual(['Wave us started.', 'Wave eu started.', 'Wave ap started.']);

    const views = await apps('storefront');
    expect(views.map((v) => v.cluster).sort()).toEqual(clusters.map((c) => c.name).sort());
    for (const view of views) {
      expect(view, view.cluster).toMatchObject({ name: 'storefront', health: 'HEALTHY', upToDate: true, drifted: false, revision: view.stagedRevision });
      expect(view.resources.map((r) => `${r.kind}/${r.name}`).sort()).toEqual([
        'ConfigMap/storefront-config',
        'CustomResourceDefinition/widgets.example.com',
        'Deployment/storefront',
        'Namespace/shop',
        'Service/storefront',
        'Widget/storefront-widget',
      ]);
    }
    for (const c of clusters) {
      const deployment = c.server.getObject({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'storefront' }) as KubeObject & { status?: { readyReplicas?: number } };
      expect(deployment.status?.readyReplicas, c.name).toBe(2);
      expect(deployment.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'flotilla' });
      expect(deployment.metadata.managedFields?.map((m) => m.manager)).toContain('flotilla-agent');
      expect(c.server.getObject({ apiVersion: 'example.com/v1', kind: 'Widget', namespace: 'shop', name: 'storefront-widget' })).toMatchObject({ spec: { size: 3, region: c.region } });
      expect(configMap(c, 'storefront-config')?.data).toEqual({ region: c.region, tier: 'web' });
    }
  });

  it('shows a change made with kubectl as drift in GraphQL, with the changed field, and leaves it under the report policy', async () => {
    const eu = cluster('eu');
    await kubectl(eu, 'patch', 'configmap', 'storefront-config', '-n', 'shop', '--type', 'merge', '-p', '{"data":{"region":"changed-by-hand"}}');
    const drifted = await eventually(async () => {
      const view = await storefront(eu.name);
      return view?.drifted ? view : undefined;
    }, { what: `drift of storefront on ${eu.name}\n${eu.agent.tail(20)}` });
    expect(drifted.resources.filter((r) => r.drifted)).toEqual([expect.objectContaining({ kind: 'ConfigMap', name: 'storefront-config', driftedFields: ['data.region'] })]);
    expect((await storefront(cluster('us').name))?.drifted).toBe(false);
    expect(JSON.parse(await kubectl(eu, 'get', 'configmap', 'storefront-config', '-n', 'shop', '-o', 'json')).data.region).toBe('changed-by-hand');
  });

  it('heals the drift once the AppSet says heal, and the App is no longer drifted', async () => {
    const eu = cluster('eu');
    await rollOut('storefront', storefrontYaml('heal'));
    await eventually(async () => configMap(eu, 'storefront-config')?.data?.['region'] === 'eu', { what: 'the ConfigMap healed back to its desired value' });
    await eventually(async () => (await storefront(eu.name))?.drifted === false, { what: 'the App reported not drifted' });
    // A later change by hand is healed too.
    await kubectl(eu, 'scale', 'deployment', 'storefront', '-n', 'shop', '--replicas=5');
    await eventually(async () => (eu.server.getObject({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'storefront' }) as { spec?: { replicas?: number } }).spec?.replicas === 2, {
      what: 'the Deployment scaled back to 2',
    });
  });

  it('prunes the objects of an App removed from the AppSet, and keeps those of the other Apps', async () => {
    await rollOut('addons', addonsYaml(['metrics', 'logging']));
    for (const c of clusters) expect(configMap(c, 'logging-config'), c.name).toMatchObject({ data: { part: 'logging' } });
    // Half of the AppSet's Apps go: more than the deletion breaker lets through without force.
    await rollOut('addons', addonsYaml(['metrics']), true);
    for (const c of clusters) {
      await eventually(async () => configMap(c, 'logging-config') === undefined, { what: `logging-config pruned on ${c.name}` });
      expect(configMap(c, 'metrics-config'), c.name).toBeDefined();
      expect(configMap(c, 'storefront-config'), c.name).toBeDefined();
    }
    expect((await apps('addons')).map((a) => `${a.cluster}/${a.name}`).sort()).toEqual(clusters.map((c) => `${c.name}/metrics`).sort());
  });

  it('an agent restarted while the hub is down keeps reconciling from the desired state cached in its Secret', async () => {
    const ap = cluster('ap');
    const cached = ap.server.listObjects({ kind: 'Secret', namespace: AGENT_NAMESPACE }).map((s) => s.metadata.name);
    expect(cached.some((name) => name?.startsWith('flotilla-agent'))).toBe(true);

    await hub.stop();
    await ap.agent.stop();
    // A fresh state folder: whatever the agent knows after the restart comes from the cluster's Secret.
    ap.agent = startAgent({ hubAddress: hub.grpcAddress, hubCa: hub.caBundle, cluster: ap.name, env: agentEnv(ap) });
    await kubectl(ap, 'delete', 'service', 'storefront', '-n', 'shop');
    await kubectl(ap, 'patch', 'configmap', 'storefront-config', '-n', 'shop', '--type', 'merge', '-p', '{"data":{"tier":"edited-while-offline"}}');
    await eventually(async () => ap.server.getObject({ apiVersion: 'v1', kind: 'Service', namespace: 'shop', name: 'storefront' }) !== undefined, {
      what: `the deleted Service re-created without the hub\n${ap.agent.tail(20)}`,
      timeoutMs: 30_000,
    });
    await eventually(async () => configMap(ap, 'storefront-config')?.data?.['tier'] === 'web', { what: 'the ConfigMap healed without the hub', timeoutMs: 30_000 });
    expect(ap.agent.running).toBe(true);
  });
});
