import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../src/config/hub-config';
import { startHub, type RunningHub } from '../src/hub';
import { TEST_ADMIN_TOKEN } from './support/admin-token';
import { chartFixture, helmBinary } from './support/chart-repos';
import { commit, git } from './support/git-repo';
import { graphqlClient } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';

interface IssueView {
  code: string;
  path: string;
  message: string;
}
interface PreviewView {
  issues: IssueView[];
  totals: { added: number; changed: number; unchanged: number; removed: number } | null;
  clusters: { cluster: string; changed: { app: string; diff: string }[] }[];
}
interface PinView {
  repoURL: string;
  chart: string;
  version: string;
  digest: string;
  path: string | null;
  commit: string | null;
}

const REPLICAS = { 'eu-1': 2, 'us-1': 3 };

const appSetYaml = (repoURL: string, { path = 'charts/web', revision = 'main', valueFiles = [] as string[], name = 'web' } = {}) => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: ${name} }
spec:
  generators:
    - list:
        elements:
${Object.entries(REPLICAS)
  .map(([cluster, replicas]) => `          - { cluster: ${cluster}, replicas: "${replicas}" }`)
  .join('\n')}
  template:
    namespace: shop
    helm:
      repoURL: "${repoURL}"
      path: ${path}
      revision: ${revision}
      valueFiles: ${JSON.stringify(valueFiles)}
      values:
        replicas: "{{ replicas }}"
