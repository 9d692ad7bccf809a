import { ConnectRequestSchema, ConnectResponseSchema, Health, create, fromBinary, toBinary, type ConnectResponse } from '@flotilla/proto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../agent/src/clock.js';
import type { HubLink } from '../../agent/src/hub-link/hub-link.js';
import { NatsHubLink } from '../../agent/src/hub-link/nats-hub-link.js';
import { createLogger } from '../../agent/src/log.js';
import { DesiredKv } from '../../hub/src/agent-link/desired-kv.js';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { NATS_PASSWORDS, natsHubEnv, startDocumentedNatsServer, type NatsServerProcess } from '../harness/nats.js';
import { startHub, type HubProcess } from '../harness/processes.js';
import { bigAppSet, smallAppSet } from './support/app-sets.js';
import { TestAgent } from './support/test-agent.js';

const BUCKET = 'flotilla-desired';
const STREAM = `KV_${BUCKET}`;

/**
 * What only the NATS link has: split values in the KV bucket, a NATS server restart, several writers
 * of one key, identity from the NATS user, and two hub replicas sharing the reports consumer.
 */
describe('the NATS agent link', () => {
  let db: TestDatabase;
  let nats: NatsServerProcess;
  const hubs: HubProcess[] = [];
  let api: ReturnType<typeof graphqlClient>;
  let hubConnection: NatsConnection;
  let jsm: JetStreamManager;
  const links: HubLink[] = [];
  const logLines: string[] = [];

  const apply = async (yaml: string) =>
    expect((await api.must<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code message } } }`, { y: yaml })).applyAppSet.issues).toEqual([]);
  const startRollout = async (appSet: string) =>
    (await api.must<{ startRollout: { id: string } }>(`mutation($a: String!) { startRollout(appSet: $a) { id } }`, { a: appSet })).startRollout.id;
  const phase = async (id: string) => (await api.must<{ rollout: { phase: string } }>(`query($id: ID!) { rollout(id: $id) { phase } }`, { id })).rollout.phase;
  const stagedRevision = async (appSet: string) =>
    (await api.must<{ appSet: { apps: { stagedRevision: string }[] } }>(`query($n: String!) { appSet(name: $n) { apps { stagedRevision } } }`, { n: appSet })).appSet.apps[0]!.stagedRevision;
  const connectedCluster = async (name: string) => (await api.must<{ cluster: { connected: boolean } }>(`query($n: String!) { cluster(name: $n) { connected } }`, { n: name })).cluster.connected;
  /** The last message of a KV key, read as the hub user. */
  const stored = (key: string) => jsm.streams.getMessage(STREAM, { last_by_subj: `$KV.${BUCKET}.${key}` });

  function link(agent: TestAgent, options: { cluster?: string; user?: 'edge-1' | 'edge-2' } = {}): HubLink {
    const user = options.user ?? 'edge-1';
    const started = new NatsHubLink({
      servers: [nats.url],
      auth: { kind: 'password', user, password: NATS_PASSWORDS[user] },
      kvBucket: BUCKET,
      clusterName: options.cluster ?? user,
      agentVersion: 'contract',
      handler: agent,
      clock: systemClock,
      random01: Math.random,
      log: createLogger({ level: 'debug', write: (line) => logLines.push(line) }),
      reconnect: { baseMs: 100, maxMs: 1000 },
    });
    links.push(started);
    started.start();
    return started;
  }

  async function connected(agent: TestAgent): Promise<HubLink> {
    const started = link(agent);
    await eventually(() => started.isConnected(), { what: 'the link welcomed' });
    return started;
  }

  /** Rolls out `yaml` and completes the rollout with a HEALTHY report of the released revision. */
  async function rollOut(agent: TestAgent, yaml: string, appSet: string): Promise<string> {
    await apply(yaml);
    const revision = await stagedRevision(appSet);
    const id = await startRollout(appSet);
    await eventually(() => agent.held.get(appSet)?.kind === 'app' && (agent.held.get(appSet) as { revision: string }).revision === revision, { what: `${appSet} held at the new revision` });
    agent.report(appSet, Health.HEALTHY);
    await eventually(async () => (await phase(id)) === 'SUCCEEDED', { what: `rollout of ${appSet} SUCCEEDED` });
    return revision;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    nats = await startDocumentedNatsServer();
    hubs.push(await startHub({ databaseUrl: db.url, env: natsHubEnv(nats) }));
    api = graphqlClient(hubs[0]!.graphqlUrl, hubs[0]!.adminToken);
    // edge-2 is registered (its NATS user exists) but no AppSet targets it.
    for (const [name, tier] of [['edge-1', 'contract'], ['edge-2', 'idle']]) {
      await api.must(`mutation($n: String!, $l: JSONObject) { registerCluster(input: { name: $n, labels: $l }) { cluster { name } } }`, { n: name, l: { tier } });
    }
    hubConnection = await connect({ servers: nats.url, user: 'flotilla-hub', pass: NATS_PASSWORDS.hub });
    jsm = await jetstreamManager(hubConnection);
  });

  afterEach(async () => {
    await Promise.all(links.splice(0).map((started) => started.stop()));
  });

  afterAll(async () => {
    await hubConnection?.close();
    await Promise.all(hubs.map((hub) => hub.stop()));
    await nats?.dispose();
    await db?.drop();
    for (const secret of Object.values(NATS_PASSWORDS)) expect(logLines.join('\n')).not.toContain(secret);
  });

  it('splits a value larger than one NATS message into chunk keys, which the agent joins, and purges them once replaced', async () => {
    const agent = new TestAgent();
    await connected(agent);

    await rollOut(agent, bigAppSet('large', 3, 330_000), 'large');
    const held = agent.held.get('large');
    const generation = held!.generation;
    const main = await stored('edge-1.large');
    expect(main?.data.length).toBe(0);
    expect(main?.header.get('Flotilla-Chunks')).toBe('2');
    expect((await stored(`edge-1.large._chunk.${generation}.0`))?.data.length).toBeGreaterThan(0);
    expect((await stored(`edge-1.large._chunk.${generation}.1`))?.data.length).toBeGreaterThan(0);

    await rollOut(agent, smallAppSet('large', 'small now'), 'large');
    expect((await stored('edge-1.large'))?.header.get('Flotilla-Chunks') ?? '').toBe('');
    expect(await stored(`edge-1.large._chunk.${generation}.0`)).toBeNull();
  });

  it('converges after the NATS server restarts mid-wave: a release committed while it was down reaches the agent', async () => {
    const agent = new TestAgent();
    await connected(agent);
    await rollOut(agent, smallAppSet('web', 'v1'), 'web');
    await apply(smallAppSet('web', 'v2'));
    const revision = await stagedRevision('web');

    // When NATS dies, a release is committed, and NATS comes back on the same store
    await nats.stop('SIGKILL');
    const id = await startRollout('web');
    await nats.startAgain();

    // Then the agent reconnects, gets the new revision, and its report completes the rollout
    await eventually(() => agent.held.get('web')?.kind === 'app' && (agent.held.get('web') as { revision: string }).revision === revision, {
      what: 'web v2 held after the restart',
      timeoutMs: 45_000,
    });
    agent.report('web', Health.HEALTHY);
    await eventually(async () => (await phase(id)) === 'SUCCEEDED', { what: 'rollout SUCCEEDED after the restart', timeoutMs: 45_000 });
    // Redelivered entries were duplicates at most: nothing was refused
    expect(agent.acks.filter((ack) => !ack.accepted)).toEqual([]);
    // The test's own connection reconnects on its own schedule; the next tests use it.
    await eventually(async () => (await hubConnection.flush(), true), { what: "the test's NATS connection back after the restart" });
  });

  it('a writer whose remembered sequence went stale (another replica wrote since) reads again and still never writes an older generation', async () => {
    const removal = (generation: bigint): ConnectResponse =>
      create(ConnectResponseSchema, { message: { case: 'removeApp', value: { appName: 'raced', generation, preserveResources: false } } });
    const [first, second] = [0, 1].map(() => new DesiredKv(jetstream(hubConnection), jsm, BUCKET, 512 * 1024));
    expect(await first!.write('edge-2', removal(10n))).toBe('written');
    expect(await second!.write('edge-2', removal(12n))).toBe('written');
    expect(await first!.write('edge-2', removal(11n))).toBe('stale');
    expect(await first!.read('edge-2', 'raced')).toMatchObject({ kind: 'removeApp', generation: 12n });
    expect(await first!.write('edge-2', removal(13n))).toBe('written');
    expect(await second!.write('edge-2', removal(13n))).toBe('unchanged');
    expect(await second!.read('edge-2', 'raced')).toMatchObject({ generation: 13n });
  });

  it('never lets an older value win: the hub writer refuses it, and an agent that receives one ignores it', async () => {
    const agent = new TestAgent();
    await connected(agent);
    await rollOut(agent, smallAppSet('order', 'v1'), 'order');
    await rollOut(agent, smallAppSet('order', 'v2'), 'order');
    const [first, current] = [agent.desiredApps('order')[0]!, agent.desiredApps('order').at(-1)!];
    expect(first.generation).toBeLessThan(current.generation);
    const older: ConnectResponse = create(ConnectResponseSchema, {
      message: {
        case: 'desiredApp',
        value: { appName: first.appName, appSet: first.appSet, revision: first.revision, generation: first.generation, namespace: first.namespace, manifestsJson: first.manifestsJson },
      },
    });
    const acksBefore = agent.acks.length;

    // A writer racing with a newer release (another replica) is refused by the generation guard
    const kv = new DesiredKv(jetstream(hubConnection), jsm, BUCKET, 512 * 1024);
    expect(await kv.write('edge-1', older)).toBe('stale');

    // A value that reaches the bucket anyway (a writer without the guard) arrives late at the agent: ignored
    await jetstream(hubConnection).publish(`$KV.${BUCKET}.edge-1.order`, toBinary(ConnectResponseSchema, older));
    await eventually(() => agent.desiredApps('order').length > 2, { what: 'the older DesiredApp delivered' });
    expect(agent.desiredApps('order').at(-1)).toMatchObject({ generation: first.generation, revision: first.revision });
    expect(agent.held.get('order')).toMatchObject({ generation: current.generation, revision: current.revision });
    expect(agent.acks.slice(acksBefore)).toEqual([]);
  });

  it.each([
    { name: 'a Hello of another protocol version', hello: { protocolVersion: 99, clusterName: 'edge-1' }, code: 'PROTOCOL_VERSION' },
    { name: 'a Hello naming another cluster than its NATS user', hello: { protocolVersion: 1, clusterName: 'edge-2' }, code: 'UNAUTHENTICATED' },
  ])('refuses $name in the cluster’s welcome key', async ({ hello, code }) => {
    const agentConnection = await connect({ servers: nats.url, user: 'edge-1', pass: NATS_PASSWORDS['edge-1'], inboxPrefix: '_INBOX_edge-1' });
    try {
      await jetstream(agentConnection).publish('reports.edge-1', toBinary(ConnectRequestSchema, create(ConnectRequestSchema, { message: { case: 'hello', value: hello } })));
      const refusal = await eventually(
        async () => {
          const entry = await stored('edge-1._welcome');
          const message = entry ? fromBinary(ConnectResponseSchema, entry.data) : undefined;
          return message?.message.case === 'refusal' && message.message.value.code === code && message.message.value;
        },
        { what: `refusal ${code}` },
      );
      expect(refusal.retryable).toBe(false);
    } finally {
      await agentConnection.close();
    }
  });

  it('keeps an agent to its NATS user’s cluster: configured as another cluster it cannot watch, so it never connects', async () => {
    const impostor = link(new TestAgent(), { user: 'edge-1', cluster: 'edge-2' });
    await eventually(() => logLines.some((line) => line.includes('cannot watch the desired state') && line.includes('Permissions Violation')), { what: 'the watch refused' });
    expect(impostor.isConnected()).toBe(false);
  });

  it('lets two hub replicas share the reports consumer: with either one gone, the other carries on', async () => {
    const agent = new TestAgent();
    await connected(agent);
    hubs.push(await startHub({ databaseUrl: db.url, env: { ...natsHubEnv(nats), FLOTILLA_REPLICA_ID: 'second' } }));
    api = graphqlClient(hubs[1]!.graphqlUrl, hubs[1]!.adminToken);
    await rollOut(agent, smallAppSet('web', 'v3'), 'web');

    // The first replica dies: the second alone keeps the cluster connected and completes a rollout
    await hubs[0]!.stop('SIGKILL');
    await rollOut(agent, smallAppSet('web', 'v4'), 'web');
    await eventually(() => connectedCluster('edge-1'), { what: 'edge-1 connected through the second replica' });
  });
});
