import { DriftPolicy, Health, SyncMode } from '@flotilla/proto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HubLink } from '../../agent/src/hub-link/hub-link.js';
import { createLogger } from '../../agent/src/log.js';
import { contractHubLink, type ContractCredential } from './support/contract-link.js';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { NATS_PASSWORDS, natsHubEnv, startDocumentedNatsServer, type NatsServerProcess } from '../harness/nats.js';
import { startHub, type HubProcess } from '../harness/processes.js';
import { TcpBalancer } from '../harness/tcp-balancer.js';
import { bigAppSet, smallAppSet } from './support/app-sets.js';
import { TestAgent } from './support/test-agent.js';

const CLUSTER = 'edge-1';

interface AppView {
  name: string;
  revision: string | null;
  generation: string | null;
  health: string;
  healthRevision: string | null;
  upToDate: boolean;
  message: string | null;
  observedAt: string | null;
}
interface TargetView {
  app: string;
  state: string;
  revision: string | null;
  generation: string | null;
  reason: string | null;
}

/**
 * The hub ⇄ agent contract, once per transport: a real hub process (serving gRPC and NATS at once, on
 * real PostgreSQL and a real nats-server with the documented per-cluster permissions) against the
 * agent's real hub-link classes. The agent side decides with the agent's own decision functions (see
 * TestAgent) and holds Apps in memory. Its connection goes through a TCP proxy so that tests can cut it.
 */
