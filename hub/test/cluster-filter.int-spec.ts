import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../src/config/hub-config';
import type { LabelSelector } from '../src/core/app-set/app-set-spec';
import { matchesSelector } from '../src/core/generators/label-selector';
import { startHub, type RunningHub } from '../src/hub';
import { TEST_ADMIN_TOKEN } from './support/admin-token';
import { FakeAgent } from './support/fake-agent';
import { eventually, graphqlClient } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const CLUSTERS: { name: string; labels: Record<string, string> }[] = [
  { name: 'eu-1', labels: { region: 'eu', env: 'prod', team: 'a' } },
  { name: 'eu-2', labels: { region: 'eu', env: 'staging', team: 'b' } },
  { name: 'us-1', labels: { region: 'us', env: 'prod', team: 'a' } },
  { name: 'us-west-1', labels: { region: 'us-west', env: 'prod' } },
  { name: 'lab', labels: {} },
  { name: 'ap-1', labels: { region: 'ap', env: 'dev', team: 'b' } },
];

const appSet = `apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: web, project: team-a }
spec:
  generators: [{ clusters: {} }]
  template:
    namespace: team-a
    manifests:
      - { apiVersion: v1, kind: ConfigMap, metadata: { name: web }, data: { cluster: "{{ cluster.name }}" } }
`;

interface Page {
  nodes: { name: string; connected: boolean }[];
  totalCount: number;
  connectedCount: number;
  groups: { value: string | null; count: number }[];
  hasNextPage: boolean;
}

const PAGE = `query($filter: ClusterFilter, $groupBy: String, $first: Int!, $offset: Int!) {
  clusterPage(filter: $filter, groupBy: $groupBy, first: $first, offset: $offset) { nodes { name connected } totalCount connectedCount groups { value count } hasNextPage }
}`;

