import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { natsAgentEnv, natsHubEnv, startDocumentedNatsServer, type NatsServerProcess } from '../harness/nats.js';
import { startAgent, startHub, type HubProcess, type ManagedProcess } from '../harness/processes.js';
import { TcpBalancer } from '../harness/tcp-balancer.js';
import { webAppSet } from '../harness/app-sets.js';

/**
 * Several stateless hub replicas over one PostgreSQL and one NATS server: gRPC agents reach them
 * through a TCP balancer (as they would through a Service), NATS agents through JetStream (every
 * replica serves both links at once), a rollout runs, and one replica is killed with SIGKILL in the
 * middle of a wave. The rollout must finish with every cluster at the new revision, each wave started
 * once and each cluster released once, whatever its transport.
 */
/** Over NATS the cluster's name is its NATS user's: the documented configuration has edge-1 and edge-2. */
type TestCluster =
  | { readonly transport: 'grpc'; readonly name: string; readonly region: string }
  | { readonly transport: 'nats'; readonly name: 'edge-1' | 'edge-2'; readonly region: string };

const REGIONS = ['us', 'eu', 'ap'];
/** edge-1 is in eu, the wave in flight when the replica is killed; edge-2 is in ap, the wave after it. */
const CLUSTERS: readonly TestCluster[] = [
  ...REGIONS.flatMap((region) => [1, 2].map((n) => ({ transport: 'grpc' as const, name: `${region}-${n}`, region }))),
  { transport: 'nats', name: 'edge-1', region: 'eu' },
  { transport: 'nats', name: 'edge-2', region: 'ap' },
];
const NATS_CLUSTERS = CLUSTERS.filter((c) => c.transport === 'nats').map((c) => c.name);
/**
 * The NATS agents judge an App healthy this long after applying it (the gRPC ones after 0.5 s), so that
 * edge-1's report is still to come when the replica is killed.
 */
const NATS_HEALTHY_AFTER_MS = 4000;

const appSet = (value: string) =>
  webAppSet({ value, extraData: 'region: "{{ cluster.labels.region }}"', byLabel: 'order: [us, eu, ap], maxConcurrency: "100%", maxFailures: 0, soak: 3s, progressDeadline: 2m' });

interface RolloutView {
  phase: string;
  currentWave: string | null;
  events: { kind: string; message: string }[];
}

interface AppView {
  cluster: string;
  revision: string | null;
  stagedRevision: string | null;
  healthRevision: string | null;
  health: string;
}