describe.each(['grpc', 'nats'] as const)('the agent link contract over %s', (transport) => {
  let db: TestDatabase;
  let nats: NatsServerProcess;
  let hub: HubProcess;
  let proxy: TcpBalancer;
  let api: ReturnType<typeof graphqlClient>;
  const credential: ContractCredential = { bootstrapToken: '', issued: undefined };
  const links: HubLink[] = [];
  const logLines: string[] = [];

  const cluster = async () =>
    (
      await api.must<{ cluster: { connected: boolean; apps: AppView[] } }>(
        `{ cluster(name: "${CLUSTER}") { connected apps { name revision generation health healthRevision upToDate message observedAt } } }`,
      )
    ).cluster;
  const app = async (name: string) => (await cluster()).apps.find((a) => a.name === name);
  const apply = async (yaml: string) =>
    (await api.must<{ applyAppSet: { issues: { code: string; message: string }[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code message } } }`, { y: yaml }))
      .applyAppSet.issues;
  const stagedRevision = async (appSet: string) =>
    (await api.must<{ appSet: { apps: { cluster: string; stagedRevision: string }[] } }>(`query($n: String!) { appSet(name: $n) { apps { cluster stagedRevision } } }`, { n: appSet })).appSet.apps.find(
      (a) => a.cluster === CLUSTER,
    )!.stagedRevision;
  const startRollout = async (appSet: string) =>
    (await api.must<{ startRollout: { id: string } }>(`mutation($a: String!) { startRollout(appSet: $a) { id } }`, { a: appSet })).startRollout.id;
  const rollout = async (id: string) =>
    (await api.must<{ rollout: { phase: string; targets: TargetView[] } }>(`query($id: ID!) { rollout(id: $id) { phase targets { app state revision generation reason } } }`, { id })).rollout;
  const targetState = async (id: string) => (await rollout(id)).targets[0]?.state;
  /** Applies an AppSet, rolls it out, and waits until the agent holds the released revision. */
  const release = async (agent: TestAgent, yaml: string, appSet: string) => {
    expect(await apply(yaml)).toEqual([]);
    const revision = await stagedRevision(appSet);
    const id = await startRollout(appSet);
    await eventually(() => agent.desiredApps(appSet).some((d) => d.revision === revision), { what: `DesiredApp ${appSet}@${revision.slice(0, 12)}` });
    return { id, revision };
  };

  function connect(agent: TestAgent): HubLink {
    const link = contractHubLink({
      transport,
      // Through the TCP proxy the TLS session is still end to end with the hub (127.0.0.1 is in its certificate).
      endpoints: { grpcAddress: proxy.address, caPem: hub.caBundle, natsAddress: proxy.address },
      cluster: CLUSTER,
      credential,
      handler: agent,
      log: createLogger({ level: 'debug', write: (line) => logLines.push(line) }),
    });
    links.push(link);
    link.start();
    return link;
  }

  async function connected(agent: TestAgent): Promise<HubLink> {
    const link = connect(agent);
    await eventually(() => link.isConnected(), { what: 'the link welcomed' });
    await eventually(async () => (await cluster()).connected, { what: 'the cluster connected' });
    return link;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    nats = await startDocumentedNatsServer();
    hub = await startHub({ databaseUrl: db.url, env: natsHubEnv(nats) });
    api = graphqlClient(hub.graphqlUrl, hub.adminToken);
    proxy = await TcpBalancer.start([transport === 'grpc' ? hub.grpcAddress : `127.0.0.1:${nats.port}`]);
    const registered = await api.must<{ registerCluster: { bootstrapToken: string } }>(
      `mutation($n: String!) { registerCluster(input: { name: $n, labels: { tier: "contract" } }) { bootstrapToken } }`,
      { n: CLUSTER },
    );
    credential.bootstrapToken = registered.registerCluster.bootstrapToken;
  });

  afterEach(async () => {
    await Promise.all(links.splice(0).map((link) => link.stop()));
  });

  afterAll(async () => {
    await proxy?.close();
    await hub?.stop();
    await nats?.dispose();
    await db?.drop();
    // Whatever happened, no secret reached the agent's log.
    const secrets = [credential.bootstrapToken, credential.issued, ...Object.values(NATS_PASSWORDS)].filter((s): s is string => !!s);
    for (const secret of secrets) expect(logLines.join('\n')).not.toContain(secret);
  });

  it('connects: Hello is welcomed, the cluster shows connected, and an App the hub never released is asked to be removed', async () => {
    // Given an agent that holds an App the hub knows nothing about
    const agent = new TestAgent();
    agent.held.set('ghost', {
      kind: 'app',
      appName: 'ghost',
      appSet: 'gone',
      revision: 'a'.repeat(64),
      generation: 1n,
      namespace: '',
      manifestsJson: '[]',
      syncPolicy: { mode: SyncMode.SYNC, drift: DriftPolicy.REPORT, preserveResourcesOnDeletion: false },
    });

    // When it connects
    await connected(agent);

    // Then the resync asks it to remove that App, with a newer generation, and it acks the removal
    const [removal] = await eventually(() => agent.removals('ghost').length > 0 && agent.removals('ghost'), { what: 'RemoveApp ghost' });
    expect(removal!.generation).toBeGreaterThan(1n);
    expect(agent.held.get('ghost')).toMatchObject({ kind: 'tombstone', generation: removal!.generation });
    expect(agent.acks).toContainEqual({ appName: 'ghost', revision: '', generation: removal!.generation, accepted: true, error: '' });
  });

  it('releases: a rollout delivers the released revision, the ack names it, and a HEALTHY report for it completes the rollout', async () => {
    const agent = new TestAgent();
    await connected(agent);

    const { id, revision } = await release(agent, smallAppSet('web', 'v1'), 'web');

    const [desired] = agent.desiredApps('web');
    expect(desired).toMatchObject({ appName: 'web', appSet: 'web', revision, namespace: 'contract' });
    expect(JSON.parse(desired!.manifestsJson)).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web' }, data: { value: 'v1' } }]);
    expect(agent.acks).toContainEqual({ appName: 'web', revision, generation: desired!.generation, accepted: true, error: '' });
    await eventually(async () => (await targetState(id)) === 'PROGRESSING', { what: 'the ack recorded (PROGRESSING)' });

    agent.report('web', Health.HEALTHY);
    await eventually(async () => (await rollout(id)).phase === 'SUCCEEDED', { what: 'rollout SUCCEEDED' });
    expect(await app('web')).toMatchObject({ revision, generation: desired!.generation.toString(), health: 'HEALTHY', healthRevision: revision, upToDate: true });
  });

  it('ignores stale and duplicated agent messages: an older ack or report after newer ones changes nothing', async () => {
    // Given the agent holds web v1 and receives v2
    const agent = new TestAgent();
    await connected(agent);
    const v1 = await eventually(() => agent.desiredApps('web')[0], { what: 'web v1 after connecting' });
    const staleReport = agent.report('web', Health.HEALTHY);
    const { id, revision } = await release(agent, smallAppSet('web', 'v2'), 'web');
    const v2 = agent.desiredApps('web').find((d) => d.revision === revision)!;
    expect(v2.generation).toBeGreaterThan(v1.generation);
    agent.report('web', Health.PROGRESSING);
    await eventually(async () => (await app('web'))?.healthRevision === revision, { what: 'the v2 report stored' });

    // When an older refusal and an older report arrive after them
    agent.sendAck({ appName: 'web', revision: v1.revision, generation: v1.generation, accepted: false, error: 'a stale refusal' });
    agent.resend(staleReport);
    // (a fresh report sent after them shows when they have been processed: agent messages are ordered)
    const marker = agent.report('web', Health.PROGRESSING);
    await eventually(async () => (await app('web'))?.observedAt === new Date(Number(marker.observedAtUnixMs)).toISOString(), { what: 'the marker report stored' });

    // Then they were ignored: health still names v2, the target did not take the refusal
    expect(await app('web')).toMatchObject({ revision, health: 'PROGRESSING', healthRevision: revision });
    expect((await rollout(id)).targets).toEqual([expect.objectContaining({ app: 'web', state: 'PROGRESSING', revision })]);
    expect((await rollout(id)).targets[0]!.reason ?? '').not.toContain('stale refusal');

    // And newer messages sent twice count once: the rollout completes on the HEALTHY report
    agent.sendAck({ appName: 'web', revision, generation: v2.generation, accepted: true, error: '' });
    agent.resend(agent.report('web', Health.HEALTHY));
    await eventually(async () => (await rollout(id)).phase === 'SUCCEEDED', { what: 'rollout SUCCEEDED' });
    expect((await rollout(id)).targets).toEqual([expect.objectContaining({ app: 'web', state: 'HEALTHY', revision })]);
    expect(await app('web')).toMatchObject({ revision, health: 'HEALTHY', healthRevision: revision, upToDate: true });
  });

  it('treats a repeated delivery as a duplicate: acked again, nothing held or shown changes', async () => {
    const agent = new TestAgent();
    await connected(agent);
    const current = await eventually(() => agent.desiredApps('web')[0], { what: 'web after connecting' });
    const held = agent.held.get('web');
    const before = await app('web');

    // When the link is cut and the agent comes back without saying what it holds, the hub delivers again
    agent.hideInventory = true;
    proxy.cutAll();
    await eventually(() => agent.desiredApps('web').length >= 2, { what: 'a repeated DesiredApp' });

    // Then it is the same release, acked again, and neither the agent nor the hub moved
    expect(agent.desiredApps('web').every((d) => d.generation === current.generation && d.revision === current.revision)).toBe(true);
    await eventually(() => agent.acks.filter((a) => a.appName === 'web' && a.generation === current.generation && a.accepted).length >= 2, { what: 'a second ack' });
    expect(agent.held.get('web')).toEqual(held);
    expect(await app('web')).toEqual(before);
  });

  it('reconnects by itself after the connection is cut, and a later release reaches the agent', async () => {
    const agent = new TestAgent();
    const link = await connected(agent);
    await eventually(() => agent.desiredApps('web')[0], { what: 'web after connecting' });
    const backend = [...proxy.connectionsPerBackend.keys()][0]!;
    const connections = proxy.connectionsPerBackend.get(backend)!;

    proxy.cutAll();
    await eventually(() => proxy.connectionsPerBackend.get(backend)! > connections && link.isConnected(), { what: 'a new connection' });

    const { id } = await release(agent, smallAppSet('web', 'v3'), 'web');
    agent.report('web', Health.HEALTHY);
    await eventually(async () => (await rollout(id)).phase === 'SUCCEEDED', { what: 'rollout SUCCEEDED after the reconnect' });
  });

  it('refuses an App over the 16 MiB cap before anything is released, and delivers a 12 MiB App in chunks, verified and accepted once', async () => {
    const agent = new TestAgent();
    await connected(agent);

    // An App rendering to more than 16 MiB of manifests (35 × 510 000 bytes) is refused when the AppSet is applied
    const issues = await apply(bigAppSet('huge', 35, 510_000));
    expect(issues).toEqual([expect.objectContaining({ code: 'APP_TOO_LARGE' })]);
    expect(issues[0]!.message).toMatch(/App "huge" on cluster edge-1 renders to \d+ bytes; the limit is 16777216/);
    expect((await api.gql<{ appSet: unknown }>(`{ appSet(name: "huge") { name } }`)).data?.appSet ?? null).toBeNull();

    // A 12 MiB App (26 × 500 000 bytes), three times the largest gRPC message: sent as a header and
    // chunks over gRPC, as chunk keys over NATS, joined by the agent's link and verified by its revision
    const { id, revision } = await release(agent, bigAppSet('large', 26, 500_000), 'large');
    const held = agent.held.get('large');
    expect(held).toMatchObject({ kind: 'app', revision });
    expect(held?.kind === 'app' && held.manifestsJson.length).toBeGreaterThan(12 * 2 ** 20);
    expect(agent.deliveries.filter((d) => d.kind === 'desiredApp' && d.message.appName === 'large')).toHaveLength(1);
    expect(agent.acks.filter((a) => a.appName === 'large')).toEqual([expect.objectContaining({ revision, accepted: true })]);
    agent.report('large', Health.HEALTHY);
    await eventually(async () => (await rollout(id)).phase === 'SUCCEEDED', { what: 'rollout of the large App SUCCEEDED' });
  });
});