describe('the clusters query filters, groups and pages in the database', () => {
  let db: TestDatabase;
  let hub: RunningHub;
  let admin: ReturnType<typeof graphqlClient>;
  let viewerB: ReturnType<typeof graphqlClient>;
  const agents: FakeAgent[] = [];
  const tokens = new Map<string, string>();

  const page = async (filter: Record<string, unknown> | null, options: { groupBy?: string; first?: number; offset?: number; as?: ReturnType<typeof graphqlClient> } = {}) => {
    const res = await (options.as ?? admin)<{ clusterPage: Page }>(PAGE, { filter, groupBy: options.groupBy ?? null, first: options.first ?? 100, offset: options.offset ?? 0 });
    expect(res.errors).toBeUndefined();
    return res.data!.clusterPage;
  };
  const names = async (filter: Record<string, unknown> | null, as?: ReturnType<typeof graphqlClient>) => (await page(filter, as ? { as } : {})).nodes.map((n) => n.name);
  const errorCode = async (filter: Record<string, unknown> | null, groupBy?: string) =>
    (await admin(PAGE, { filter, groupBy: groupBy ?? null, first: 10, offset: 0 })).errors?.map((e) => [e.extensions?.code, e.message]);

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startHub(loadHubConfig({ DATABASE_URL: db.url, PORT: '0', FLOTILLA_GRPC_PORT: '0', FLOTILLA_LOG_LEVEL: 'error', FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN }));
    admin = graphqlClient(hub.graphqlUrl, TEST_ADMIN_TOKEN);
    for (const project of [
      { name: 'team-a', clusterSelector: { matchLabels: { team: 'a' } }, namespaces: ['team-a'] },
      { name: 'team-b', clusterSelector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['b'] }] }, namespaces: ['team-b'] },
    ]) {
      expect((await admin(`mutation($i: CreateProjectInput!) { createProject(input: $i) { name } }`, { i: project })).errors).toBeUndefined();
    }
    for (const cluster of CLUSTERS) {
      const res = await admin<{ registerCluster: { bootstrapToken: string } }>(`mutation($n: String!, $l: JSONObject) { registerCluster(input: { name: $n, labels: $l }) { bootstrapToken } }`, { n: cluster.name, l: cluster.labels });
      expect(res.errors).toBeUndefined();
      tokens.set(cluster.name, res.data!.registerCluster.bootstrapToken);
    }
    const viewer = await admin<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "viewer-b", role: VIEWER, project: "team-b", expiresIn: "1h" }) { token } }`);
    viewerB = graphqlClient(hub.graphqlUrl, viewer.data!.createApiToken.token);
  });

  afterAll(async () => {
    for (const agent of agents) agent.close();
    await hub?.stop();
    await db?.drop();
  });

  const selectors: { name: string; selector: LabelSelector; expected: string[] }[] = [
    { name: 'matchLabels keeps clusters with every label', selector: { matchLabels: { region: 'eu', env: 'prod' } }, expected: ['eu-1'] },
    { name: 'In keeps clusters whose value is listed', selector: { matchExpressions: [{ key: 'region', operator: 'In', values: ['us', 'ap'] }] }, expected: ['ap-1', 'us-1'] },
    { name: 'NotIn keeps clusters without the label too', selector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, expected: ['ap-1', 'eu-2', 'lab'] },
    { name: 'Exists keeps clusters that have the label', selector: { matchExpressions: [{ key: 'team', operator: 'Exists' }] }, expected: ['ap-1', 'eu-1', 'eu-2', 'us-1'] },
    { name: 'DoesNotExist keeps clusters that lack it', selector: { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, expected: ['lab', 'us-west-1'] },
    {
      name: 'clauses are ANDed',
      selector: { matchLabels: { env: 'prod' }, matchExpressions: [{ key: 'team', operator: 'Exists' }, { key: 'region', operator: 'NotIn', values: ['us'] }] },
      expected: ['eu-1'],
    },
    { name: 'an empty selector keeps every cluster', selector: {}, expected: ['ap-1', 'eu-1', 'eu-2', 'lab', 'us-1', 'us-west-1'] },
  ];

  it.each(selectors)('a label selector: $name, exactly as AppSet selectors match', async ({ selector, expected }) => {
    const found = await names({ labels: selector });
    expect(found).toEqual(expected);
    expect(found).toEqual(CLUSTERS.filter((c) => matchesSelector(c.labels, selector)).map((c) => c.name).sort());
  });

  it.each([
    { search: 'region=us', expected: ['us-1', 'us-west-1'] },
    { search: 'REGION=US-WEST', expected: ['us-west-1'] },
    { search: 'prod eu', expected: ['eu-1'] },
    { search: 'lab', expected: ['lab'] },
    { search: 'team=b env=dev', expected: ['ap-1'] },
    { search: '100%_', expected: [] },
  ])('search "$search" keeps clusters where every word is part of the name or of a key=value label', async ({ search, expected }) => {
    expect(await names({ search })).toEqual(expected);
  });

  it.each([
    { name: 'a project keeps the clusters its selector matches', filter: { project: 'team-b' }, expected: ['ap-1', 'eu-2'] },
    { name: 'a project and a label selector both hold', filter: { project: 'team-a', labels: { matchLabels: { region: 'us' } } }, expected: ['us-1'] },
    { name: 'the default project owns every cluster', filter: { project: 'default' }, expected: ['ap-1', 'eu-1', 'eu-2', 'lab', 'us-1', 'us-west-1'] },
  ])('$name', async ({ filter, expected }) => {
    expect(await names(filter)).toEqual(expected);
  });

  it('a viewer of one project sees only its clusters, filtered or not, and counts only those', async () => {
    expect(await names(null, viewerB)).toEqual(['ap-1', 'eu-2']);
    expect(await names({ search: 'eu' }, viewerB)).toEqual(['eu-2']);
    expect(await names({ project: 'team-b', labels: { matchLabels: { region: 'ap' } } }, viewerB)).toEqual(['ap-1']);
    expect((await page(null, { as: viewerB })).totalCount).toBe(2);
    const filtered = await viewerB<{ clusters: { name: string }[] }>(`{ clusters(filter: { search: "1" }) { name } }`);
    expect(filtered.data!.clusters.map((c) => c.name)).toEqual(['ap-1']);
  });

  it.each([
    { name: 'an unknown project is NOT_FOUND', filter: { project: 'nope' }, as: 'admin', code: 'NOT_FOUND', message: /Project "nope" does not exist/ },
    { name: 'a project the caller may not see is NOT_FOUND, as if missing', filter: { project: 'team-a' }, as: 'viewer', code: 'NOT_FOUND', message: /Project "team-a" does not exist/ },
    { name: 'a bad operator is INVALID_ARGUMENT naming the field', filter: { labels: { matchExpressions: [{ key: 'env', operator: 'Like' }] } }, as: 'admin', code: 'INVALID_ARGUMENT', message: /filter\.labels.*operator/ },
    { name: 'an unknown selector field is INVALID_ARGUMENT', filter: { labels: { region: 'eu' } }, as: 'admin', code: 'INVALID_ARGUMENT', message: /filter\.labels/ },
    { name: 'an over-long search is INVALID_ARGUMENT', filter: { search: 'x'.repeat(201) }, as: 'admin', code: 'INVALID_ARGUMENT', message: /filter\.search/ },
  ])('$name', async ({ filter, as, code, message }) => {
    const res = await (as === 'admin' ? admin : viewerB)(PAGE, { filter, first: 10, offset: 0 });
    expect(res.data?.['clusterPage']).toBeFalsy();
    expect(res.errors?.[0]?.extensions?.code).toBe(code);
    expect(res.errors?.[0]?.message).toMatch(message);
  });

  it('an over-long groupBy is INVALID_ARGUMENT', async () => {
    expect((await errorCode(null, 'k'.repeat(400)))?.[0]?.[0]).toBe('INVALID_ARGUMENT');
  });

  it('groups by a label: ordered by its value then by name, clusters without it last, with counts per group and pages that add up', async () => {
    const all = await page(null, { groupBy: 'region' });
    expect(all.nodes.map((n) => n.name)).toEqual(['ap-1', 'eu-1', 'eu-2', 'us-1', 'us-west-1', 'lab']);
    expect(all.groups).toEqual([
      { value: 'ap', count: 1 },
      { value: 'eu', count: 2 },
      { value: 'us', count: 1 },
      { value: 'us-west', count: 1 },
      { value: null, count: 1 },
    ]);
    expect(all.totalCount).toBe(6);
    expect(all.hasNextPage).toBe(false);

    const pages: string[] = [];
    for (let offset = 0; offset < all.totalCount; offset += 4) {
      const part = await page(null, { groupBy: 'region', first: 4, offset });
      expect(part.totalCount).toBe(6);
      expect(part.hasNextPage).toBe(offset + 4 < 6);
      pages.push(...part.nodes.map((n) => n.name));
    }
    expect(pages).toEqual(all.nodes.map((n) => n.name));

    const filtered = await page({ labels: { matchLabels: { env: 'prod' } } }, { groupBy: 'region' });
    expect(filtered.groups).toEqual([
      { value: 'eu', count: 1 },
      { value: 'us', count: 1 },
      { value: 'us-west', count: 1 },
    ]);
    expect((await page(null)).groups).toEqual([]);
  });

  it('filters by connection: a cluster whose agent holds a stream is connected, the others offline', async () => {
    const agent = new FakeAgent(hub, 'eu-2', tokens.get('eu-2')!);
    agents.push(agent);
    agent.connect();
    await eventually(async () => (await page({ connected: true })).nodes.length === 1, { what: 'eu-2 connected' });
    const connected = await page({ connected: true });
    expect(connected.nodes).toEqual([{ name: 'eu-2', connected: true }]);
    expect(connected.connectedCount).toBe(1);
    const offline = await page({ connected: false });
    expect(offline.nodes.map((n) => n.name)).toEqual(['ap-1', 'eu-1', 'lab', 'us-1', 'us-west-1']);
    expect(offline.connectedCount).toBe(0);
    expect((await page(null)).connectedCount).toBe(1);
  });

  it('filters by App health and drift, counting only the Apps of the caller\'s projects', async () => {
    const applied = await admin<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code message } } }`, { y: appSet });
    expect(applied.data!.applyAppSet.issues).toEqual([]);
    // team-a's AppSet is staged on eu-1 and us-1; no agent reported yet, so both are not healthy.
    expect(await names({ apps: 'NOT_HEALTHY' })).toEqual(['eu-1', 'us-1']);
    expect(await names({ apps: 'DRIFTED' })).toEqual([]);

    // What the hub stores from an agent's report: us-1 healthy but drifted.
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    await pg.query(
      `INSERT INTO app_statuses (cluster_id, app_name, health, sync_status, resources)
       SELECT id, 'web', 'HEALTHY', 'SYNCED', '[{"kind":"ConfigMap","name":"web","drifted":true}]'::jsonb FROM clusters WHERE name = 'us-1'`,
    );
    await pg.end();
    expect(await names({ apps: 'NOT_HEALTHY' })).toEqual(['eu-1']);
    expect(await names({ apps: 'DRIFTED' })).toEqual(['us-1']);
    // team-b's viewer cannot see team-a's Apps: none of its clusters has an App it may see.
    expect(await names({ apps: 'NOT_HEALTHY' }, viewerB)).toEqual([]);
  });

  it.each([
    { args: 'first: 5, offset: 0' },
    { args: 'first: 1, offset: 0' },
    { args: 'first: 5, offset: 1' },
  ])('lists the Apps of every cluster of a page ($args) as one cluster alone lists them, and only the caller\'s projects\' Apps', async ({ args }) => {
    const fields = `apps(${args}) { name appSet health syncStatus revision }`;
    for (const caller of [admin, viewerB]) {
      const listed = await caller<{ clusterPage: { nodes: { name: string; apps: unknown[] }[] }; clusters: { name: string; apps: unknown[] }[] }>(
        `{ clusterPage(first: 100) { nodes { name ${fields} } } clusters(first: 100) { name ${fields} } }`,
      );
      expect(listed.errors).toBeUndefined();
      expect(listed.data!.clusters).toEqual(listed.data!.clusterPage.nodes);
      for (const node of listed.data!.clusterPage.nodes) {
        const alone = await caller<{ cluster: { name: string; apps: unknown[] } }>(`query($n: String!) { cluster(name: $n) { name ${fields} } }`, { n: node.name });
        expect(alone.data!.cluster).toEqual(node);
      }
    }
    const withApps = await admin<{ clusterPage: { nodes: { name: string; apps: unknown[] }[] } }>(`{ clusterPage(first: 100) { nodes { name apps { name } } } }`);
    expect(withApps.data!.clusterPage.nodes.filter((n) => n.apps.length > 0).map((n) => n.name)).toEqual(['eu-1', 'us-1']);
  });

  it('without a filter the clusters list is unchanged: every cluster by name, paged by offset', async () => {
    const res = await admin<{ clusters: { name: string }[] }>(`{ clusters(first: 2, offset: 1) { name } }`);
    expect(res.data!.clusters.map((c) => c.name)).toEqual(['eu-1', 'eu-2']);
  });
});
