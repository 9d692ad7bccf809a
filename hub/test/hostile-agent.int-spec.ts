import type { MessageInitShape } from '@bufbuild/protobuf';
import { ConnectRequestSchema, ConnectResponseSchema, Health, PROTOCOL_VERSION, SyncStatus, create, fromBinary, toBinary, type ConnectResponse, type DesiredApp } from '@flotilla/proto';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHub } from '../src/hub';
import { configMapAppSetYaml } from './support/app-set-yaml';
import { FakeAgent } from './support/fake-agent';
import { eventually } from './support/graphql-client';
import type { TestNatsServer } from './support/nats-server';
import { startTestHubOver, type Gql } from './support/test-hub';
import type { TestDatabase } from './support/test-database';

const BUCKET = 'flotilla-desired';
/** The largest PostgreSQL bigint, the `release_generation` sequence's maximum. */
const BIGINT_MAX = 2n ** 63n - 1n;
/** The largest number the wire's uint64 carries. */
const UINT64_MAX = 2n ** 64n - 1n;
const FOREIGN_REVISION = 'b'.repeat(64);

type AgentMessage = NonNullable<MessageInitShape<typeof ConnectRequestSchema>['message']>;
type HeldAppInit = { appName: string; revision: string; generation: bigint };

/** One agent per cluster, as the hub sees it over one transport. */
interface AgentSide {
  /** Says Hello holding `inventory` and waits for the hub's Welcome. */
  hello(cluster: string, token: string, inventory: HeldAppInit[]): Promise<void>;
  send(cluster: string, message: AgentMessage): Promise<void>;
  /**
   * The DesiredApps and RemoveApps the hub addressed to the cluster: every one received on the gRPC
   * stream, or the App keys of the cluster in the NATS desired-state bucket.
   */
  answers(cluster: string): Promise<ConnectResponse[]>;
  close(): Promise<void>;
}

function grpcSide(hub: () => RunningHub): AgentSide {
  const agents = new Map<string, FakeAgent>();
  return {
    async hello(cluster, token, inventory) {
      const agent = new FakeAgent(hub(), cluster, token);
      agents.set(cluster, agent);
      agent.connect(inventory);
      await eventually(async () => agent.welcomeCredential() !== undefined, { what: `the Welcome of ${cluster}` });
    },
    async send(cluster, message) {
      agents.get(cluster)!.send(message);
    },
    async answers(cluster) {
      return agents.get(cluster)!.received.filter((m) => m.message.case === 'desiredApp' || m.message.case === 'removeApp');
    },
    async close() {
      for (const agent of agents.values()) agent.close();
    },
  };
}

function natsSide(client: () => NatsConnection): AgentSide {
  const publish = (cluster: string, message: AgentMessage) => jetstream(client()).publish(`reports.${cluster}`, toBinary(ConnectRequestSchema, create(ConnectRequestSchema, { message })));
  const bucket = () => new Kvm(jetstream(client())).open(BUCKET);
  const keysOf = async (cluster: string) => {
    const keys: string[] = [];
    for await (const key of await (await bucket()).keys(`${cluster}.>`)) keys.push(key);
    return keys.sort();
  };
  return {
    async hello(cluster, _token, inventory) {
      await publish(cluster, { case: 'hello', value: { protocolVersion: PROTOCOL_VERSION, clusterName: cluster, agentVersion: 'hostile', inventory: { apps: inventory } } });
      await eventually(async () => (await keysOf(cluster)).includes(`${cluster}._welcome`), { what: `the Welcome of ${cluster} in KV` });
    },
    async send(cluster, message) {
      await publish(cluster, message);
    },
    async answers(cluster) {
      const kv = await bucket();
      const answers: ConnectResponse[] = [];
      for (const key of await keysOf(cluster)) {
        const tokens = key.split('.');
        if (tokens.length !== 2 || tokens[1]!.startsWith('_')) continue;
        const entry = await kv.get(key);
        if (entry && entry.operation === 'PUT' && entry.value.length > 0) answers.push(fromBinary(ConnectResponseSchema, entry.value));
      }
      return answers;
    },
    async close() {},
  };
}

const appSetYaml = (name: string, role: string) =>
  configMapAppSetYaml(name, { role }, { data: '{ cluster: "{{ cluster.name }}" }', strategy: '    waves: [{ name: all, maxConcurrency: "100%", soak: 0s }]' });

const desiredOf = (answers: ConnectResponse[], app: string): DesiredApp[] =>
  answers.flatMap((m) => (m.message.case === 'desiredApp' && m.message.value.appName === app ? [m.message.value] : []));