`;

describe('AppSets rendered from Helm charts in a Git repository, with the real helm and git, on real PostgreSQL', () => {
  let db: TestDatabase;
  let hub: RunningHub;
  let gql: ReturnType<typeof graphqlClient>;
  let scratch: string;
  let repo: string;
  let first: string;

  const preview = async (yaml: string): Promise<PreviewView> => {
    const res = await gql<{ previewAppSet: PreviewView }>(
      `query($y: String!) { previewAppSet(yaml: $y) { issues { code path message } totals { added changed unchanged removed } clusters { cluster changed { app diff } } } }`,
      { y: yaml },
    );
    expect(res.errors).toBeUndefined();
    return res.data!.previewAppSet;
  };
  const apply = async (yaml: string) => {
    const res = await gql<{ applyAppSet: { changed: boolean; issues: IssueView[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { changed issues { code path message } } }`, { y: yaml });
    expect(res.errors).toBeUndefined();
    return res.data!.applyAppSet;
  };
  const refresh = async (name: string) => {
    const res = await gql<{ refreshAppSet: { changed: boolean; issues: IssueView[] } }>(`mutation($n: String!) { refreshAppSet(name: $n) { changed issues { code path message } } }`, { n: name });
    expect(res.errors).toBeUndefined();
    return res.data!.refreshAppSet;
  };
  const stagedApps = async (name: string) => {
    const res = await gql<{ appSet: { apps: { cluster: string; stagedRevision: string | null; explain: { helm: PinView | null } | null }[] } }>(
      `query($n: String!) { appSet(name: $n) { apps { cluster stagedRevision explain { helm { repoURL chart version digest path commit } } } } }`,
      { n: name },
    );
    expect(res.errors).toBeUndefined();
    return res.data!.appSet.apps;
  };
  const chartFiles = (dir: string) => {
    const files: Record<string, string> = {};
    const walk = (rel: string) => {
      for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
        const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
        if (entry.isDirectory()) walk(path);
        else files[`charts/web/${path}`] = readFileSync(join(dir, path), 'utf8');
      }
    };
    walk('');
    return files;
  };

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'flotilla-helm-git-int-'));
    repo = join(scratch, 'charts-repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    first = commit(repo, chartFiles(chartFixture), 'web chart');
    db = await createTestDatabase();
    hub = await startHub(
      loadHubConfig({
        DATABASE_URL: db.url,
        PORT: '0',
        FLOTILLA_GRPC_PORT: '0',
        FLOTILLA_LOG_LEVEL: 'error',
        FLOTILLA_DATA_DIR: join(scratch, 'hub-data'),
        FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        FLOTILLA_HELM_BINARY: helmBinary,
        FLOTILLA_GIT_LOCAL_PATHS: scratch,
      }),
    );
    gql = graphqlClient(hub.graphqlUrl, TEST_ADMIN_TOKEN);
    for (const name of Object.keys(REPLICAS)) {
      const res = await gql(`mutation($n: String!) { registerCluster(input: { name: $n }) { bootstrapToken } }`, { n: name });
      expect(res.errors).toBeUndefined();
    }
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
    await db?.drop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('applies a chart directory of a Git repository over two clusters and explains the commit it was rendered from', async () => {
    const before = await preview(appSetYaml(repo));
    expect(before.issues).toEqual([]);
    expect(before.totals).toMatchObject({ added: 2, changed: 0 });
    expect(await apply(appSetYaml(repo))).toMatchObject({ changed: true, issues: [] });
    const apps = await stagedApps('web');
    expect(apps.map((a) => a.cluster).sort()).toEqual(['eu-1', 'us-1']);
    const pins = apps.map((a) => a.explain!.helm!);
    for (const [index, app] of apps.entries()) {
      expect(app.stagedRevision).not.toBeNull();
      expect(pins[index]).toEqual({ repoURL: repo, chart: 'web', version: '1.0.0', digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), path: 'charts/web', commit: first });
    }
    expect(pins[0]!.digest).toBe(pins[1]!.digest);
  });

  it('previews a new commit that changes values.yaml as a diff on every cluster, keeping per-cluster values', async () => {
    const values = readFileSync(join(chartFixture, 'values.yaml'), 'utf8');
    expect(values).toContain('greeting: hello');
    const second = commit(repo, { 'charts/web/values.yaml': values.replace('greeting: hello', 'greeting: bonjour') }, 'greet in French');
    const changed = await preview(appSetYaml(repo));
    expect(changed.issues).toEqual([]);
    expect(changed.totals).toMatchObject({ added: 0, changed: 2, unchanged: 0, removed: 0 });
    expect(changed.clusters.map((c) => c.cluster).sort()).toEqual(['eu-1', 'us-1']);
    for (const cluster of changed.clusters) {
      const diff = cluster.changed[0]!.diff;
      expect(diff).toMatch(/^-.*greeting: hello$/m);
      expect(diff).toMatch(/^\+.*greeting: bonjour$/m);
      expect(diff).not.toMatch(/^[-+].*replicas/m);
    }
    // The document is unchanged: a refresh resolves the branch again and stages the new commit.
    expect(await refresh('web')).toMatchObject({ changed: true, issues: [] });
    expect((await stagedApps('web')).map((a) => a.explain!.helm!.commit)).toEqual([second, second]);
  });

  it('renders the chart at a pinned commit and reads value files from the chart directory', async () => {
    const pinned = await preview(appSetYaml(repo, { revision: first, valueFiles: ['values-prod.yaml'] }));
    expect(pinned.issues).toEqual([]);
    expect(pinned.totals).toMatchObject({ changed: 2 });
    for (const cluster of pinned.clusters) expect(cluster.changed[0]!.diff).toMatch(/^\+.*greeting: hello$/m);
    const missing = await preview(appSetYaml(repo, { valueFiles: ['../../etc/passwd'] }));
    expect(missing.totals).toBeNull();
    expect(missing.issues.map((i) => i.code)).toContain('HELM_VALUE_FILE_NOT_FOUND');
  });

  it.each([
    ['a path without a chart', { path: 'charts/none' }, 'HELM_GIT_CHART_NOT_FOUND'],
    ['a path leaving the repository', { path: '../outside' }, 'HELM_GIT_PATH_INVALID'],
    ['a revision the repository does not have', { revision: 'no-such-branch' }, 'GIT_UNAVAILABLE'],
  ])('refuses %s with a clear issue, staging nothing', async (_name, options, code) => {
    const refused = await preview(appSetYaml(repo, { ...options, name: 'broken' }));
    expect(refused.totals).toBeNull();
    expect(refused.issues.map((i) => ({ code: i.code, path: i.path }))).toEqual([{ code, path: 'spec.template.helm' }]);
    expect(JSON.stringify(refused)).not.toContain(scratch);
  });

  it('refuses a chart whose dependencies are not vendored, without fetching them', async () => {
    commit(repo, { 'deps/app/Chart.yaml': 'apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: redis\n    version: 1.0.0\n    repository: https://charts.example.com\n' }, 'chart with a dependency');
    const refused = await preview(appSetYaml(repo, { path: 'deps/app', name: 'deps' }));
    expect(refused.totals).toBeNull();
    expect(refused.issues.map((i) => i.code)).toEqual(['HELM_GIT_DEPENDENCY_NOT_VENDORED']);
    expect(refused.issues[0]!.message).toContain('charts/redis/');
  });
});
