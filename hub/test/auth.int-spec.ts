import { stat } from 'node:fs/promises';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Health } from '@flotilla/proto';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../src/config/hub-config';
import { startHub, type RunningHub } from '../src/hub';
import { TEST_ADMIN_TOKEN } from './support/admin-token';
import { FakeAgent } from './support/fake-agent';
import { eventually, graphqlClient } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const appSet = (name: string, project: string, namespace: string, extra = '') => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: ${name}, project: ${project} }
spec:
  generators: [{ clusters: {} }]
  template:
    namespace: ${namespace}
    manifests:
      - { apiVersion: v1, kind: ConfigMap, metadata: { name: cfg }, data: { cluster: "{{ cluster.name }}" } }${extra}
  strategy: { waves: [{ name: all, maxConcurrency: "100%", soak: 0s }] }
`;

describe('who may do what: tokens, projects and the audit trail on one hub', () => {
  let db: TestDatabase;
  let hub: RunningHub;
  let admin: ReturnType<typeof graphqlClient>;
  const agents: FakeAgent[] = [];

  const token = async (name: string, role: string, project: string | null, expiresIn = '1h') => {
    const res = await admin<{ createApiToken: { token: string; apiToken: { id: string } } }>(
      `mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token apiToken { id name role project expiresAt } } }`,
      { i: { name, role, project, expiresIn } },
    );
    expect(res.errors).toBeUndefined();
    return res.data!.createApiToken;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startHub(loadHubConfig({ DATABASE_URL: db.url, PORT: '0', FLOTILLA_GRPC_PORT: '0', FLOTILLA_OUTBOX_SCAN_MS: '200', FLOTILLA_LOG_LEVEL: 'error', FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN }));
    admin = graphqlClient(hub.graphqlUrl, TEST_ADMIN_TOKEN);
    const created = await admin(`mutation { createProject(input: { name: "team-a", clusterSelector: { matchLabels: { team: "a" } }, namespaces: ["team-a", "team-a-*"] }) { name } }`);
    expect(created.errors).toBeUndefined();
    // A multi-tenant fleet restricts the default project to no cluster.
    expect((await admin(`mutation { updateProject(input: { name: "default", clusterSelector: { matchLabels: { none: "x" } } }) { name } }`)).errors).toBeUndefined();
  });

  afterAll(async () => {
    for (const agent of agents) agent.close();
    await hub?.stop();
    await db?.drop();
  });

  it('an API token is shown once, stored only as a hash, works until revoked, and is refused from the next request on', async () => {
    const { token: secret, apiToken } = await token('reader', 'VIEWER', 'team-a');
    expect(secret).toMatch(/^flt_api_[A-Za-z0-9_-]{43}$/);
    const reader = graphqlClient(hub.graphqlUrl, secret);
    expect((await reader<{ me: unknown }>(`{ me { actor admin projects { project role } } }`)).data!.me).toEqual({ actor: 'token:reader', admin: false, projects: [{ project: 'team-a', role: 'VIEWER' }] });
    const listed = await admin<{ apiTokens: Record<string, unknown>[] }>(`{ apiTokens { id name role project revokedAt } }`);
    expect(JSON.stringify(listed.data)).not.toContain(secret);
    const { Client } = await import('pg');
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    const dump = JSON.stringify((await pg.query('SELECT * FROM api_tokens')).rows);
    await pg.end();
    expect(dump).not.toContain(secret);

    expect((await admin(`mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: apiToken.id })).errors).toBeUndefined();
    const refused = await reader(`{ me { actor } }`);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it.each([
    { name: 'an ADMIN token naming a project is refused', input: { name: 'x1', role: 'ADMIN', project: 'team-a' }, code: 'INVALID_ARGUMENT' },
    { name: 'an OPERATOR token without a project is refused', input: { name: 'x2', role: 'OPERATOR', project: null }, code: 'INVALID_ARGUMENT' },
    { name: 'a token for a project that does not exist is refused', input: { name: 'x3', role: 'VIEWER', project: 'nope' }, code: 'NOT_FOUND' },
    { name: 'a lifetime that is not a duration is refused', input: { name: 'x4', role: 'VIEWER', project: 'team-a', expiresIn: 'forever' }, code: 'INVALID_ARGUMENT' },
    { name: 'the bootstrap name is reserved', input: { name: 'bootstrap-admin', role: 'ADMIN', project: null }, code: 'INVALID_ARGUMENT' },
  ])('$name', async ({ input, code }) => {
    const res = await admin(`mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token } }`, { i: input });
    expect(res.errors?.[0]?.extensions?.code).toBe(code);
    expect(res.data).toBeNull();
  });

  it.each([
    { name: 'a project without namespaces is refused', input: '{ name: "p1", namespaces: [] }', code: 'INVALID_ARGUMENT' },
    { name: 'a namespace pattern with a slash is refused', input: '{ name: "p2", namespaces: ["a/b"] }', code: 'INVALID_ARGUMENT' },
    { name: 'a selector with an unknown operator is refused', input: '{ name: "p3", namespaces: ["p3"], clusterSelector: { matchExpressions: [{ key: "a", operator: "Near" }] } }', code: 'INVALID_ARGUMENT' },
    { name: 'a project name that is not a DNS label is refused', input: '{ name: "Team_A", namespaces: ["x"] }', code: 'INVALID_ARGUMENT' },
    { name: 'an existing project cannot be created twice', input: '{ name: "team-a", namespaces: ["x"] }', code: 'ALREADY_EXISTS' },
  ])('$name', async ({ input, code }) => {
    expect((await admin(`mutation { createProject(input: ${input}) { name } }`)).errors?.[0]?.extensions?.code).toBe(code);
  });

  it("an operator's AppSet reaches only its project's clusters, the project's allow-list travels with every App, and an object outside it is refused on the hub", async () => {
    const operator = graphqlClient(hub.graphqlUrl, (await token('deployer', 'OPERATOR', 'team-a')).token);
    const bootstrap = async (name: string, team: string) =>
      (await admin<{ registerCluster: { bootstrapToken: string } }>(`mutation($n: String!, $l: JSONObject) { registerCluster(input: { name: $n, labels: $l }) { bootstrapToken } }`, { n: name, l: { team } })).data!
        .registerCluster.bootstrapToken;
    const agent = new FakeAgent(hub, 'a-1', await bootstrap('a-1', 'a'));
    agents.push(agent);
    await bootstrap('b-1', 'b');
    agent.connect();
    await eventually(async () => agent.welcomeCredential(), { what: 'welcome' });

    const outside = `\n      - { apiVersion: v1, kind: ConfigMap, metadata: { name: escape, namespace: kube-system } }`;
    const refused = await operator<{ applyAppSet: { issues: { code: string }[]; appSet: unknown } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { appSet { name } issues { code } } }`, { y: appSet('web-a', 'team-a', 'team-a', outside) });
    expect(refused.data!.applyAppSet).toEqual({ appSet: null, issues: [{ code: 'PROJECT_NAMESPACE_NOT_ALLOWED' }] });

    const applied = await operator<{ applyAppSet: { issues: unknown[]; appSet: { apps: { cluster: string }[] } } }>(
      `mutation($y: String!) { applyAppSet(yaml: $y) { issues { code } appSet { apps { cluster } } } }`,
      { y: appSet('web-a', 'team-a', 'team-a') },
    );
    expect(applied.data!.applyAppSet).toEqual({ issues: [], appSet: { apps: [{ cluster: 'a-1' }] } });
    const started = await operator<{ startRollout: { id: string; startedBy: string } }>(`mutation { startRollout(appSet: "web-a") { id startedBy } }`);
    expect(started.data!.startRollout.startedBy).toBe('token:deployer');
    const [desired] = await eventually(async () => (agent.desired().length > 0 ? agent.desired() : undefined), { what: 'DesiredApp' });
    expect(desired!.syncPolicy?.projectScope).toMatchObject({ namespaces: ['team-a', 'team-a-*'], kinds: [], clusterScoped: false });
    agent.applyAndReport(desired!, Health.HEALTHY);
    const events = await eventually(
      async () => {
        const res = await operator<{ rollout: { phase: string; events: { actor: string; kind: string }[] } }>(`query($id: ID!) { rollout(id: $id) { phase events { actor kind } } }`, { id: started.data!.startRollout.id });
        return res.data!.rollout.phase === 'SUCCEEDED' ? res.data!.rollout.events : undefined;
      },
      { what: 'rollout SUCCEEDED' },
    );
    expect(events[0]).toEqual({ actor: 'token:deployer', kind: 'STARTED' });
    expect(events.some((e) => e.actor === 'hub' && e.kind === 'RELEASED')).toBe(true);
  });

  it('the audit trail records who did what, from where, and how it ended; each principal sees only its projects', async () => {
    const outsider = await token('outsider', 'OPERATOR', 'team-a');
    await admin(`mutation { createProject(input: { name: "team-z", namespaces: ["z"] }) { name } }`);
    const z = graphqlClient(hub.graphqlUrl, (await token('z-op', 'OPERATOR', 'team-z')).token);
    const denied = await graphqlClient(hub.graphqlUrl, outsider.token)(`mutation { registerCluster(input: { name: "sneaky" }) { bootstrapToken } }`);
    expect(denied.errors?.[0]?.extensions?.code).toBe('PERMISSION_DENIED');

    type Page = { auditEvents: { nodes: { actor: string; kind: string; project: string | null; outcome: string; reason: string; remoteAddress: string; actorId: string }[]; pageInfo: { endCursor: string; hasNextPage: boolean } } };
    const all = await admin<Page>(`{ auditEvents(filter: { actor: "token:outsider" }) { nodes { actor actorId kind project outcome reason remoteAddress } pageInfo { endCursor hasNextPage } } }`);
    expect(all.data!.auditEvents.nodes).toEqual([
      { actor: 'token:outsider', actorId: outsider.apiToken.id, kind: 'registerCluster', project: null, outcome: 'DENIED', reason: expect.stringContaining('PERMISSION_DENIED'), remoteAddress: '127.0.0.1' },
    ]);
    const steps = await admin<Page>(`{ auditEvents(filter: { project: "team-a", kind: "rollout.RELEASED" }) { nodes { actor project outcome } } }`);
    expect(steps.data!.auditEvents.nodes).toEqual([{ actor: 'hub', project: 'team-a', outcome: 'SUCCESS' }]);
    const seenByZ = await z<Page>(`{ auditEvents(first: 500) { nodes { project } } }`);
    expect(new Set(seenByZ.data!.auditEvents.nodes.map((n) => n.project))).toEqual(new Set(['team-z']));

    const first = await admin<Page>(`{ auditEvents(first: 2) { nodes { kind } pageInfo { endCursor hasNextPage } } }`);
    const next = await admin<Page>(`query($a: String) { auditEvents(first: 2, after: $a) { nodes { kind } pageInfo { hasNextPage } } }`, { a: first.data!.auditEvents.pageInfo.endCursor });
    expect(first.data!.auditEvents.pageInfo.hasNextPage).toBe(true);
    expect(next.data!.auditEvents.nodes).toHaveLength(2);
    expect((await admin(`{ auditEvents(after: "not-a-cursor") { nodes { kind } } }`)).errors?.[0]?.extensions?.code).toBe('INVALID_ARGUMENT');
  });

  it('deleting a project that owns AppSets is refused; default cannot be deleted', async () => {
    expect((await admin(`mutation { deleteProject(name: "team-a") }`)).errors?.[0]?.extensions?.code).toBe('FAILED_PRECONDITION');
    expect((await admin(`mutation { deleteProject(name: "default") }`)).errors?.[0]?.extensions?.code).toBe('FAILED_PRECONDITION');
    expect((await admin(`mutation { deleteProject(name: "team-z") }`)).data).toEqual({ deleteProject: true });
  });

  it('a rolloutProgress subscription ends when its token is revoked', async () => {
    const { token: secret, apiToken } = await token('watcher', 'VIEWER', 'team-a');
    const id = (await admin<{ appSet: { rollouts: { id: string }[] } }>(`{ appSet(name: "web-a") { rollouts { id } } }`)).data!.appSet.rollouts[0]!.id;
    // Keep the rollout open so the subscription would otherwise go on.
    await admin(`mutation { applyAppSet(yaml: ${JSON.stringify(appSet('web-a', 'team-a', 'team-a-two'))}) { changed } }`);
    const open = (await admin<{ startRollout: { id: string } }>(`mutation { startRollout(appSet: "web-a") { id } }`)).data!.startRollout.id;
    expect(open).not.toBe(id);
    const client = createClient({ url: hub.graphqlUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${secret}` }, retryAttempts: 0 });
    const seen: string[] = [];
    const ended = new Promise<string>((resolve) => {
      client.subscribe<{ rolloutProgress: { phase: string } }>(
        { query: `subscription($id: ID!) { rolloutProgress(id: $id) { phase } }`, variables: { id: open } },
        { next: ({ data }) => data && seen.push(data.rolloutProgress.phase), error: (e) => resolve(`error: ${JSON.stringify(e)}`), complete: () => resolve('complete') },
      );
    });
    await eventually(async () => seen.length > 0, { what: 'first progress' });
    await admin(`mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: apiToken.id });
    const how = await Promise.race([ended, new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 5000))]);
    await client.dispose();
    expect(how).toContain('UNAUTHENTICATED');
  });
});

describe('the fleet-admin token of a first start', () => {
  it('is generated once, written to the data folder with mode 0600, and not replaced by a second start', async () => {
    const db = await createTestDatabase();
    const dataDir = join(mkdtempSync(join(tmpdir(), 'flotilla-admin-')), 'data');
    const env = { DATABASE_URL: db.url, PORT: '0', FLOTILLA_GRPC_PORT: '0', FLOTILLA_LOG_LEVEL: 'error', FLOTILLA_DATA_DIR: dataDir };
    try {
      const first = await startHub(loadHubConfig(env));
      const generated = first.bootstrapAdmin.generated!;
      expect(generated).toMatch(/^flt_api_/);
      expect(readFileSync(join(dataDir, 'admin-token'), 'utf8').trim()).toBe(generated);
      expect((await stat(join(dataDir, 'admin-token'))).mode & 0o777).toBe(0o600);
      await first.stop();
      const second = await startHub(loadHubConfig(env));
      expect(second.bootstrapAdmin.generated).toBeUndefined();
      const res = await graphqlClient(second.graphqlUrl, generated)<{ me: { actor: string; admin: boolean } }>(`{ me { actor admin } }`);
      expect(res.data!.me).toEqual({ actor: 'token:bootstrap-admin', admin: true });
      await second.stop();
    } finally {
      await db.drop();
    }
  });
});
