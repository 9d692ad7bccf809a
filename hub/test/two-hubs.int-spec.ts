import { Health } from '@flotilla/proto';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../src/config/hub-config';
import { startHub, type RunningHub } from '../src/hub';
import { FakeAgent } from './support/fake-agent';
import { TEST_ADMIN_TOKEN } from './support/admin-token';
import { eventually, graphqlClient } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const CLUSTERS = ['eu-1', 'eu-2', 'eu-3', 'us-1', 'us-2', 'us-3'];

const appSet = `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: twin }
spec:
  generators:
    - clusters: {}
  template:
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: twin }
        data: { cluster: "{{ cluster.name }}" }
  strategy:
    byLabel: { label: region, order: [eu, us], maxConcurrency: 1, soak: 0s }
`;

describe('two hub processes on one database', () => {
  let db: TestDatabase;
  const hubs: RunningHub[] = [];
  const agents: FakeAgent[] = [];
  let answering: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    for (let i = 0; i < 2; i++) {
      hubs.push(await startHub(loadHubConfig({ DATABASE_URL: db.url, PORT: '0', FLOTILLA_GRPC_PORT: '0', FLOTILLA_OUTBOX_SCAN_MS: '100', FLOTILLA_LOG_LEVEL: 'error', FLOTILLA_REPLICA_ID: `hub-${i}`, FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN })));
    }
  });

  afterAll(async () => {
    clearInterval(answering);
    for (const agent of agents) agent.close();
    for (const hub of hubs) await hub.stop();
    await db?.drop();
  });

  it('two hubs step one rollout concurrently and never advance a wave or release a cluster twice', async () => {
    const [a, b] = hubs.map((h) => graphqlClient(h.graphqlUrl, TEST_ADMIN_TOKEN));
    for (const [index, name] of CLUSTERS.entries()) {
      const res = await a!<{ registerCluster: { bootstrapToken: string } }>(`mutation($n: String!, $l: JSONObject) { registerCluster(input: { name: $n, labels: $l }) { bootstrapToken } }`, {
        n: name,
        l: { region: name.slice(0, 2) },
      });
      // Agents spread over both replicas.
      const agent = new FakeAgent(hubs[index % 2]!, name, res.data!.registerCluster.bootstrapToken);
      agent.connect();
      agents.push(agent);
    }
    await eventually(async () => agents.every((x) => x.welcomeCredential()), { what: 'all welcomed' });
    // Each agent acks and reports HEALTHY whatever it receives, once.
    const answered = new Set<string>();
    answering = setInterval(() => {
      for (const agent of agents) {
        for (const desired of agent.desired()) {
          const key = `${desired.appName}/${desired.generation}/${agents.indexOf(agent)}`;
          if (answered.has(key)) continue;
          answered.add(key);
          agent.applyAndReport(desired, Health.HEALTHY);
        }
      }
    }, 50);

    expect((await b!(`mutation($y: String!) { applyAppSet(yaml: $y) { changed } }`, { y: appSet })).errors).toBeUndefined();
    const started = await a!<{ startRollout: { id: string } }>(`mutation { startRollout(appSet: "twin") { id } }`);
    const id = started.data!.startRollout.id;
    await eventually(async () => (await b!<{ rollout: { phase: string } }>(`query($id: ID!) { rollout(id: $id) { phase } }`, { id })).data!.rollout.phase === 'SUCCEEDED', {
      what: 'SUCCEEDED',
      timeoutMs: 30_000,
    });

    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      const events = (await pg.query(`SELECT kind, message FROM rollout_events WHERE rollout_id = $1 ORDER BY id`, [id])).rows as { kind: string; message: string }[];
      expect(events.filter((e) => e.kind === 'WAVE_STARTED').map((e) => e.message)).toEqual(['Wave eu started.', 'Wave us started.']);
      const releasedTo = events.filter((e) => e.kind === 'RELEASED').flatMap((e) => /Released to (.*) \(wave/.exec(e.message)![1]!.split(', '));
      expect(releasedTo.sort()).toEqual([...CLUSTERS].sort());
      expect(events.filter((e) => e.kind === 'SUCCEEDED')).toHaveLength(1);
      // Each cluster's App was released exactly once: one generation, the one its target recorded.
      const agentsSaw = agents.map((agent) => new Set(agent.desired().map((d) => d.generation)).size);
      expect(agentsSaw).toEqual(CLUSTERS.map(() => 1));
    } finally {
      await pg.end();
    }
  });
});
