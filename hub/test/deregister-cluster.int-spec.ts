import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../src/config/hub-config';
import { startHub, type RunningHub } from '../src/hub';
import { FakeAgent } from './support/fake-agent';
import { TEST_ADMIN_TOKEN } from './support/admin-token';
import { eventually, graphqlClient } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const appSetYaml = `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: web }
spec:
  generators:
    - clusters: { selector: { matchLabels: { env: prod } } }
  template:
    namespace: web
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: web }
        data: { cluster: "{{ cluster.name }}" }
  strategy:
    waves: [{ name: all, maxConcurrency: "100%", soak: 0s }]
`;

interface Issue {
  code: string;
  path: string;
  message: string;
}
interface Deregistered {
  deregisterCluster: { cluster: string; deregistered: boolean; issues: Issue[] };
}
const DEREGISTER = `mutation($name: String!, $force: Boolean!) { deregisterCluster(name: $name, force: $force) { cluster deregistered issues { code path message } } }`;

/**
 * Two hub replicas on one database: eu-1 and eu-2 run the AppSet `web` (env: prod); dev-1 runs nothing.
 * The agents of eu-1 and eu-2 hold their streams on replica A, dev-1's on replica B.
 */
describe('deregisterCluster on real PostgreSQL with agents over real gRPC', () => {
  let db: TestDatabase;
  const hubs: RunningHub[] = [];
  const agents = new Map<string, FakeAgent>();
  const credentials = new Map<string, string>();
  let heartbeats: NodeJS.Timeout | undefined;
  let a: ReturnType<typeof graphqlClient>;
  let rolloutId = '';

  const clusterNames = async () => (await a<{ clusters: { name: string }[] }>(`{ clusters { name } }`)).data!.clusters.map((c) => c.name);
  const appsOfWeb = async () =>
    (await a<{ appSet: { apps: { cluster: string }[] } }>(`{ appSet(name: "web") { apps { cluster } } }`)).data!.appSet.apps.map((x) => x.cluster).sort();
  const deregister = (name: string, force = false) => a<Deregistered>(DEREGISTER, { name, force });

  beforeAll(async () => {
    db = await createTestDatabase();
    for (const replica of ['hub-a', 'hub-b']) {
      hubs.push(
        await startHub(
          loadHubConfig({
            DATABASE_URL: db.url,
            PORT: '0',
            FLOTILLA_GRPC_PORT: '0',
            FLOTILLA_OUTBOX_SCAN_MS: '200',
            FLOTILLA_HEARTBEAT_SECONDS: '1',
            FLOTILLA_LOG_LEVEL: 'error',
            FLOTILLA_REPLICA_ID: replica,
            FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
          }),
        ),
      );
    }
    a = graphqlClient(hubs[0]!.graphqlUrl, TEST_ADMIN_TOKEN);
    for (const [name, env, replica] of [
      ['eu-1', 'prod', 0],
      ['eu-2', 'prod', 0],
      ['dev-1', 'dev', 1],
    ] as const) {
      const res = await a<{ registerCluster: { bootstrapToken: string } }>(
        `mutation($n: String!, $l: JSONObject) { registerCluster(input: { name: $n, labels: $l }) { bootstrapToken } }`,
        { n: name, l: { env } },
      );
      const agent = new FakeAgent(hubs[replica]!, name, res.data!.registerCluster.bootstrapToken);
      agent.connect();
      agents.set(name, agent);
      credentials.set(name, await eventually(async () => agent.welcomeCredential(), { what: `welcome of ${name}` }));
    }
    // A real agent heartbeats; the replica holding a stream notices a deregistration on its last-seen write.
    heartbeats = setInterval(() => {
      for (const agent of agents.values()) agent.send({ case: 'heartbeat', value: { sentAtUnixMs: BigInt(Date.now()) } });
    }, 200);
    expect((await a<{ applyAppSet: { issues: Issue[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code path message } } }`, { y: appSetYaml })).data!.applyAppSet.issues).toEqual(
      [],
    );
  });

  afterAll(async () => {
    clearInterval(heartbeats);
    for (const agent of agents.values()) agent.close();
    for (const hub of hubs) await hub.stop();
    await db?.drop();
  });

  it.each([
    { name: 'deregistering an unknown cluster is NOT_FOUND', query: DEREGISTER, variables: { name: 'nowhere-1', force: true } },
    { name: 'previewing the removal of an unknown cluster is NOT_FOUND', query: `{ previewClusterChange(cluster: "nowhere-1", remove: true) { appSets { appSet } } }`, variables: {} },
  ])('$name', async ({ query, variables }) => {
    const res = await a(query, variables);
    expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it.each([
    { phase: 'PROGRESSING', act: async () => (rolloutId = (await a<{ startRollout: { id: string } }>(`mutation { startRollout(appSet: "web") { id } }`)).data!.startRollout.id) },
    { phase: 'PAUSED', act: () => a(`mutation($id: ID!) { pauseRollout(id: $id) { phase } }`, { id: rolloutId }) },
  ])('a cluster targeted by a $phase rollout cannot be deregistered, even with force; the refusal names the rollout', async ({ phase, act }) => {
    await act();
    expect((await a<{ rollout: { phase: string } }>(`query($id: ID!) { rollout(id: $id) { phase } }`, { id: rolloutId })).data!.rollout.phase).toBe(phase);
    const res = await deregister('eu-2', true);
    expect(res.errors?.[0]?.extensions?.code).toBe('FAILED_PRECONDITION');
    expect(res.errors?.[0]?.message).toContain(rolloutId);
    expect(res.errors?.[0]?.message).toMatch(/abort the rollout or let it finish/);
    expect(await clusterNames()).toEqual(['dev-1', 'eu-1', 'eu-2']);
  });

  it('previewClusterChange(remove: true) shows the Apps that would go and the tripped breaker, and writes nothing', async () => {
    await a(`mutation($id: ID!) { abortRollout(id: $id) { phase } }`, { id: rolloutId });
    const res = await a<{ previewClusterChange: { appSets: { appSet: string; clusters: { cluster: string; removed: { app: string; diff: string }[] }[]; issues: Issue[] }[] } }>(
      `{ previewClusterChange(cluster: "eu-2", remove: true) { appSets { appSet clusters { cluster removed { app diff } } issues { code path message } } } }`,
    );
    expect(res.errors).toBeUndefined();
    const [web, ...others] = res.data!.previewClusterChange.appSets;
    expect(others).toEqual([]);
    expect(web!.appSet).toBe('web');
    expect(web!.clusters.map((c) => ({ cluster: c.cluster, removed: c.removed.map((r) => r.app) }))).toEqual([{ cluster: 'eu-2', removed: ['web'] }]);
    expect(web!.clusters[0]!.removed[0]!.diff).toContain('-  cluster: eu-2');
    expect(web!.issues.map((i) => i.code)).toEqual(['DELETION_BREAKER']);
    expect(await clusterNames()).toEqual(['dev-1', 'eu-1', 'eu-2']);
    expect(await appsOfWeb()).toEqual(['eu-1', 'eu-2']);
  });

  it('without force, removing one of the two clusters of an AppSet (50 %) trips its breaker: the AppSet is named and nothing changes', async () => {
    const res = await deregister('eu-2');
    expect(res.errors).toBeUndefined();
    expect(res.data!.deregisterCluster).toMatchObject({ cluster: 'eu-2', deregistered: false, issues: [{ code: 'DELETION_BREAKER', path: 'appSets.web' }] });
    expect(res.data!.deregisterCluster.issues[0]!.message).toMatch(/remove 1 of the 2 Apps of AppSet "web".*force: true/);
    expect(await clusterNames()).toEqual(['dev-1', 'eu-1', 'eu-2']);
    expect(await appsOfWeb()).toEqual(['eu-1', 'eu-2']);
    expect(agents.get('eu-2')!.status).toBeUndefined();
  });

  it.each([
    { name: 'with force, a cluster whose agent streams to this replica', cluster: 'eu-2', force: true, webApps: ['eu-1'] },
    { name: 'a cluster no AppSet targets, whose agent streams to another replica', cluster: 'dev-1', force: false, webApps: ['eu-1'] },
  ])('$name is deregistered: gone from clusters and AppSets, its agent cut off within seconds and refused on reconnect', async ({ cluster, force, webApps }) => {
    const res = await deregister(cluster, force);
    expect(res.data!.deregisterCluster).toEqual({ cluster, deregistered: true, issues: [] });
    expect(await clusterNames()).not.toContain(cluster);
    expect(await appsOfWeb()).toEqual(webApps);

    const agent = agents.get(cluster)!;
    await eventually(async () => agent.status, { timeoutMs: 5000, what: `the stream of ${cluster} to end` });
    expect(agent.status!.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(agent.refusal()).toBe('UNAUTHENTICATED');

    for (const hub of hubs) {
      const again = new FakeAgent(hub, cluster, credentials.get(cluster)!);
      again.connect();
      await eventually(async () => again.refusal(), { what: `refusal of the reconnect of ${cluster}` });
      expect(again.refusal()).toBe('UNAUTHENTICATED');
      expect(again.desired()).toEqual([]);
      again.close();
    }
  });

  it('the rollout that targeted a deregistered cluster keeps it in its history', async () => {
    const res = await a<{ rollout: { phase: string; targets: { cluster: string; app: string }[] } }>(`query($id: ID!) { rollout(id: $id) { phase targets { cluster app } } }`, {
      id: rolloutId,
    });
    expect(res.data!.rollout.phase).toBe('ABORTED');
    expect(res.data!.rollout.targets.map((t) => `${t.cluster}/${t.app}`).sort()).toEqual(['(deregistered)/web', 'eu-1/web']);
  });

  it('the name of a deregistered cluster can be registered again, as a new cluster', async () => {
    const res = await a<{ registerCluster: { cluster: { name: string; connected: boolean } } }>(`mutation { registerCluster(input: { name: "dev-1" }) { cluster { name connected } } }`);
    expect(res.data!.registerCluster.cluster).toEqual({ name: 'dev-1', connected: false });
    const stale = new FakeAgent(hubs[1]!, 'dev-1', credentials.get('dev-1')!);
    stale.connect();
    await eventually(async () => stale.refusal(), { what: 'refusal of the old credential' });
    expect(stale.refusal()).toBe('UNAUTHENTICATED');
    stale.close();
  });
});
