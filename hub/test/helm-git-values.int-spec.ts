import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHub } from '../src/hub';
import { appSetClient, registerClusters, type PreviewView } from './support/app-set-client';
import { listAppSetYaml } from './support/app-set-yaml';
import { chartFixture, helmBinary } from './support/chart-repos';
import { commit, filesUnder, git } from './support/git-repo';
import { startTestHub, type Gql } from './support/test-hub';
import type { TestDatabase } from './support/test-database';

// valueFiles of a Helm chart from Git that live elsewhere in the same repository (Argo CD's
// `../../envs/prod/values.yaml`): read at the chart's own commit, refused when they leave the
// repository or are not files there.

const CLUSTERS = ['eu-1', 'us-1'];

const appSetYaml = (repoURL: string, { revision = 'main', valueFiles = [] as string[], name = 'web' } = {}) =>
  listAppSetYaml(
    name,
    CLUSTERS.map((cluster) => `{ cluster: ${cluster} }`),
    `    namespace: shop
    helm:
      repoURL: "${repoURL}"
      path: charts/web
      revision: ${revision}
      valueFiles: ${JSON.stringify(valueFiles)}
`,
  );

describe('values files of a Helm chart from Git, elsewhere in the same repository, with the real helm and git, on real PostgreSQL', () => {
  let db: TestDatabase;
  let hub: RunningHub;
  let gql: Gql;
  let scratch: string;
  let repo: string;
  let first: string;

  const { preview, apply } = appSetClient(() => gql);
  /** The greeting each cluster's App changes to in `preview`, read from its diff. */
  const greetings = (view: PreviewView) =>
    Object.fromEntries(view.clusters.map((cluster) => [cluster.cluster, /^\+\s*greeting: (.*)$/m.exec(cluster.changed.map((c) => c.diff).join('\n'))?.[1]]));

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'flotilla-helm-git-values-int-'));
    repo = join(scratch, 'platform-repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    first = commit(repo, { ...filesUnder(chartFixture, 'charts/web'), 'envs/prod/values.yaml': 'greeting: guten tag\n', 'envs/README.md': 'per-environment values\n' }, 'chart and environments');
    expect(readFileSync(join(chartFixture, 'values.yaml'), 'utf8')).toContain('greeting: hello');
    ({ db, hub, gql } = await startTestHub({ FLOTILLA_DATA_DIR: join(scratch, 'hub-data'), FLOTILLA_HELM_BINARY: helmBinary, FLOTILLA_GIT_LOCAL_PATHS: scratch }));
    await registerClusters(gql, CLUSTERS);
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