const describeAnswer = (m: ConnectResponse) => (m.message.case === 'desiredApp' || m.message.case === 'removeApp' ? `${m.message.case} ${m.message.value.appName}` : String(m.message.case));
const removalsOf = (answers: ConnectResponse[]) => answers.flatMap((m) => (m.message.case === 'removeApp' ? [m.message.value] : []));
const report = (appName: string, revision: string, generation: bigint, health: Health, message = '', observedAtUnixMs = BigInt(Date.now())): AgentMessage => ({
  case: 'report',
  value: { appName, revision, generation, health, syncStatus: SyncStatus.SYNCED, message, resources: [], resourcesTruncated: false, observedAtUnixMs },
});
const ack = (appName: string, revision: string, generation: bigint, accepted = true, error = ''): AgentMessage => ({ case: 'ack', value: { appName, revision, generation, accepted, error } });

/**
 * RELIABILITY row 23: an agent reports numbers the hub never issued (generation 2^63, unknown Apps,
 * foreign revisions). One hub per transport on real PostgreSQL: `good-1` runs the AppSet `web`,
 * `evil-1` (whose agent credential the attacker holds) runs `evil-app` and sends whatever it likes.
 * Whatever it sends, the hub answers for evil-1 alone, with a bounded number of messages and rows,
 * and the `release_generation` sequence only moves by the hub's own releases.
 */
