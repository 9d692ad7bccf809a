import { Health, revisionOf } from '@flotilla/proto';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DesiredStateService } from '../src/agent-link/desired-state.service';
import { loadHubConfig } from '../src/config/hub-config';
import { startHub, type RunningHub } from '../src/hub';
import { FakeAgent } from './support/fake-agent';
import { TEST_ADMIN_TOKEN } from './support/admin-token';
import { eventually, graphqlClient } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const appSetYaml = (value: string, selector = 'env: prod') => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: web }
spec:
  generators:
    - clusters: { selector: { matchLabels: { ${selector} } } }
  template:
    namespace: web
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: web }
        data: { region: "{{ cluster.labels.region }}", value: "${value}" }
  strategy:
    waves: [{ name: all, maxConcurrency: "100%", soak: 0s }]
`;

describe('hub on real PostgreSQL with agents over real gRPC', () => {
  let db: TestDatabase;
  let hub: RunningHub;
  let gql: ReturnType<typeof graphqlClient>;
  const agents: FakeAgent[] = [];
  const agentFor = (cluster: string, secret: string) => {
    const agent = new FakeAgent(hub, cluster, secret);
    agents.push(agent);
    return agent;
  };
  const register = async (name: string, region: string): Promise<string> => {
    const res = await gql<{ registerCluster: { bootstrapToken: string } }>(
      `mutation($name: String!, $labels: JSONObject) { registerCluster(input: { name: $name, labels: $labels }) { bootstrapToken } }`,
      { name, labels: { region, env: 'prod' } },
    );
    expect(res.errors).toBeUndefined();
    return res.data!.registerCluster.bootstrapToken;
  };
  const apply = (yaml: string) => gql<{ applyAppSet: { changed: boolean; issues: { code: string }[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { changed issues { code } } }`, { y: yaml });
  const rollout = async () => {
    const res = await gql<{ startRollout: { id: string } }>(`mutation { startRollout(appSet: "web") { id } }`);
    expect(res.errors).toBeUndefined();
    return res.data!.startRollout.id;
  };
  const phase = async (id: string) =>
    (await gql<{ rollout: { phase: string; counts: { healthy: number; total: number } } }>(`query($id: ID!) { rollout(id: $id) { phase counts { healthy total } } }`, { id })).data!.rollout;

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startHub(loadHubConfig({ DATABASE_URL: db.url, PORT: '0', FLOTILLA_GRPC_PORT: '0', FLOTILLA_OUTBOX_SCAN_MS: '200', FLOTILLA_LOG_LEVEL: 'error', FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN }));
    gql = graphqlClient(hub.graphqlUrl, TEST_ADMIN_TOKEN);
  });

  afterAll(async () => {
    for (const agent of agents) agent.close();
    await hub?.stop();
    await db?.drop();
  });

  it('a registered agent exchanges its bootstrap token for a credential, receives the release, and the rollout succeeds on its report', async () => {
    const token = await register('eu-1', 'eu');
    expect((await apply(appSetYaml('one'))).data!.applyAppSet).toMatchObject({ changed: true, issues: [] });
    const agent = agentFor('eu-1', token);
    agent.connect();
    const credential = await eventually(async () => agent.welcomeCredential(), { what: 'welcome' });
    expect(credential).toMatch(/^flt_agent_/);

    const id = await rollout();
    const [desired] = await eventually(async () => (agent.desired().length > 0 ? agent.desired() : undefined), { what: 'DesiredApp' });
    expect(desired!.appName).toBe('web');
    expect(revisionOf(JSON.parse(desired!.manifestsJson))).toBe(desired!.revision);
    expect(JSON.parse(desired!.manifestsJson)[0].data).toEqual({ region: 'eu', value: 'one' });

    agent.applyAndReport(desired!, Health.HEALTHY);
    await eventually(async () => (await phase(id)).phase === 'SUCCEEDED', { what: 'rollout SUCCEEDED' });
    const cluster = await gql<{ cluster: { connected: boolean; apps: { revision: string; health: string; upToDate: boolean }[] } }>(
      `{ cluster(name: "eu-1") { connected apps { revision health upToDate } } }`,
    );
    expect(cluster.data!.cluster).toEqual({ connected: true, apps: [{ revision: desired!.revision, health: 'HEALTHY', upToDate: true }] });
  });

  it('reads the released messages of many clusters in one call, the same as one cluster at a time, skipping Apps and clusters with nothing released', async () => {
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    const { rows } = await pg.query<{ id: string }>(`SELECT id FROM clusters WHERE name = 'eu-1'`);
    await pg.end();
    const euId = rows[0]!.id;
    const unknownId = '00000000-0000-4000-8000-000000000000';
    const desired = hub.app.get(DesiredStateService);

    const batch = await desired.messagesByCluster(new Map([[euId, ['web', 'never-released', 'web']], [unknownId, ['web']]]));
    expect([...batch.keys()]).toEqual([euId]);
    expect(batch.get(euId)?.map((m) => (m.message.case === 'desiredApp' ? `desiredApp ${m.message.value.appName}` : m.message.case))).toEqual(['desiredApp web']);
    expect(batch.get(euId)).toEqual(await desired.messages(euId, ['web']));
  });

  it('registerCluster returns the helm install command of the agent, with the cluster, the agent address and the token, and no NATS enrollment JWT', async () => {
    const res = await gql<{ registerCluster: { bootstrapToken: string; agentInstallCommand: string; natsEnrollmentJwt: string | null } }>(
      `mutation { registerCluster(input: { name: "helm-1", labels: { region: "eu" } }) { bootstrapToken agentInstallCommand natsEnrollmentJwt } }`,
    );
    const { bootstrapToken, agentInstallCommand, natsEnrollmentJwt } = res.data!.registerCluster;
    // Not the NATS operator: no enrollment JWT, and the agent goes over gRPC.
    expect(natsEnrollmentJwt).toBeNull();
    expect(agentInstallCommand).not.toContain('nats.');
    expect(agentInstallCommand).toContain('helm install flotilla-agent charts/flotilla-agent');
    expect(agentInstallCommand).toContain('--set cluster.name=helm-1');
    expect(agentInstallCommand).toContain(`--set bootstrapToken.value=${bootstrapToken}`);
    expect(agentInstallCommand).toMatch(/--set hub\.address=127\.0\.0\.1:\d+/);
  });

  it('a bootstrap token cannot be used twice', async () => {
    const token = await register('eu-2', 'eu');
    const first = agentFor('eu-2', token);
    first.connect();
    await eventually(async () => first.welcomeCredential(), { what: 'first welcome' });
    const second = agentFor('eu-2', token);
    second.connect();
    await eventually(async () => second.refusal(), { what: 'refusal' });
    expect(second.refusal()).toBe('UNAUTHENTICATED');
  });

  it.each([
    { name: 'a credential of one cluster is refused for another cluster', claim: 'us-9' },
    { name: 'an unknown secret is refused', claim: 'eu-3', secret: 'flt_agent_nope' },
    { name: 'no secret at all is refused', claim: 'eu-3', secret: '' },
  ])('$name', async ({ claim, secret }) => {
    await register(claim, 'us').catch(() => undefined);
    const token = await register(`${claim}-owner-${Math.random().toString(36).slice(2, 6)}`, 'us');
    const agent = agentFor(claim, secret ?? token);
    agent.connect();
    await eventually(async () => agent.refusal(), { what: 'refusal' });
    expect(agent.refusal()).toBe('UNAUTHENTICATED');
    expect(agent.desired()).toEqual([]);
  });

  it('an agent speaking another protocol version is refused with a clear code', async () => {
    const token = await register('eu-4', 'eu');
    const agent = agentFor('eu-4', token);
    agent.connect([], 99);
    await eventually(async () => agent.refusal(), { what: 'refusal' });
    expect(agent.refusal()).toBe('PROTOCOL_VERSION');
  });

  it('a reconnecting agent that already holds the released revision is sent nothing; one holding an App the hub never released is told to remove it', async () => {
    const token = await register('eu-5', 'eu');
    const first = agentFor('eu-5', token);
    first.connect();
    const credential = await eventually(async () => first.welcomeCredential(), { what: 'welcome' });
    await rollout();
    const [desired] = await eventually(async () => (first.desired().length > 0 ? first.desired() : undefined), { what: 'DesiredApp' });
    first.applyAndReport(desired!, Health.HEALTHY);
    first.close();

    const again = agentFor('eu-5', credential!);
    again.connect([
      { appName: 'web', revision: desired!.revision, generation: desired!.generation },
      { appName: 'stray', revision: 'f'.repeat(64), generation: 1n },
    ]);
    await eventually(async () => (again.removals().length > 0 ? true : undefined), { what: 'RemoveApp' });
    expect(again.removals()).toEqual(['stray']);
    expect(again.desired()).toEqual([]);
  });

  it('a report naming an older revision never overwrites the health of the released one', async () => {
    const token = await register('eu-6', 'eu');
    const agent = agentFor('eu-6', token);
    agent.connect();
    await eventually(async () => agent.welcomeCredential(), { what: 'welcome' });
    await apply(appSetYaml('two'));
    const id = await rollout();
    const newest = await eventually(async () => agent.desired().find((d) => JSON.parse(d.manifestsJson)[0].data.value === 'two'), { what: 'revision two' });
    agent.applyAndReport({ ...newest, revision: 'a'.repeat(64) }, Health.DEGRADED);
    agent.applyAndReport(newest, Health.PROGRESSING);
    await eventually(async () => (await phase(id)).counts.total > 0, { what: 'counts' });
    await eventually(async () => {
      const res = await gql<{ cluster: { apps: { health: string; healthRevision: string }[] } }>(`{ cluster(name: "eu-6") { apps { health healthRevision } } }`);
      return res.data!.cluster.apps[0]?.health === 'PROGRESSING';
    }, { what: 'PROGRESSING' });
    const final = await gql<{ cluster: { apps: { health: string; healthRevision: string }[] } }>(`{ cluster(name: "eu-6") { apps { health healthRevision } } }`);
    expect(final.data!.cluster.apps).toEqual([{ health: 'PROGRESSING', healthRevision: newest.revision }]);
  });

  it('a release committed by another process without any wake-up reaches the connected agent through the periodic outbox scan', async () => {
    const token = await register('eu-7', 'eu');
    const agent = agentFor('eu-7', token);
    agent.connect();
    await eventually(async () => agent.welcomeCredential(), { what: 'welcome' });
    await apply(appSetYaml('three'));
    // Release the way another replica would: direct SQL in one transaction, no NOTIFY, no local wake.
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      await pg.query('BEGIN');
      await pg.query(
        `UPDATE apps SET released_revision = staged_revision, released_namespace = staged_namespace,
           released_sync_policy = staged_sync_policy, released_generation = nextval('release_generation'), released_at = now()
         WHERE cluster_id = (SELECT id FROM clusters WHERE name = 'eu-7')`,
      );
      await pg.query(`INSERT INTO outbox (cluster_id, app_name) SELECT cluster_id, name FROM apps WHERE cluster_id = (SELECT id FROM clusters WHERE name = 'eu-7')`);
      await pg.query('COMMIT');
    } finally {
      await pg.end();
    }
    const delivered = await eventually(async () => agent.desired().find((d) => JSON.parse(d.manifestsJson)[0].data.value === 'three'), { what: 'delivery by scan' });
    expect(delivered.appName).toBe('web');
  });

  it('an AppSet with a template error is refused with a path and stages nothing', async () => {
    const before = await gql<{ appSet: { revision: number } }>(`{ appSet(name: "web") { revision } }`);
    const res = await gql<{ applyAppSet: { changed: boolean; issues: { code: string; path: string }[] } }>(
      `mutation($y: String!) { applyAppSet(yaml: $y) { changed issues { code path } } }`,
      { y: appSetYaml('{{ missing }}') },
    );
    expect(res.data!.applyAppSet.changed).toBe(false);
    expect(res.data!.applyAppSet.issues).toContainEqual({ code: 'TEMPLATE_ERROR', path: 'spec.template.manifests[0].data.value' });
    const after = await gql<{ appSet: { revision: number } }>(`{ appSet(name: "web") { revision } }`);
    expect(after.data!.appSet.revision).toBe(before.data!.appSet.revision);
  });

  it('an unknown rollout id and a malformed one look the same: NOT_FOUND', async () => {
    const ask = async (id: string) => JSON.parse(JSON.stringify(await gql(`query($id: ID!) { rollout(id: $id) { id } }`, { id })).split(id).join('<id>')) as unknown;
    const unknown = await ask('00000000-0000-0000-0000-000000000000');
    expect(unknown).toMatchObject({ data: { rollout: null }, errors: [{ message: 'Rollout "<id>" does not exist.', extensions: { code: 'NOT_FOUND' } }] });
    expect(await ask('../../etc')).toEqual(unknown);
  });

  it('/healthz answers ok and /metrics counts connected agents', async () => {
    const base = hub.graphqlUrl.replace(/\/graphql$/, '');
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/flotilla_connected_agents \d+/);
    expect(metrics).toContain('flotilla_releases_total');
  });

  it('previewAppSet shows per-cluster changes with a unified diff and writes nothing', async () => {
    const before = await gql<{ appSet: { revision: number } }>(`{ appSet(name: "web") { revision } }`);
    const res = await gql<{ previewAppSet: { totals: { changed: number }; issues: unknown[]; clusters: { cluster: string; changed: { app: string; diff: string }[] }[] } }>(
      `query($y: String!) { previewAppSet(yaml: $y) { totals { added removed changed unchanged } issues { code } clusters { cluster changed { app diff } } } }`,
      { y: appSetYaml('previewed') },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.previewAppSet.issues).toEqual([]);
    expect(res.data!.previewAppSet.totals.changed).toBeGreaterThan(0);
    const first = res.data!.previewAppSet.clusters[0]!.changed[0]!;
    expect(first.app).toBe('web');
    expect(first.diff).toContain('+  value: previewed');
    const after = await gql<{ appSet: { revision: number } }>(`{ appSet(name: "web") { revision } }`);
    expect(after.data!.appSet.revision).toBe(before.data!.appSet.revision);
  });

  it('the diff between two AppSet revisions can be queried, and a missing revision is NOT_FOUND', async () => {
    const res = await gql<{ appSetRevisionDiff: string }>(`{ appSetRevisionDiff(appSet: "web", from: 1, to: 2) }`);
    expect(res.errors).toBeUndefined();
    expect(res.data!.appSetRevisionDiff).toMatch(/-.*value: one/);
    expect(res.data!.appSetRevisionDiff).toMatch(/\+.*value: two/);
    const missing = await gql(`{ appSetRevisionDiff(appSet: "web", from: 1, to: 999) }`);
    expect(missing.errors?.[0]?.extensions?.code, JSON.stringify(missing)).toBe('NOT_FOUND');
  });

  it('a per-rollout strategy override is checked against the strategy schema before anything is written', async () => {
    const ok = await gql<{ previewRollout: { issues: unknown[] } }>(`{ previewRollout(appSet: "web", strategy: { waves: [{ name: "all", soak: "5s" }] }) { issues { code } waves { name } } }`);
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.previewRollout.issues).toEqual([]);
    const bad = await gql(`mutation { startRollout(appSet: "web", strategy: { onFailure: "panic" }) { id } }`);
    expect(bad.errors?.[0]?.extensions?.code).toBe('INVALID_ARGUMENT');
    expect(bad.errors?.[0]?.message).toContain('strategy.onFailure');
  });

  it('a relabel that would take half the Apps of an AppSet trips the deletion breaker: nothing is unstaged and the AppSet says why', async () => {
    for (const c of ['eu-1', 'eu-2']) await gql(`mutation($c: String!) { setClusterLabels(cluster: $c, labels: { region: "eu", env: "prod", tier: "gold" }) { name } }`, { c });
    const gold = appSetYaml('gold', 'tier: gold').replace('name: web }', 'name: gold }').replace("metadata: { name: web }\n        data", "metadata: { name: gold }\n        data");
    const applied = await gql<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code path message } } }`, { y: gold.replace('template:\n', 'template:\n    name: gold\n') });
    expect(applied.data!.applyAppSet.issues).toEqual([]);
    await gql(`mutation { setClusterLabels(cluster: "eu-1", labels: { region: "eu", env: "prod" }) { name } }`);
    const after = await gql<{ appSet: { condition: string; apps: { cluster: string; stagedRevision: string | null }[] } }>(`{ appSet(name: "gold") { condition apps { cluster stagedRevision } } }`);
    expect(after.data!.appSet.condition).toContain('DELETION_BREAKER: This change would remove 1 of 2 Apps (50%)');
    expect(after.data!.appSet.apps.map((a) => [a.cluster, a.stagedRevision !== null])).toEqual([
      ['eu-1', true],
      ['eu-2', true],
    ]);
  });

  it('an update that would remove most Apps is refused by the deletion breaker, and applies with force', async () => {
    const none = appSetYaml('gone', 'env: nowhere');
    const refused = await gql<{ applyAppSet: { changed: boolean; issues: { code: string; message: string }[] } }>(
      `mutation($y: String!) { applyAppSet(yaml: $y) { changed issues { code message } } }`,
      { y: none },
    );
    expect(refused.data!.applyAppSet.changed).toBe(false);
    expect(refused.data!.applyAppSet.issues[0]).toMatchObject({ code: 'DELETION_BREAKER' });
    expect(refused.data!.applyAppSet.issues[0]!.message).toMatch(/would remove \d+ of \d+ Apps/);
    const forced = await gql<{ applyAppSet: { changed: boolean; issues: unknown[]; appSet: { condition: string; apps: { stagedRevision: string | null }[] } } }>(
      `mutation($y: String!) { applyAppSet(yaml: $y, force: true) { changed issues { code } appSet { condition apps(first: 1000) { stagedRevision } } } }`,
      { y: none },
    );
    expect(forced.data!.applyAppSet).toMatchObject({ changed: true, issues: [] });
    expect(forced.data!.applyAppSet.appSet.condition).toBe('');
    expect(forced.data!.applyAppSet.appSet.apps.every((a) => a.stagedRevision === null)).toBe(true);
  });
});
