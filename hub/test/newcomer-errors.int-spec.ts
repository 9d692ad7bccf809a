import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../src/config/hub-config';
import { startHub, type RunningHub } from '../src/hub';
import { TEST_ADMIN_TOKEN } from './support/admin-token';
import { graphqlClient } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const webAppSet = (url: string) => `apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata:
  name: web
spec:
  generators:
    - clusters: {}
  template:
    namespace: web
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: web }
        data:
          url: "${url}"
          host: "${url}"
  strategy:
    waves: [{ name: all, maxConcurrency: "100%", soak: 0s }]
`;

interface IssueView {
  code: string;
  path: string;
  message: string;
  line: number | null;
  column: number | null;
  count: number;
  paths: string[];
  clusters: string[];
}

const ISSUE_FIELDS = 'code path message line column count paths clusters';

/** What a new user meets first, through the GraphQL API of a real hub on real PostgreSQL. */
describe('the errors a new user meets', () => {
  let db: TestDatabase;
  let hub: RunningHub;
  let gql: ReturnType<typeof graphqlClient>;

  const apply = async (yaml: string) =>
    (await gql<{ applyAppSet: { changed: boolean; issues: IssueView[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { changed issues { ${ISSUE_FIELDS} } } }`, { y: yaml })).data!.applyAppSet;
  const preview = async (yaml: string) =>
    (await gql<{ previewAppSet: { issues: IssueView[] } }>(`query($y: String!) { previewAppSet(yaml: $y) { issues { ${ISSUE_FIELDS} } } }`, { y: yaml })).data!.previewAppSet;

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startHub(
      loadHubConfig({ DATABASE_URL: db.url, PORT: '0', FLOTILLA_GRPC_PORT: '0', FLOTILLA_LOG_LEVEL: 'error', FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN }),
    );
    gql = graphqlClient(hub.graphqlUrl, TEST_ADMIN_TOKEN);
    for (let i = 1; i <= 10; i++) {
      const registered = await gql(`mutation($n: String!) { registerCluster(input: { name: $n, labels: { region: "eu" } }) { bootstrapToken } }`, { n: `edge-${i}` });
      expect(registered.errors).toBeUndefined();
    }
  });

  afterAll(async () => {
    await hub?.stop();
    await db?.drop();
  });

  it.each([
    { name: 'applyAppSet', run: (yaml: string) => apply(yaml) },
    { name: 'previewAppSet', run: (yaml: string) => preview(yaml) },
  ])('$name answers a YAML syntax error with its line and column', async ({ run }) => {
    const broken = webAppSet('https://web').replace('        metadata: { name: web }', '        metadata: { name: web');
    const { issues } = await run(broken);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ code: 'YAML_SYNTAX', path: '', line: 14, count: 1, paths: [''], clusters: [] });
    expect(issues[0]!.column).toBeGreaterThan(0);
    expect(issues[0]!.message).toContain(`(line 14, column ${issues[0]!.column})`);
  });

  it('says which apiVersion is expected, with its line', async () => {
    const { issues } = await apply(webAppSet('https://web').replace('flotilla.dev/v1alpha1', 'flotilla.io/v1alpha1'));
    expect(issues).toEqual([{ code: 'SCHEMA', path: 'apiVersion', message: 'apiVersion must be "flotilla.dev/v1alpha1"', line: 1, column: 1, count: 1, paths: ['apiVersion'], clusters: [] }]);
  });

  it('answers a template typo in two fields over ten clusters with one issue that counts 20', async () => {
    const { changed, issues } = await apply(webAppSet('https://{{ valuse.host }}'));
    expect(changed).toBe(false);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      code: 'TEMPLATE_ERROR',
      path: 'spec.template.manifests[0].data.url',
      count: 20,
      paths: ['spec.template.manifests[0].data.url', 'spec.template.manifests[0].data.host'],
      line: null,
    });
    expect(issues[0]!.clusters).toHaveLength(5);
    expect(issues[0]!.message).toMatch(/^undefined variable: valuse \(20 times: on 10 clusters \(.* and 5 more\) at 2 paths \(.*\)\)$/);
  });

  it.each([
    { query: `{ cluster(name: "nowhere") { name } }`, field: 'cluster', message: 'Cluster "nowhere" is not registered.' },
    { query: `{ appSet(name: "nothing") { name } }`, field: 'appSet', message: 'AppSet "nothing" does not exist.' },
    { query: `{ rollout(id: "00000000-0000-0000-0000-000000000000") { id } }`, field: 'rollout', message: 'Rollout "00000000-0000-0000-0000-000000000000" does not exist.' },
    { query: `{ project(name: "nobody") { name } }`, field: 'project', message: 'Project "nobody" does not exist.' },
  ])('answers $field of an unknown name with NOT_FOUND, not a silent null', async ({ query, field, message }) => {
    const answer = await gql(query);
    expect(answer.data).toEqual({ [field]: null });
    expect(answer.errors).toEqual([expect.objectContaining({ message, extensions: { code: 'NOT_FOUND' } })]);
  });

  it('keeps the reason startRollout was given: on the rollout, in its STARTED event and in the audit trail', async () => {
    expect((await apply(webAppSet('https://{{ cluster.name }}.example.com'))).issues).toEqual([]);
    const started = await gql<{ startRollout: { id: string; startReason: string } }>(`mutation { startRollout(appSet: "web", reason: "  first release of web  ") { id startReason } }`);
    expect(started.errors).toBeUndefined();
    expect(started.data!.startRollout.startReason).toBe('first release of web');
    const { rollout } = (await gql<{ rollout: { startReason: string; events: { kind: string; message: string }[] } }>(`query($id: ID!) { rollout(id: $id) { startReason events { kind message } } }`, { id: started.data!.startRollout.id })).data!;
    expect(rollout.startReason).toBe('first release of web');
    expect(rollout.events.find((e) => e.kind === 'STARTED')?.message).toMatch(/ Reason: first release of web$/);
    const audit = await gql<{ auditEvents: { nodes: { kind: string; message: string }[] } }>(`{ auditEvents(first: 50) { nodes { kind message } } }`);
    expect(audit.data!.auditEvents.nodes.find((e) => e.kind === 'startRollout')?.message).toContain('reason="first release of web"');
  });

  it.each([
    { name: 'a reason over 1000 characters', reason: 'x'.repeat(1001), message: 'The reason is 1001 characters; the limit is 1000.' },
    { name: 'a reason of several lines', reason: 'one\ntwo', message: 'The reason must be one line of text, without control characters.' },
  ])('refuses $name with INVALID_ARGUMENT and starts nothing', async ({ reason, message }) => {
    const before = (await gql<{ appSet: { rollouts: unknown[] } }>(`{ appSet(name: "web") { rollouts { id } } }`)).data!.appSet.rollouts.length;
    const answer = await gql(`mutation($r: String!) { startRollout(appSet: "web", reason: $r) { id } }`, { r: reason });
    expect(answer.errors).toEqual([expect.objectContaining({ message, extensions: { code: 'INVALID_ARGUMENT' } })]);
    expect((await gql<{ appSet: { rollouts: unknown[] } }>(`{ appSet(name: "web") { rollouts { id } } }`)).data!.appSet.rollouts).toHaveLength(before);
  });
});
