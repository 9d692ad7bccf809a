import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../src/config/hub-config';
import { startHub, type RunningHub } from '../src/hub';
import { TEST_ADMIN_TOKEN } from './support/admin-token';
import { commit, git } from './support/git-repo';
import { eventually, graphqlClient, type GraphqlResponse } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';

// Git sources on real PostgreSQL with real repositories on disk, and two hub replicas on one database.

const appSet = (name: string, color: string, extra = '') => `apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata:
  name: ${name}
spec:
  generators:
    - clusters: {}
  template:
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: ${name} }
        data: { color: ${color}, cluster: "{{ cluster.name }}" }
${extra}`;

interface SourceView {
  name: string;
  lastSeenCommit: string | null;
  lastAppliedCommit: string | null;
  lastError: string;
  issues: { code: string; file: string | null; line: number | null; column: number | null; message: string }[];
  appSets: string[];
}
const SOURCE_FIELDS = 'name lastSeenCommit lastAppliedCommit lastError issues { code file line column message } appSets';

interface RevisionView {
  number: number;
  contentHash: string;
  author: string;
  message: string;
  commit: { sha: string; author: string; subject: string } | null;
}

describe('Git sources: AppSets read from a repository and applied as one change', () => {
  let db: TestDatabase;
  const hubs: RunningHub[] = [];
  let gql: ReturnType<typeof graphqlClient>;
  let scratch: string;
  let repo: string;

  const must = async <T,>(query: string, variables: Record<string, unknown> = {}, client = gql): Promise<T> => {
    const res: GraphqlResponse<T> = await client<T>(query, variables);
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data!;
  };
  const sync = async (name: string, args = '', client = gql) =>
    (await must<{ syncGitSource: SourceView }>(`mutation { syncGitSource(name: "${name}"${args}) { ${SOURCE_FIELDS} } }`, {}, client)).syncGitSource;
  const revisions = async (name: string) => (await must<{ appSet: { revisions: RevisionView[] } }>(`{ appSet(name: "${name}") { revisions { number contentHash author message commit { sha author subject } } } }`)).appSet.revisions;
  const stagedColors = async (name: string) => {
    const { appSet: found } = await must<{ appSet: { condition: string; apps: { cluster: string; stagedRevision: string | null }[] } }>(`{ appSet(name: "${name}") { condition apps { cluster stagedRevision } } }`);
    return found;
  };

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'flotilla-git-sources-'));
    repo = join(scratch, 'fleet');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    db = await createTestDatabase();
    // Both replicas read the agent-link CA the first one stores.
    const caKey = randomBytes(32).toString('base64');
    for (let i = 0; i < 2; i++) {
      hubs.push(
        await startHub(
          loadHubConfig({
            DATABASE_URL: db.url,
            PORT: '0',
            FLOTILLA_GRPC_PORT: '0',
            FLOTILLA_LOG_LEVEL: 'warn',
            FLOTILLA_REPLICA_ID: `hub-${i}`,
            FLOTILLA_DATA_DIR: join(scratch, `hub-data-${i}`),
            FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
            FLOTILLA_GIT_LOCAL_PATHS: scratch,
            FLOTILLA_CA_ENCRYPTION_KEY: caKey,
          }),
        ),
      );
    }
    gql = graphqlClient(hubs[0]!.graphqlUrl, TEST_ADMIN_TOKEN);
    for (const name of ['eu-1', 'us-1']) await must(`mutation($n: String!) { registerCluster(input: { name: $n }) { bootstrapToken } }`, { n: name });
  });

  afterAll(async () => {
    for (const hub of hubs) await hub.stop();
    await db?.drop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  let first: string;

  it('applies every AppSet under the path (several files, several documents a file) and records the commit on each revision', async () => {
    first = commit(repo, { 'fleet/web.yaml': appSet('web', 'blue') + '---\n' + appSet('api', 'blue'), 'fleet/jobs/batch.yml': appSet('batch', 'blue'), 'fleet/values/prod.yaml': 'replicas: 3\n', 'other/ignored.yaml': appSet('ignored', 'red') }, 'add the fleet');
    const { addGitSource } = await must<{ addGitSource: { gitSource: SourceView | null; issues: unknown[] } }>(
      `mutation($r: String!) { addGitSource(input: { name: "platform", repoURL: $r, revision: "main", path: "fleet", interval: "1h" }) { gitSource { name } issues { code message } } }`,
      { r: repo },
    );
    expect(addGitSource.issues).toEqual([]);
    const status = await sync('platform');
    expect(status).toMatchObject({ lastSeenCommit: first, lastAppliedCommit: first, lastError: '', issues: [], appSets: ['api', 'batch', 'web'] });
    const [revision] = await revisions('web');
    expect(revision).toMatchObject({ number: 1, author: 'git:platform', message: 'add the fleet', commit: { sha: first, author: 'test <test@example.com>', subject: 'add the fleet' } });
    expect((await stagedColors('web')).apps).toHaveLength(2);
    const { appSets } = await must<{ appSets: { name: string; source: string | null }[] }>(`{ appSets { name source } }`);
    expect(appSets).toEqual(expect.arrayContaining([{ name: 'web', source: 'platform' }]));
    expect(appSets.map((a) => a.name)).not.toContain('ignored');
  });

  it('refuses to change a source-managed AppSet through the API, naming the source', async () => {
    const res = await gql(`mutation($y: String!) { applyAppSet(yaml: $y) { changed } }`, { y: appSet('web', 'green') });
    expect(res.errors?.[0]?.extensions?.code).toBe('FAILED_PRECONDITION');
    expect(res.errors?.[0]?.message).toContain('Git source "platform"');
  });

  it('applies nothing from a commit with one broken document, and shows the file, line and column', async () => {
    const broken = commit(repo, { 'fleet/web.yaml': appSet('web', 'green') + '---\n' + appSet('api', 'green').replace('clusters: {}', 'clusters: 3') }, 'break api');
    const status = await sync('platform');
    expect(status.lastSeenCommit).toBe(broken);
    expect(status.lastAppliedCommit).toBe(first);
    expect(status.lastError).toContain('nothing was applied');
    expect(status.issues[0]).toMatchObject({ code: 'SCHEMA', file: 'fleet/web.yaml', line: 21, column: 7 });
    // web's valid change in the same commit was not applied either.
    expect(await revisions('web')).toHaveLength(1);
  });

  it('applies the next good commit, and a revert stages the older content again as a new revision', async () => {
    const fixed = commit(repo, { 'fleet/web.yaml': appSet('web', 'green') + '---\n' + appSet('api', 'blue') }, 'web goes green');
    const good = await sync('platform');
    expect(good, JSON.stringify(good.issues)).toMatchObject({ lastAppliedCommit: fixed, lastError: '', issues: [] });
    commit(repo, { 'fleet/web.yaml': appSet('web', 'red') + '---\n' + appSet('api', 'blue') }, 'web goes red');
    expect(await sync('platform')).toMatchObject({ lastError: '' });
    git(repo, 'revert', '--no-edit', 'HEAD');
    const reverted = git(repo, 'rev-parse', 'HEAD');
    expect(await sync('platform')).toMatchObject({ lastAppliedCommit: reverted, lastError: '' });
    const [latest, red, green] = await revisions('web');
    expect(latest).toMatchObject({ number: 4, commit: { sha: reverted } });
    expect(latest!.contentHash).toBe(green!.contentHash);
    expect(red!.contentHash).not.toBe(green!.contentHash);
  });

  it('refuses a force-push to an older commit (a rewritten history) and audits it, until an operator accepts it', async () => {
    const before = git(repo, 'rev-parse', 'HEAD');
    git(repo, 'reset', '-q', '--hard', first);
    const status = await sync('platform');
    expect(status.lastAppliedCommit).toBe(before);
    expect(status.issues.map((i) => i.code)).toEqual(['HISTORY_REWRITTEN']);
    const { auditEvents } = await must<{ auditEvents: { nodes: { actor: string; outcome: string; reason: string }[] } }>(`{ auditEvents(filter: { kind: "gitSourceSync" }, first: 5) { nodes { actor outcome reason } } }`);
    expect(auditEvents.nodes[0]).toMatchObject({ actor: 'git:platform', outcome: 'DENIED' });
    expect(auditEvents.nodes[0]!.reason).toContain('rewritten');
    const accepted = await sync('platform', ', acceptHistoryRewrite: true');
    expect(accepted).toMatchObject({ lastAppliedCommit: first, lastError: '' });
    git(repo, 'reset', '-q', '--hard', before);
    await sync('platform', ', acceptHistoryRewrite: true');
  });

  it('holds the removal of an AppSet deleted from Git behind the deletion breaker, and removes it with force', async () => {
    commit(repo, { 'fleet/jobs/batch.yml': '# retired\n' }, 'retire batch');
    const held = await sync('platform');
    expect(held.issues.map((i) => i.code)).toEqual(['DELETION_BREAKER']);
    expect(held.appSets).toContain('batch');
    const removed = await sync('platform', ', force: true');
    expect(removed).toMatchObject({ lastError: '', issues: [] });
    expect(removed.appSets).not.toContain('batch');
    const batch = await stagedColors('batch');
    expect(batch.condition).toContain('removed from Git source "platform"');
    expect(batch.apps.every((a) => a.stagedRevision === null)).toBe(true);
  });

  it('never applies one commit twice when both replicas sync at once', async () => {
    const next = commit(repo, { 'fleet/web.yaml': appSet('web', 'purple') + '---\n' + appSet('api', 'blue') }, 'web goes purple');
    const before = (await revisions('web')).length;
    const clients = hubs.map((h) => graphqlClient(h.graphqlUrl, TEST_ADMIN_TOKEN));
    const results = await Promise.all([sync('platform', '', clients[0]), sync('platform', '', clients[1]), sync('platform', '', clients[0]), sync('platform', '', clients[1])]);
    for (const result of results) expect(result.lastAppliedCommit).toBe(next);
    const after = await revisions('web');
    expect(after).toHaveLength(before + 1);
    expect(after.filter((r) => r.commit?.sha === next)).toHaveLength(1);
  });

  it.each([
    { name: 'credentials in the URL', input: 'repoURL: "https://bot:hunter2@git.example.com/fleet.git"', code: 'CREDENTIALS_IN_URL' },
    { name: 'a path leaving the repository', input: 'repoURL: "https://git.example.com/fleet.git", path: "../x"', code: 'INVALID_PATH' },
    { name: 'an interval below 5s', input: 'repoURL: "https://git.example.com/fleet.git", interval: "1s"', code: 'INVALID_INTERVAL' },
  ])('refuses a source with $name, with a clear issue and nothing stored', async ({ input, code }) => {
    const res = await must<{ addGitSource: { gitSource: unknown; issues: { code: string; message: string }[] } }>(`mutation { addGitSource(input: { name: "bad", ${input} }) { gitSource { name } issues { code message } } }`);
    expect(res.addGitSource.gitSource).toBeNull();
    expect(res.addGitSource.issues.map((i) => i.code)).toEqual([code]);
    expect(JSON.stringify(res)).not.toContain('hunter2');
    const missing = await gql(`{ gitSource(name: "bad") { name } }`);
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('syncs a new source by itself, without syncGitSource', async () => {
    const own = join(scratch, 'own');
    mkdirSync(own);
    git(own, 'init', '-q', '-b', 'main');
    const sha = commit(own, { 'set.yaml': appSet('solo', 'teal') }, 'solo');
    await must(`mutation($r: String!) { addGitSource(input: { name: "solo", repoURL: $r, revision: "main", interval: "1h" }) { issues { code } } }`, { r: own });
    await eventually(async () => (await must<{ gitSource: SourceView }>(`{ gitSource(name: "solo") { ${SOURCE_FIELDS} } }`)).gitSource.lastAppliedCommit === sha, { what: 'the new source to be applied' });
    await must(`mutation { removeGitSource(name: "solo", keepAppSets: true) { name } }`);
  });

  it('shows an unreachable repository as one message that does not say why, and keeps what was applied', async () => {
    await must(`mutation($r: String!) { addGitSource(input: { name: "nowhere", repoURL: $r, revision: "main" }) { issues { code } } }`, { r: join(scratch, 'missing') });
    const status = await sync('nowhere');
    expect(status.lastAppliedCommit).toBeNull();
    expect(status.lastError).not.toBe('');
    expect(status.lastError).not.toContain(scratch);
  });

  it('removes a source and keeps its AppSets, which the API manages from then on', async () => {
    const { removeGitSource } = await must<{ removeGitSource: { keptAppSets: string[]; removedAppSets: string[] } }>(`mutation { removeGitSource(name: "platform", keepAppSets: true) { keptAppSets removedAppSets } }`);
    expect(removeGitSource).toEqual({ keptAppSets: ['api', 'web'], removedAppSets: [] });
    const res = await must<{ applyAppSet: { changed: boolean } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { changed } }`, { y: appSet('web', 'orange') });
    expect(res.applyAppSet.changed).toBe(true);
  });
});
