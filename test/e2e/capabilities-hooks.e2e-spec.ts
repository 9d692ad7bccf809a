import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_VERSION } from '../../agent/test/kube-api-server/discovery.js';
import { KubeApiTestServer, type KubeObject } from '../../agent/test/kube-api-server/index.js';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { startAgent, startHub, type HubProcess, type ManagedProcess } from '../harness/processes.js';

// The hub and two agents as real processes: one with the Kubernetes driver against a Kubernetes API
// test server, one with the simulated driver told to be an older Kubernetes. Each reports its
// cluster's capabilities at connect, shown per cluster in GraphQL; an App with pre and post hooks rolls
// out to the Kubernetes cluster with its hooks run in their phases and deleted per their policy.

const SIM_VERSION = 'v1.33.4';

interface CapabilitiesView {
  name: string;
  connected: boolean;
  kubernetesVersion: string | null;
  apiVersions: string[] | null;
  capabilitiesProblem: string | null;
}

const hooksYaml = `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: hooked }
spec:
  generators:
    - clusters: { selector: { matchLabels: { driver: kube } } }
  template:
    namespace: hooked
    manifests:
      - apiVersion: v1
        kind: Namespace
        metadata: { name: hooked }
      - apiVersion: batch/v1
        kind: Job
        metadata:
          name: migrate
          annotations: { flotilla.dev/phase: pre, helm.sh/hook-delete-policy: hook-succeeded }
        spec:
          backoffLimit: 0
          template:
            spec:
              restartPolicy: Never
              containers: [{ name: migrate, image: "busybox:1.36", command: ["true"] }]
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: settings }
        data: { color: blue }
      - apiVersion: batch/v1
        kind: Job
        metadata:
          name: smoke
          annotations: { flotilla.dev/phase: post }
        spec:
          backoffLimit: 0
          template:
            spec:
              restartPolicy: Never
              containers: [{ name: smoke, image: "busybox:1.36", command: ["true"] }]
  strategy:
    waves: [{ name: all, maxConcurrency: "100%", soak: 0s }]
`;

describe('cluster capabilities and hook phases with real agents', () => {
  let home: string;
  let db: TestDatabase;
  let hub: HubProcess;
  let api: ReturnType<typeof graphqlClient>;
  let server: KubeApiTestServer;
  const agents: ManagedProcess[] = [];

  const clusters = async () => (await api.must<{ clusters: CapabilitiesView[] }>(`{ clusters { name connected kubernetesVersion apiVersions capabilitiesProblem } }`)).clusters;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'flotilla-caps-e2e-'));
    db = await createTestDatabase();
    hub = await startHub({ databaseUrl: db.url });
    api = graphqlClient(hub.graphqlUrl, hub.adminToken);
    server = await KubeApiTestServer.start({});
    const kubeconfig = join(home, 'kube.kubeconfig');
    await server.writeKubeconfig(kubeconfig);
    for (const [name, env] of [
      ['caps-kube', { FLOTILLA_DRIVER: 'kube', FLOTILLA_KUBECONFIG: kubeconfig }],
      ['caps-sim', { FLOTILLA_SIM_KUBERNETES_VERSION: SIM_VERSION }],
    ] as const) {
      const { registerCluster } = await api.must<{ registerCluster: { bootstrapToken: string } }>(
        `mutation($name: String!, $labels: JSONObject) { registerCluster(input: { name: $name, labels: $labels }) { bootstrapToken } }`,
        { name, labels: { driver: name === 'caps-kube' ? 'kube' : 'sim' } },
      );
      agents.push(startAgent({ hubAddress: hub.grpcAddress, hubCa: hub.caBundle, cluster: name, bootstrapToken: registerCluster.bootstrapToken, env }));
    }
    await eventually(async () => (await clusters()).filter((c) => c.connected && c.kubernetesVersion !== null).length === 2, {
      what: `two agents connected with their capabilities\n${agents.map((a) => a.tail(10)).join('\n')}`,
    });
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await hub?.stop();
    await server?.close();
    await db?.drop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("shows each cluster's Kubernetes version and served API resources, as its agent discovered them", async () => {
    const byName = new Map((await clusters()).map((c) => [c.name, c]));
    const kube = byName.get('caps-kube')!;
    const sim = byName.get('caps-sim')!;
    expect(kube).toMatchObject({ kubernetesVersion: SERVER_VERSION.gitVersion, capabilitiesProblem: null });
    expect(kube.apiVersions).toEqual(expect.arrayContaining(['v1', 'v1/ConfigMap', 'apps/v1', 'apps/v1/Deployment', 'batch/v1/Job', 'apiextensions.k8s.io/v1/CustomResourceDefinition']));
    expect(kube.apiVersions).toEqual([...kube.apiVersions!].sort());
    expect(sim).toMatchObject({ kubernetesVersion: SIM_VERSION, capabilitiesProblem: null });
    expect(sim.apiVersions).toEqual(expect.arrayContaining(['v1', 'apps/v1/Deployment', 'policy/v1/PodDisruptionBudget']));
  });

  it('rolls out an App with a pre and a post hook: both run, the pre hook is deleted after success, the post hook is kept, only the ordinary objects are the App', async () => {
    const applied = await api.must<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code path message } } }`, { y: hooksYaml });
    expect(applied.applyAppSet.issues).toEqual([]);
    const { startRollout } = await api.must<{ startRollout: { id: string } }>(`mutation { startRollout(appSet: "hooked") { id } }`);
    await eventually(
      async () => {
        const { rollout } = await api.must<{ rollout: { phase: string; reason: string } }>(`query($id: ID!) { rollout(id: $id) { phase reason } }`, { id: startRollout.id });
        if (rollout.phase === 'PAUSED' || rollout.phase === 'ROLLED_BACK') throw new Error(`rollout ${rollout.phase}: ${rollout.reason}\n${agents[0]!.tail(20)}`);
        return rollout.phase === 'SUCCEEDED';
      },
      { what: 'the rollout of hooked to succeed', timeoutMs: 90_000 },
    );

    const { appSet } = await api.must<{ appSet: { apps: { cluster: string; health: string; resources: { kind: string; name: string }[] }[] } }>(
      `{ appSet(name: "hooked") { apps { cluster health resources { kind name } } } }`,
    );
    expect(appSet.apps).toHaveLength(1);
    expect(appSet.apps[0]).toMatchObject({ cluster: 'caps-kube', health: 'HEALTHY' });
    expect(appSet.apps[0]!.resources.map((r) => `${r.kind}/${r.name}`).sort()).toEqual(['ConfigMap/settings', 'Namespace/hooked']);

    expect(server.getObject({ apiVersion: 'batch/v1', kind: 'Job', namespace: 'hooked', name: 'migrate' })).toBeUndefined();
    const smoke = server.getObject({ apiVersion: 'batch/v1', kind: 'Job', namespace: 'hooked', name: 'smoke' }) as (KubeObject & { status?: { conditions?: { type: string; status: string }[] } }) | undefined;
    expect(smoke?.status?.conditions).toContainEqual(expect.objectContaining({ type: 'Complete', status: 'True' }));
    expect(server.getObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'hooked', name: 'settings' })).toBeDefined();
  });
});
