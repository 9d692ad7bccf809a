import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
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

// valueFiles of a Helm chart from Git that live elsewhere in the same repository (Argo CD's
// `../../envs/prod/values.yaml`): read at the chart's own commit, refused when they leave the
// repository or are not files there.

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

const CLUSTERS = ['eu-1', 'us-1'];

const appSetYaml = (repoURL: string, { revision = 'main', valueFiles = [] as string[], name = 'web' } = {}) => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: ${name} }
spec:
  generators:
    - list:
        elements:
${CLUSTERS.map((cluster) => `          - { cluster: ${cluster} }`).join('\n')}
  template:
    namespace: shop
    helm:
      repoURL: "${repoURL}"
      path: charts/web
      revision: ${revision}
      valueFiles: ${JSON.stringify(valueFiles)}
`;

describe('values files of a Helm chart from Git, elsewhere in the same repository, with the real helm and git, on real PostgreSQL', () => {
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
  /** The greeting each cluster's App changes to in `preview`, read from its diff. */
  const greetings = (view: PreviewView) =>
    Object.fromEntries(view.clusters.map((cluster) => [cluster.cluster, /^\+\s*greeting: (.*)$/m.exec(cluster.changed.map((c) => c.diff).join('\n'))?.[1]]));
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
    scratch = mkdtempSync(join(tmpdir(), 'flotilla-helm-git-values-int-'));
    repo = join(scratch, 'platform-repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    first = commit(repo, { ...chartFiles(chartFixture), 'envs/prod/values.yaml': 'greeting: guten tag\n', 'envs/README.md': 'per-environment values\n' }, 'chart and environments');
    expect(readFileSync(join(chartFixture, 'values.yaml'), 'utf8')).toContain('greeting: hello');
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
    for (const name of CLUSTERS) {
      const res = await gql(`mutation($n: String!) { registerCluster(input: { name: $n }) { bootstrapToken } }`, { n: name });
      expect(res.errors).toBeUndefined();
    }
    // Staged without values files: the chart's own greeting.
    expect(await apply(appSetYaml(repo))).toMatchObject({ changed: true, issues: [] });
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
    await db?.drop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it.each([
    ['relative to the chart’s path', '../../envs/prod/values.yaml'],
    ['from the repository’s root, written with a leading /', '/envs/prod/values.yaml'],
  ])('renders with a values file elsewhere in the repository, %s', async (_case, file) => {
    const view = await preview(appSetYaml(repo, { valueFiles: [file] }));
    expect(view.issues).toEqual([]);
    expect(view.totals).toMatchObject({ added: 0, changed: 2, removed: 0 });
    expect(greetings(view)).toEqual({ 'eu-1': 'guten tag', 'us-1': 'guten tag' });
  });

  it('applies values files in order, those of the chart and of the repository alike, before `values`', async () => {
    commit(repo, { 'envs/eu/values.yaml': 'greeting: bonjour\nreplicas: 5\n' }, 'eu values');
    const view = await preview(appSetYaml(repo, { valueFiles: ['../../envs/prod/values.yaml', 'values-prod.yaml', '../../envs/eu/values.yaml'] }));
    expect(view.issues).toEqual([]);
    expect(greetings(view)).toEqual({ 'eu-1': 'bonjour', 'us-1': 'bonjour' });
    for (const cluster of view.clusters) expect(cluster.changed.map((c) => c.diff).join('\n')).toMatch(/^\+\s*replicas: 5$/m);
  });

  it('reads the values file at the chart’s commit: a pinned revision keeps its values, a new commit of the values file alone is a change', async () => {
    const file = '../../envs/prod/values.yaml';
    commit(repo, { 'envs/prod/values.yaml': 'greeting: servus\n' }, 'prod greets differently; the chart is unchanged');

    const pinned = await preview(appSetYaml(repo, { revision: first, valueFiles: [file] }));
    expect(pinned.issues).toEqual([]);
    expect(greetings(pinned)).toEqual({ 'eu-1': 'guten tag', 'us-1': 'guten tag' });

    const latest = await preview(appSetYaml(repo, { valueFiles: [file] }));
    expect(latest.issues).toEqual([]);
    expect(greetings(latest)).toEqual({ 'eu-1': 'servus', 'us-1': 'servus' });
  });

  it.each([
    ['a values file the repository does not have', ['../../envs/staging/values.yaml'], 'HELM_VALUE_FILE_NOT_FOUND', 'envs/staging/values.yaml'],
    ['a folder instead of a file', ['../../envs/prod'], 'HELM_VALUE_FILE_NOT_FOUND', 'envs/prod'],
    ['a path leaving the repository', ['../../../secrets.yaml'], 'HELM_VALUE_FILE_OUTSIDE_REPOSITORY', '../../../secrets.yaml'],
    ['an absolute path leaving the repository', ['/../secrets.yaml'], 'HELM_VALUE_FILE_OUTSIDE_REPOSITORY', '/../secrets.yaml'],
    ['a file of the chart that does not exist', ['values-none.yaml'], 'HELM_VALUE_FILE_NOT_FOUND', 'values-none.yaml'],
  ])('refuses %s with a clear issue, staging nothing', async (_case, valueFiles, code, named) => {
    const refused = await preview(appSetYaml(repo, { valueFiles, name: 'broken' }));
    expect(refused.totals).toBeNull();
    expect(refused.issues.map((i) => ({ code: i.code, path: i.path }))).toEqual([{ code, path: 'spec.template.helm' }]);
    expect(refused.issues[0]!.message).toContain(named);
    expect(JSON.stringify(refused)).not.toContain(scratch);
  });

  it('does not follow a symbolic link in the repository to a file outside it', async () => {
    const secret = join(scratch, 'outside-secret.yaml');
    mkdirSync(join(repo, 'envs/linked'), { recursive: true });
    symlinkSync(secret, join(repo, 'envs/linked/values.yaml'));
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'a link leaving the repository');
    const refused = await preview(appSetYaml(repo, { valueFiles: ['../../envs/linked/values.yaml'], name: 'linked' }));
    expect(refused.issues.map((i) => i.code)).toEqual(['HELM_VALUE_FILE_NOT_FOUND']);
  });
});