describe('three hub replicas over one database and one NATS server, one killed mid-wave', () => {
  let db: TestDatabase;
  let nats: NatsServerProcess;
  const hubs: HubProcess[] = [];
  let balancer: TcpBalancer;
  const agents: ManagedProcess[] = [];

  const apiOf = (hub: HubProcess) => graphqlClient(hub.graphqlUrl, hub.adminToken);
  /** Any replica that is still running answers GraphQL. */
  const api = () => apiOf(hubs.find((hub) => hub.running)!);
  const clusters = async () => (await api().must<{ clusters: { name: string; connected: boolean }[] }>(`{ clusters { name connected } }`)).clusters;
  const apps = async () => (await api().must<{ appSet: { apps: AppView[] } }>(`{ appSet(name: "web") { apps { cluster revision stagedRevision healthRevision health } } }`)).appSet.apps;

  beforeAll(async () => {
    db = await createTestDatabase();
    nats = await startDocumentedNatsServer();
    const hubEnv = (replicaId: string) => ({ ...natsHubEnv(nats), FLOTILLA_REPLICA_ID: replicaId });
    // The first replica migrates; the others start against the migrated schema (they would also wait on
    // the migration lock if started at once).
    hubs.push(await startHub({ databaseUrl: db.url, env: hubEnv('hub-a') }));
    hubs.push(...(await Promise.all(['hub-b', 'hub-c'].map((id) => startHub({ databaseUrl: db.url, env: hubEnv(id) })))));
    balancer = await TcpBalancer.start(hubs.map((hub) => hub.grpcAddress));
    for (const cluster of CLUSTERS) {
      // Over NATS the cluster's NATS user is the identity, but the hub only serves registered clusters.
      const { registerCluster } = await api().must<{ registerCluster: { bootstrapToken: string } }>(
        `mutation($name: String!, $labels: JSONObject) { registerCluster(input: { name: $name, labels: $labels }) { bootstrapToken } }`,
        { name: cluster.name, labels: { region: cluster.region } },
      );
      agents.push(
        cluster.transport === 'grpc'
          ? startAgent({ hubAddress: balancer.address, hubCa: hubs[0]!.caBundle, cluster: cluster.name, bootstrapToken: registerCluster.bootstrapToken })
          : startAgent({
              hubAddress: balancer.address,
              cluster: cluster.name,
              env: { ...natsAgentEnv(nats, cluster.name), FLOTILLA_SIM_HEALTHY_AFTER_MS: String(NATS_HEALTHY_AFTER_MS) },
            }),
      );
    }
    await eventually(async () => (await clusters()).filter((c) => c.connected).length === CLUSTERS.length, { what: 'every agent connected', timeoutMs: 60_000 });
  });

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    await balancer?.close();
    await Promise.all(hubs.map((hub) => hub.stop()));
    await nats?.dispose();
    await db?.drop();
  });

  it('spreads the gRPC agents over every replica', () => {
    expect([...balancer.connectionsPerBackend.keys()].sort()).toEqual(hubs.map((hub) => hub.grpcAddress).sort());
  });

  it('finishes a rollout while a replica is killed mid-wave: nothing lost, no wave or release twice, over gRPC and NATS', async () => {
    const applied = await api().must<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code path message } } }`, { y: appSet('v1') });
    expect(applied.applyAppSet.issues).toEqual([]);
    // The revision differs per region (the manifest names it); each cluster must end at its own.
    const staged = new Map((await apps()).map((app) => [app.cluster, app.stagedRevision]));
    expect([...staged.keys()].sort()).toEqual(CLUSTERS.map((c) => c.name).sort());
    const { startRollout } = await api().must<{ startRollout: { id: string } }>(`mutation { startRollout(appSet: "web") { id } }`);
    const rollout = async () =>
      (await api().must<{ rollout: RolloutView }>(`query($id: ID!) { rollout(id: $id) { phase currentWave events { kind message } } }`, { id: startRollout.id })).rollout;

    // The eu wave, with gRPC clusters and the NATS cluster edge-1, is in flight (its soak alone lasts 3 s).
    await eventually(async () => (await rollout()).currentWave === 'eu', { what: 'wave eu started', timeoutMs: 30_000 });
    const victim = hubs[0]!;
    const survivors = hubs.slice(1).map((hub) => hub.grpcAddress);
    const survivorConnections = () => survivors.reduce((sum, address) => sum + (balancer.connectionsPerBackend.get(address) ?? 0), 0);
    const beforeKill = survivorConnections();
    await victim.stop('SIGKILL');
    // Mid-wave for the NATS link too: edge-1 has yet to be judged healthy at its new revision.
    const edge1 = (await apps()).find((app) => app.cluster === 'edge-1')!;
    expect(edge1.health === 'HEALTHY' && edge1.healthRevision === staged.get('edge-1'), 'edge-1 healthy before the kill').toBe(false);

    // A NATS message the victim had pulled but not acked comes back after the consumer's ack wait
    // (15 s): the bound leaves room for that on top of the eu and ap waves.
    const done = await eventually(
      async () => {
        const view = await rollout();
        if (view.phase === 'FAILED' || view.phase === 'PAUSED') throw new Error(`rollout ended ${view.phase}: ${JSON.stringify(view.events)}`);
        return view.phase === 'SUCCEEDED' ? view : undefined;
      },
      { what: 'rollout SUCCEEDED after the kill', timeoutMs: 60_000 },
    );

    // The victim's gRPC agents came back through the balancer to the surviving replicas.
    expect(survivorConnections()).toBeGreaterThan(beforeKill);
    const started = done.events.filter((e) => e.kind === 'WAVE_STARTED').map((e) => e.message);
    expect(started).toEqual(['Wave us started.', 'Wave eu started.', 'Wave ap started.']);
    const releasedTo = done.events.filter((e) => e.kind === 'RELEASED').flatMap((e) => /Released to (.*) \(wave/.exec(e.message)![1]!.split(', '));
    expect(releasedTo.sort()).toEqual(CLUSTERS.map((c) => c.name).sort());

    // Every App, whichever link its agent uses, runs the released revision and was judged healthy at it.
    const final = await apps();
    expect(final.map((app) => app.cluster).sort()).toEqual(CLUSTERS.map((c) => c.name).sort());
    for (const app of final) {
      const revision = staged.get(app.cluster);
      expect(revision, app.cluster).toEqual(expect.any(String));
      expect(app).toMatchObject({ health: 'HEALTHY', revision, healthRevision: revision });
    }
    // The NATS agents are still heard from through the surviving replicas.
    const connected = new Map((await clusters()).map((c) => [c.name, c.connected]));
    for (const name of NATS_CLUSTERS) expect(connected.get(name), name).toBe(true);
  });
});
