import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { startAgent, startHub, type HubProcess, type ManagedProcess } from '../harness/processes.js';

const CLUSTERS = [
  { name: 'us-east-1', region: 'us-east' },
  { name: 'eu-west-1', region: 'eu-west' },
  { name: 'ap-south-1', region: 'ap-south' },
];

const appSet = (greeting: string) => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: shop }
spec:
  generators:
    - clusters: { selector: { matchLabels: { env: prod } } }
  template:
    namespace: shop
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: shop }
        data: { region: "{{ cluster.labels.region }}", greeting: "${greeting}" }
  strategy:
    byLabel: { label: region, maxConcurrency: "100%", soak: 1s }
`;

interface ClusterView {
  name: string;
  connected: boolean;
  apps: { name: string; revision: string | null; health: string; upToDate: boolean }[];
}

describe('a hub and three agents as real processes', () => {
  let db: TestDatabase;
  let hub: HubProcess;
  const agents: ManagedProcess[] = [];
  let api: ReturnType<typeof graphqlClient>;

  const clusters = async () => (await api.must<{ clusters: ClusterView[] }>(`{ clusters { name connected apps { name revision health upToDate } } }`)).clusters;
  const apply = async (yaml: string) => {
    const data = await api.must<{ applyAppSet: { changed: boolean; issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { changed issues { code path message } } }`, { y: yaml });
    expect(data.applyAppSet.issues).toEqual([]);
  };
  const startRollout = async () => (await api.must<{ startRollout: { id: string } }>(`mutation { startRollout(appSet: "shop") { id } }`)).startRollout.id;
  const stagedRevisions = async () =>
    new Set((await api.must<{ appSet: { apps: { stagedRevision: string }[] } }>(`{ appSet(name: "shop") { apps { stagedRevision } } }`)).appSet.apps.map((a) => a.stagedRevision));

  /** Every cluster connected, with its one App healthy at the released revision in `revisions`. */
  const allHealthyAt = async (revisions: Set<string>) =>
    eventually(
      async () => {
        const now = await clusters();
        return now.length === CLUSTERS.length && now.every((c) => c.connected && c.apps.length === 1 && c.apps[0]!.health === 'HEALTHY' && c.apps[0]!.upToDate && revisions.has(c.apps[0]!.revision!));
      },
      { what: 'every cluster HEALTHY at the released revision', timeoutMs: 45_000 },
    );
  const rolloutPhase = async (id: string) => (await api.must<{ rollout: { phase: string } }>(`query($id: ID!) { rollout(id: $id) { phase } }`, { id })).rollout.phase;

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startHub({ databaseUrl: db.url });
    api = graphqlClient(hub.graphqlUrl, hub.adminToken);
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await hub?.stop();
    await db?.drop();
  });

  it('registers three clusters, rolls an AppSet out, rolls a change out, and survives a hub kill -9 with nothing lost', async () => {
    // Given three registered clusters, each with its agent running
    for (const cluster of CLUSTERS) {
      const { registerCluster } = await api.must<{ registerCluster: { bootstrapToken: string } }>(
        `mutation($name: String!, $labels: JSONObject) { registerCluster(input: { name: $name, labels: $labels }) { bootstrapToken } }`,
        { name: cluster.name, labels: { region: cluster.region, env: 'prod' } },
      );
      agents.push(startAgent({ hubAddress: hub.grpcAddress, hubCa: hub.caBundle, cluster: cluster.name, bootstrapToken: registerCluster.bootstrapToken }));
    }
    await eventually(async () => (await clusters()).every((c) => c.connected), { what: 'all agents connected' });

    // When an AppSet is applied and rolled out
    await apply(appSet('hello'));
    const first = await stagedRevisions();
    expect(first.size).toBe(3); // one revision per region: the manifests differ by region
    const firstRollout = await startRollout();

    // Then every cluster runs it and reports HEALTHY at that revision
    await allHealthyAt(first);
    await eventually(async () => (await rolloutPhase(firstRollout)) === 'SUCCEEDED', { what: 'first rollout SUCCEEDED' });

    // When the AppSet changes and is rolled out again
    await apply(appSet('bonjour'));
    const second = await stagedRevisions();
    expect([...second].some((r) => first.has(r))).toBe(false);
    await startRollout();
    await allHealthyAt(second);

    // When a third change is released and the hub is killed at once
    await apply(appSet('hola'));
    const third = await stagedRevisions();
    const thirdRollout = await startRollout();
    await hub.stop('SIGKILL');
    await eventually(async () => !hub.running, { what: 'hub gone' });

    // Then, after a restart on the same database and ports, the agents reconnect, resync, and the
    // release committed before the kill reaches every cluster
    hub = await startHub({ databaseUrl: db.url, port: Number(new URL(hub.graphqlUrl).port), grpcPort: Number(hub.grpcAddress.split(':')[1]) });
    await allHealthyAt(third);
    await eventually(async () => (await rolloutPhase(thirdRollout)) === 'SUCCEEDED', { what: 'third rollout SUCCEEDED' });
    for (const agent of agents) expect(agent.running, agent.tail()).toBe(true);
  });
});
