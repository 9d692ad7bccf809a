import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHub } from '../src/hub';
import { appSetClient, registerClusters } from './support/app-set-client';
import { listAppSetYaml } from './support/app-set-yaml';
import { chartFixture, helmBinary } from './support/chart-repos';
import { commit, filesUnder, git } from './support/git-repo';
import { startTestHub, type Gql } from './support/test-hub';
import type { TestDatabase } from './support/test-database';

interface PinView {
  repoURL: string;
  chart: string;
  version: string;
  digest: string;
  path: string | null;
  commit: string | null;
}

const REPLICAS = { 'eu-1': 2, 'us-1': 3 };

const appSetYaml = (repoURL: string, { path = 'charts/web', revision = 'main', valueFiles = [] as string[], name = 'web' } = {}) =>
  listAppSetYaml(
    name,
    Object.entries(REPLICAS).map(([cluster, replicas]) => `{ cluster: ${cluster}, replicas: "${replicas}" }`),
    `    namespace: shop
    helm:
      repoURL: "${repoURL}"
      path: ${path}
      revision: ${revision}
      valueFiles: ${JSON.stringify(valueFiles)}
      values:
        replicas: "{{ replicas }}"
`,
  );

describe('AppSets rendered from Helm charts in a Git repository, with the real helm and git, on real PostgreSQL', () => {
  let db: TestDatabase;
  let hub: RunningHub;
  let gql: Gql;
  let scratch: string;
  let repo: string;
  let first: string;

  const { preview, apply, refresh, helmApps } = appSetClient(() => gql);
  const stagedApps = (name: string) => helmApps<PinView>(name, 'repoURL chart version digest path commit');

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'flotilla-helm-git-int-'));
    repo = join(scratch, 'charts-repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    first = commit(repo, filesUnder(chartFixture, 'charts/web'), 'web chart');
    ({ db, hub, gql } = await startTestHub({ FLOTILLA_DATA_DIR: join(scratch, 'hub-data'), FLOTILLA_HELM_BINARY: helmBinary, FLOTILLA_GIT_LOCAL_PATHS: scratch }));
    await registerClusters(gql, Object.keys(REPLICAS));
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