describe.each(['grpc', 'nats'] as const)('an agent that sends numbers the hub never issued, over %s', (transport) => {
  let db: TestDatabase;
  let hub: RunningHub;
  let pg: Client;
  let gql: Gql;
  let nats: TestNatsServer | undefined;
  let natsClient: NatsConnection | undefined;
  let heartbeats: NodeJS.Timeout | undefined;
  const side = transport === 'grpc' ? grpcSide(() => hub) : natsSide(() => natsClient!);
  const tokens = new Map<string, string>();
  /** good-1's release of `web`, from the first test. */
  let web: DesiredApp;
  /** evil-1's release of `evil-app`, from the second test. */
  let evilApp: DesiredApp;

  /** The highest generation the hub has issued (the sequence's value, read without moving it). */
  const issued = async () => {
    const { rows } = await pg.query<{ issued: string }>(`SELECT (CASE WHEN is_called THEN last_value ELSE last_value - 1 END)::text AS issued FROM release_generation`);
    return BigInt(rows[0]!.issued);
  };
  const statusRows = async (cluster: string) =>
    (
      await pg.query<{ app_name: string; acked_revision: string | null; acked_generation: string | null; ack_error: string | null; revision: string | null; generation: string | null; health: string; message: string }>(
        `SELECT s.app_name, s.acked_revision, s.acked_generation::text, s.ack_error, s.revision, s.generation::text, s.health, s.message
         FROM app_statuses s JOIN clusters c ON c.id = s.cluster_id WHERE c.name = $1 ORDER BY s.app_name`,
        [cluster],
      )
    ).rows;
  const appRows = async (cluster: string) =>
    (
      await pg.query<{ name: string; released_revision: string | null; released_generation: string | null }>(
        `SELECT a.name, a.released_revision, a.released_generation::text FROM apps a JOIN clusters c ON c.id = a.cluster_id WHERE c.name = $1 ORDER BY a.name`,
        [cluster],
      )
    ).rows;
  const must = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const res = await gql<T>(query, variables);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data!;
  };
  const rollOut = async (appSet: string) => {
    const applied = await must<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code message } } }`, {
      y: appSetYaml(appSet, appSet === 'web' ? 'good' : 'evil'),
    });
    expect(applied.applyAppSet.issues).toEqual([]);
    return (await must<{ startRollout: { id: string } }>(`mutation($a: String!) { startRollout(appSet: $a) { id } }`, { a: appSet })).startRollout.id;
  };
  const rollout = async (id: string) =>
    (await must<{ rollout: { phase: string; targets: { app: string; state: string }[] } }>(`query($id: ID!) { rollout(id: $id) { phase targets { app state } } }`, { id })).rollout;

  beforeAll(async () => {
    ({ db, hub, gql, nats, natsClient } = await startTestHubOver(transport, { FLOTILLA_OUTBOX_SCAN_MS: '200' }));
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    for (const [name, role] of [
      ['good-1', 'good'],
      ['evil-1', 'evil'],
    ] as const) {
      const res = await must<{ registerCluster: { bootstrapToken: string } }>(
        `mutation($n: String!, $l: JSONObject) { registerCluster(input: { name: $n, labels: $l }) { bootstrapToken } }`,
        { n: name, l: { role } },
      );
      tokens.set(name, res.registerCluster.bootstrapToken);
    }
  });

  afterAll(async () => {
    clearInterval(heartbeats);
    await side.close();
    await hub?.stop();
    await pg?.end();
    await natsClient?.close();
    await nats?.stop();
    await db?.drop();
  });

  it('a Hello holding an unknown App at generation 2^63 − 2 moves no sequence; evil-1 gets one RemoveApp at most, and good-1 still gets its release and its rollout succeeds', async () => {
    const before = await issued();
    await side.hello('good-1', tokens.get('good-1')!, []);
    await side.hello('evil-1', tokens.get('evil-1')!, [{ appName: 'ghost', revision: 'f'.repeat(64), generation: BIGINT_MAX - 1n }]);
    // Both clusters stay online for the rollouts below.
    heartbeats = setInterval(() => {
      for (const cluster of ['good-1', 'evil-1']) void side.send(cluster, { case: 'heartbeat', value: { sentAtUnixMs: BigInt(Date.now()) } }).catch(() => undefined);
    }, 1000);

    // The answer to evil-1: a RemoveApp of the unknown App one generation above what it claims, allocated from nothing.
    const answered = await eventually(async () => {
      const answers = await side.answers('evil-1');
      return answers.length > 0 && answers;
    }, { what: 'the answer to the hostile Hello' });
    expect(answered).toHaveLength(1);
    expect(removalsOf(answered)).toEqual([expect.objectContaining({ appName: 'ghost', generation: BIGINT_MAX, preserveResources: false })]);
    expect(await issued()).toBe(before);

    // The rest of the fleet: good-1 gets a release with a generation of the hub's own, and its rollout succeeds.
    const id = await rollOut('web');
    [web] = await eventually(async () => {
      const desired = desiredOf(await side.answers('good-1'), 'web');
      return desired.length > 0 && desired;
    }, { what: 'the release of web to good-1' });
    expect(web.generation).toBe(before + 1n);
    await side.send('good-1', ack('web', web.revision, web.generation));
    await side.send('good-1', report('web', web.revision, web.generation, Health.HEALTHY));
    await eventually(async () => (await rollout(id)).phase === 'SUCCEEDED', { what: 'the rollout of web SUCCEEDED' });

    // The sequence moved by the hub's one release and nothing else; evil-1 got nothing more.
    expect(await issued()).toBe(web.generation);
    expect(await side.answers('evil-1')).toHaveLength(1);
    expect(await statusRows('evil-1')).toEqual([]);
    expect(await appRows('evil-1')).toEqual([]);
  });

  it('Acks and Reports naming generations, revisions or Apps the hub never released to evil-1 are ignored: no row claims them, no counter moves', async () => {
    // Given evil-1 has a release of its own
    const id = await rollOut('evil-app');
    [evilApp] = await eventually(async () => {
      const desired = desiredOf(await side.answers('evil-1'), 'evil-app');
      return desired.length > 0 && desired;
    }, { what: 'the release of evil-app to evil-1' });
    const before = await issued();
    const { revision, generation } = evilApp;

    // When its agent sends Acks and Reports the hub never issued
    const hostile: AgentMessage[] = [
      ack('evil-app', revision, BIGINT_MAX),
      ack('evil-app', revision, UINT64_MAX),
      ack('evil-app', FOREIGN_REVISION, generation),
      ack('evil-app', `${revision}trailing`, generation),
      ack('web', web.revision, web.generation, false, 'an App of another cluster'),
      ack('never-there', 'c'.repeat(64), 1n),
      ack('n'.repeat(300), '', 1n),
      ack('evil-app', '', BIGINT_MAX),
      ack('evil-app', '', UINT64_MAX),
      ack('ghost', '', UINT64_MAX),
      report('evil-app', revision, BIGINT_MAX, Health.HEALTHY),
      report('evil-app', revision, UINT64_MAX, Health.HEALTHY, '', BIGINT_MAX),
      report('evil-app', FOREIGN_REVISION, generation, Health.HEALTHY),
      report('evil-app', revision, generation - 1n, Health.HEALTHY),
      report('web', web.revision, web.generation, Health.DEGRADED, 'an App of another cluster'),
      report('never-there', 'c'.repeat(64), 1n, Health.HEALTHY),
    ];
    for (const message of hostile) await side.send('evil-1', message);
    // (messages of one agent are handled in order: a true report sent last shows when they all were)
    await side.send('evil-1', report('evil-app', revision, generation, Health.PROGRESSING, 'marker'));
    await eventually(async () => (await statusRows('evil-1'))[0]?.message === 'marker', { what: 'the marker report stored' });

    // Then evil-1 has one status row, for its released App, claiming only what was released there
    expect(await statusRows('evil-1')).toEqual([
      { app_name: 'evil-app', acked_revision: null, acked_generation: null, ack_error: null, revision, generation: generation.toString(), health: 'PROGRESSING', message: 'marker' },
    ]);
    expect(await appRows('evil-1')).toEqual([{ name: 'evil-app', released_revision: revision, released_generation: generation.toString() }]);
    // good-1 is untouched
    expect(await statusRows('good-1')).toEqual([expect.objectContaining({ app_name: 'web', revision: web.revision, generation: web.generation.toString(), health: 'HEALTHY', ack_error: null })]);
    expect(await issued()).toBe(before);
    expect((await rollout(id)).targets).toEqual([{ app: 'evil-app', state: 'PENDING' }]);

    // And a true Ack still counts: the huge one did not block it
    await side.send('evil-1', ack('evil-app', revision, generation));
    await eventually(async () => (await statusRows('evil-1'))[0]?.acked_generation === generation.toString(), { what: 'the true Ack recorded' });
    expect((await rollout(id)).targets).toEqual([{ app: 'evil-app', state: 'PROGRESSING' }]);
    expect(await issued()).toBe(before);
  });

  it('an Inventory claiming a foreign revision at a huge generation and an App of another cluster is answered for evil-1 only, with one message per App', async () => {
    const before = await issued();
    const answersBefore = await side.answers('evil-1');
    const goodBefore = await side.answers('good-1');

    await side.send('evil-1', {
      case: 'inventory',
      value: {
        apps: [
          { appName: 'evil-app', revision: FOREIGN_REVISION, generation: BIGINT_MAX - 1n },
          { appName: 'web', revision: web.revision, generation: web.generation },
          { appName: 'web', revision: web.revision, generation: UINT64_MAX },
        ],
      },
    });

    // web was released to good-1 only: evil-1 is asked to remove it, one generation above its claim,
    // a generation the hub had already passed (so every later release out-numbers it).
    const removal = await eventually(async () => removalsOf(await side.answers('evil-1')).find((r) => r.appName === 'web'), { what: 'RemoveApp web to evil-1' });
    expect(removal.generation).toBe(web.generation + 1n);
    expect(removal.generation).toBeLessThanOrEqual(before);
    const answers = await side.answers('evil-1');
    if (transport === 'grpc') {
      // The stream: the release of evil-app again (the agent claims a revision it was never sent) and the removal.
      const added = answers.slice(answersBefore.length);
      expect(added.map(describeAnswer).sort()).toEqual(['desiredApp evil-app', 'removeApp web']);
      expect(desiredOf(added, 'evil-app')).toEqual([expect.objectContaining({ revision: evilApp.revision, generation: evilApp.generation })]);
    } else {
      // The bucket: evil-app's key still holds its release; one key more, for the removal.
      expect(answers).toHaveLength(answersBefore.length + 1);
      expect(desiredOf(answers, 'evil-app')).toEqual([expect.objectContaining({ revision: evilApp.revision, generation: evilApp.generation })]);
    }
    expect(await side.answers('good-1')).toEqual(goodBefore);
    expect(await issued()).toBe(before);

    // When evil-1 acks that removal, only evil-1 forgets anything: good-1's web and its status stay.
    await side.send('evil-1', ack('web', '', removal.generation));
    await side.send('evil-1', report('evil-app', evilApp.revision, evilApp.generation, Health.PROGRESSING, 'second marker'));
    await eventually(async () => (await statusRows('evil-1'))[0]?.message === 'second marker', { what: 'the second marker report stored' });
    if (transport === 'nats') await eventually(async () => !removalsOf(await side.answers('evil-1')).some((r) => r.appName === 'web'), { what: 'the removal key of web on evil-1 deleted' });
    expect(await appRows('good-1')).toEqual([{ name: 'web', released_revision: web.revision, released_generation: web.generation.toString() }]);
    expect(await statusRows('good-1')).toEqual([expect.objectContaining({ app_name: 'web', health: 'HEALTHY' })]);
    expect(await side.answers('good-1')).toEqual(goodBefore);
    expect((await statusRows('evil-1')).map((s) => s.app_name)).toEqual(['evil-app']);
  });
});
