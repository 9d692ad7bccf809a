import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { startAgent, startHub, type HubProcess, type ManagedProcess } from '../harness/processes.js';
import { TcpBalancer } from '../harness/tcp-balancer.js';

/**
 * Several stateless hub replicas over one PostgreSQL: agents reach them through a TCP balancer (as they
 * would through a Service), a rollout runs, and one replica is killed with SIGKILL in the middle of a
 * wave. The rollout must finish with every cluster at the new revision, each wave started once and each
 * cluster released once.
 */
const REGIONS = ['us', 'eu', 'ap'];
const CLUSTERS = REGIONS.flatMap((region) => [1, 2].map((n) => ({ name: `${region}-${n}`, region })));

const appSet = (value: string) => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: web }
spec:
  generators:
    - clusters: {}
  template:
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: web }
        data: { value: "${value}", region: "{{ cluster.labels.region }}" }
  strategy:
    byLabel: { label: region, order: [us, eu, ap], maxConcurrency: "100%", maxFailures: 0, soak: 3s, progressDeadline: 2m }
`;

interface RolloutView {
  phase: string;
  currentWave: string | null;
  events: { kind: string; message: string }[];
}

describe('three hub replicas over one database, one killed mid-wave', () => {
  let db: TestDatabase;
  const hubs: HubProcess[] = [];
  let balancer: TcpBalancer;
  const agents: ManagedProcess[] = [];

  const apiOf = (hub: HubProcess) => graphqlClient(hub.graphqlUrl);
  /** Any replica that is still running answers GraphQL. */
  const api = () => apiOf(hubs.find((hub) => hub.running)!);

  beforeAll(async () => {
    db = await createTestDatabase();
    // The first replica migrates; the others start against the migrated schema (they would also wait on
    // the migration lock if started at once).
    hubs.push(await startHub({ databaseUrl: db.url, env: { FLOTILLA_REPLICA_ID: 'hub-a' } }));
    hubs.push(...(await Promise.all(['hub-b', 'hub-c'].map((id) => startHub({ databaseUrl: db.url, env: { FLOTILLA_REPLICA_ID: id } })))));
    balancer = await TcpBalancer.start(hubs.map((hub) => hub.grpcAddress));
    for (const cluster of CLUSTERS) {
      const { registerCluster } = await api().must<{ registerCluster: { bootstrapToken: string } }>(
        `mutation($name: String!, $labels: JSONObject) { registerCluster(input: { name: $name, labels: $labels }) { bootstrapToken } }`,
        { name: cluster.name, labels: { region: cluster.region } },
      );
      agents.push(startAgent({ hubAddress: balancer.address, cluster: cluster.name, bootstrapToken: registerCluster.bootstrapToken }));
    }
    await eventually(
      async () => (await api().must<{ clusters: { connected: boolean }[] }>(`{ clusters { connected } }`)).clusters.filter((c) => c.connected).length === CLUSTERS.length,
      { what: 'every agent connected', timeoutMs: 60_000 },
    );
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    await balancer?.close();
    await Promise.all(hubs.map((hub) => hub.stop()));
    await db?.drop();
  });

  it('spreads the agents over every replica', () => {
    expect([...balancer.connectionsPerBackend.keys()].sort()).toEqual(hubs.map((hub) => hub.grpcAddress).sort());
  });

  it('finishes a rollout while a replica is killed mid-wave: nothing lost, no wave or release twice', async () => {
    const applied = await api().must<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code path message } } }`, { y: appSet('v1') });
    expect(applied.applyAppSet.issues).toEqual([]);
    const { startRollout } = await api().must<{ startRollout: { id: string } }>(`mutation { startRollout(appSet: "web") { id } }`);
    const rollout = async () =>
      (await api().must<{ rollout: RolloutView }>(`query($id: ID!) { rollout(id: $id) { phase currentWave events { kind message } } }`, { id: startRollout.id })).rollout;

    await eventually(async () => (await rollout()).currentWave === 'eu', { what: 'wave eu started', timeoutMs: 60_000 });
    const victim = hubs[0]!;
    const survivors = hubs.slice(1).map((hub) => hub.grpcAddress);
    const survivorConnections = () => survivors.reduce((sum, address) => sum + (balancer.connectionsPerBackend.get(address) ?? 0), 0);
    const beforeKill = survivorConnections();
    await victim.stop('SIGKILL');

    const done = await eventually(
      async () => {
        const view = await rollout();
        if (view.phase === 'FAILED' || view.phase === 'PAUSED') throw new Error(`rollout ended ${view.phase}: ${JSON.stringify(view.events)}`);
        return view.phase === 'SUCCEEDED' ? view : undefined;
      },
      { what: 'rollout SUCCEEDED after the kill', timeoutMs: 90_000 },
    );

    // The victim's agents came back through the balancer to the surviving replicas.
    expect(survivorConnections()).toBeGreaterThan(beforeKill);
    const started = done.events.filter((e) => e.kind === 'WAVE_STARTED').map((e) => e.message);
    expect(started).toEqual(['Wave us started.', 'Wave eu started.', 'Wave ap started.']);
    const releasedTo = done.events.filter((e) => e.kind === 'RELEASED').flatMap((e) => /Released to (.*) \(wave/.exec(e.message)![1]!.split(', '));
    expect(releasedTo.sort()).toEqual(CLUSTERS.map((c) => c.name).sort());

    const { appSet: view } = await api().must<{ appSet: { apps: { cluster: string; revision: string | null; healthRevision: string | null; health: string }[] } }>(
      `{ appSet(name: "web") { apps { cluster revision healthRevision health } } }`,
    );
    expect(view.apps).toHaveLength(CLUSTERS.length);
    for (const app of view.apps) expect(app).toMatchObject({ health: 'HEALTHY', healthRevision: app.revision });
  });
});
