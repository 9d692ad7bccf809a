import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../src/config/hub-config';
import { startHub, type RunningHub } from '../src/hub';
import { TEST_ADMIN_TOKEN } from './support/admin-token';
import { graphqlClient } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { commit, git } from './support/git-repo';

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: { name: "{{ name }}" }
spec: { replicas: "{{ replicas }}" }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: "{{ name }}" }
data: { color: "{{ color }}", cluster: "{{ cluster.name }}" }
`;

/** Matrix of the repository's app files × the prod clusters; manifests from the repository's deploy/ directory, templated (opted in). */
const appSetYaml = (repo: string, revision: string) => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: shop }
spec:
  generators:
    - matrix:
        generators:
          - git:
              repoURL: ${repo}
              revision: ${revision}
              files: [{ path: "apps/*.yaml" }]
          - clusters: { selector: { matchLabels: { env: prod } } }
  template:
    name: "{{ name }}"
    namespace: shop
    source: { repoURL: ${repo}, revision: ${revision}, path: deploy, templated: true }
`;

interface ExplainView {
  sources: { generator: string; element: string; git: { commit: string } | null }[];
  parameters: Record<string, unknown>;
  git: { repoURL: string; revision: string; commit: string }[];
}

interface AppView {
  name: string;
  cluster: string;
  stagedRevision: string | null;
  explain: ExplainView | null;
}

describe('AppSets from a real Git repository (commits, branches, tags), on real PostgreSQL', () => {
  let db: TestDatabase;
  let hub: RunningHub;
  let gql: ReturnType<typeof graphqlClient>;
  let scratch: string;
  let repo: string;
  let first: string;

  const apply = async (yaml: string) => {
    const res = await gql<{ applyAppSet: { changed: boolean; issues: { code: string; path: string; message: string }[] } }>(
      `mutation($y: String!) { applyAppSet(yaml: $y) { changed issues { code path message } } }`,
      { y: yaml },
    );
    expect(res.errors).toBeUndefined();
    return res.data!.applyAppSet;
  };
  const refresh = async () => {
    const res = await gql<{ refreshAppSet: { changed: boolean; issues: { code: string; message: string }[] } }>(`mutation { refreshAppSet(name: "shop") { changed issues { code message } } }`);
    expect(res.errors).toBeUndefined();
    return res.data!.refreshAppSet;
  };
  const appSet = async () => {
    const res = await gql<{ appSet: { revision: number; condition: string; apps: AppView[] } }>(
      `{ appSet(name: "shop") { revision condition apps { name cluster stagedRevision explain { sources { generator element git { commit } } parameters git { repoURL revision commit } } } } }`,
    );
    expect(res.errors).toBeUndefined();
    return res.data!.appSet;
  };
  const colors = (apps: AppView[]) => Object.fromEntries(apps.map((a) => [`${a.cluster}/${a.name}`, (a.explain?.parameters as { color?: string } | undefined)?.color]));

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'flotilla-git-int-'));
    repo = join(scratch, 'shop');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    first = commit(
      repo,
      {
        'apps/cart.yaml': 'name: cart\ncolor: blue\nreplicas: 2\ndbPassword: cart-db-s3cret\n',
        'apps/search.yaml': 'name: search\ncolor: green\nreplicas: 1\n',
        'deploy/app.yaml': deployment,
      },
      'first',
    );
    git(repo, 'tag', 'v1');
    db = await createTestDatabase();
    hub = await startHub(
      loadHubConfig({ DATABASE_URL: db.url, PORT: '0', FLOTILLA_GRPC_PORT: '0', FLOTILLA_LOG_LEVEL: 'error', FLOTILLA_DATA_DIR: join(scratch, 'hub-data'), FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN, FLOTILLA_GIT_LOCAL_PATHS: scratch }),
    );
    gql = graphqlClient(hub.graphqlUrl, TEST_ADMIN_TOKEN);
    for (const [name, region] of [
      ['eu-1', 'eu'],
      ['us-1', 'us'],
    ]) {
      const res = await gql(`mutation($n: String!, $l: JSONObject) { registerCluster(input: { name: $n, labels: $l }) { bootstrapToken } }`, { n: name, l: { region, env: 'prod' } });
      expect(res.errors).toBeUndefined();
    }
  });

  afterAll(async () => {
    await hub?.stop();
    await db?.drop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('applies a matrix of Git files × clusters with manifests from a Git path, rendered per cluster', async () => {
    expect(await apply(appSetYaml(repo, 'main'))).toMatchObject({ changed: true, issues: [] });
    const { apps } = await appSet();
    expect(apps.map((a) => `${a.cluster}/${a.name}`).sort()).toEqual(['eu-1/cart', 'eu-1/search', 'us-1/cart', 'us-1/search']);
    expect(apps.every((a) => a.stagedRevision !== null)).toBe(true);
    const manifests = await gql<{ previewAppSet: { totals: { unchanged: number } } }>(`query($y: String!) { previewAppSet(yaml: $y) { totals { unchanged } } }`, { y: appSetYaml(repo, 'main') });
    expect(manifests.data!.previewAppSet.totals.unchanged).toBe(4);
  });

  it('each App explains itself through GraphQL: generator elements, the commit read, and parameters with secrets redacted', async () => {
    const cart = (await appSet()).apps.find((a) => a.cluster === 'eu-1' && a.name === 'cart')!;
    expect(cart.explain!.sources).toEqual([
      { generator: 'spec.generators[0].matrix.generators[0].git', element: 'apps/cart.yaml', git: { commit: first } },
      { generator: 'spec.generators[0].matrix.generators[1].clusters', element: 'eu-1', git: null },
    ]);
    expect(cart.explain!.git).toEqual([{ repoURL: repo, revision: 'main', commit: first }]);
    expect(cart.explain!.parameters).toMatchObject({ name: 'cart', color: 'blue', replicas: 2, dbPassword: '[redacted]', cluster: { name: 'eu-1' } });
    expect(JSON.stringify(cart.explain)).not.toContain('cart-db-s3cret');
  });

  it('a branch that moves brings new parameters on refresh, without a new AppSet revision; preview shows it first', async () => {
    const moved = commit(repo, { 'apps/cart.yaml': 'name: cart\ncolor: red\nreplicas: 3\ndbPassword: cart-db-s3cret\n' }, 'cart goes red');
    const preview = await gql<{ previewAppSet: { totals: { changed: number }; clusters: { cluster: string; changed: { app: string; diff: string; explain: ExplainView }[] }[] } }>(
      `query($y: String!) { previewAppSet(yaml: $y) { totals { changed } clusters { cluster changed { app diff explain { git { commit } parameters sources { generator element } } } } } }`,
      { y: appSetYaml(repo, 'main') },
    );
    expect(preview.errors).toBeUndefined();
    expect(preview.data!.previewAppSet.totals.changed).toBe(2);
    const change = preview.data!.previewAppSet.clusters[0]!.changed[0]!;
    expect(change.diff).toContain('+  color: red');
    expect(change.explain.git).toEqual([{ commit: moved }]);
    expect(colors((await appSet()).apps)['eu-1/cart']).toBe('blue');

    const before = await appSet();
    expect(await refresh()).toMatchObject({ changed: true, issues: [] });
    const after = await appSet();
    expect(after.revision).toBe(before.revision);
    expect(colors(after.apps)).toEqual({ 'eu-1/cart': 'red', 'eu-1/search': 'green', 'us-1/cart': 'red', 'us-1/search': 'green' });
    expect(after.apps.find((a) => a.name === 'cart')!.explain!.git[0]!.commit).toBe(moved);
    expect(await refresh()).toMatchObject({ changed: false, issues: [] });
  });

  it('a tag and a commit SHA pin the parameters whatever the branch does', async () => {
    expect(await apply(appSetYaml(repo, 'v1'))).toMatchObject({ changed: true, issues: [] });
    expect(colors((await appSet()).apps)['eu-1/cart']).toBe('blue');
    expect((await appSet()).apps[0]!.explain!.git).toEqual([{ repoURL: repo, revision: 'v1', commit: first }]);

    const pinned = commit(repo, { 'apps/cart.yaml': 'name: cart\ncolor: purple\nreplicas: 1\n' }, 'cart goes purple');
    commit(repo, { 'apps/cart.yaml': 'name: cart\ncolor: orange\nreplicas: 1\n' }, 'cart goes orange');
    expect(await apply(appSetYaml(repo, pinned))).toMatchObject({ changed: true, issues: [] });
    expect(colors((await appSet()).apps)['eu-1/cart']).toBe('purple');
    expect(await refresh()).toMatchObject({ changed: false });
    expect(colors((await appSet()).apps)['eu-1/cart']).toBe('purple');
  });

  it('a branch of its own: a new branch with another app adds it', async () => {
    git(repo, 'checkout', '-q', '-b', 'canary');
    commit(repo, { 'apps/ads.yaml': 'name: ads\ncolor: yellow\nreplicas: 1\n' }, 'ads on canary');
    git(repo, 'checkout', '-q', 'main');
    expect(await apply(appSetYaml(repo, 'canary'))).toMatchObject({ changed: true, issues: [] });
    expect((await appSet()).apps.map((a) => `${a.cluster}/${a.name}`).sort()).toEqual(['eu-1/ads', 'eu-1/cart', 'eu-1/search', 'us-1/ads', 'us-1/cart', 'us-1/search']);
  });

  it('previewClusterChange shows what a relabel would do before it takes effect, and writes nothing', async () => {
    const res = await gql<{
      previewClusterChange: { appSets: { appSet: string; totals: { removed: number }; issues: { code: string }[]; clusters: { cluster: string; removed: { app: string }[] }[] }[] };
    }>(`{ previewClusterChange(cluster: "us-1", labels: { region: "us", env: "staging" }) { appSets { appSet totals { removed } issues { code } clusters { cluster removed { app } } } } }`);
    expect(res.errors).toBeUndefined();
    const [shop] = res.data!.previewClusterChange.appSets;
    expect(shop!.appSet).toBe('shop');
    expect(shop!.clusters).toEqual([{ cluster: 'us-1', removed: [{ app: 'ads' }, { app: 'cart' }, { app: 'search' }] }]);
    // Half the Apps would go: the re-staging would be refused by the deletion breaker, and the preview says so.
    expect(shop!.issues).toEqual([{ code: 'DELETION_BREAKER' }]);
    const cluster = await gql<{ cluster: { labels: Record<string, string> } }>(`{ cluster(name: "us-1") { labels } }`);
    expect(cluster.data!.cluster.labels).toEqual({ region: 'us', env: 'prod' });

    const added = await gql<{ previewClusterChange: { appSets: { clusters: { cluster: string; added: { app: string }[] }[] }[] } }>(
      `{ previewClusterChange(cluster: "ap-1", labels: { region: "ap", env: "prod" }) { appSets { clusters { cluster added { app } } } } }`,
    );
    expect(added.data!.previewClusterChange.appSets[0]!.clusters).toEqual([{ cluster: 'ap-1', added: [{ app: 'ads' }, { app: 'cart' }, { app: 'search' }] }]);
    expect((await gql<{ cluster: unknown }>(`{ cluster(name: "ap-1") { name } }`)).errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
  });

  it('an unreachable repository trips nothing into deletion: refresh and re-staging keep every App and say why', async () => {
    const before = await appSet();
    renameSync(repo, `${repo}-gone`);
    try {
      const refreshed = await refresh();
      expect(refreshed.changed).toBe(false);
      expect(refreshed.issues.map((i) => i.code)).toContain('GIT_UNAVAILABLE');

      const relabel = await gql(`mutation { setClusterLabels(cluster: "eu-1", labels: { region: "eu", env: "prod", tier: "gold" }) { name } }`);
      expect(relabel.errors).toBeUndefined();
      const after = await appSet();
      expect(after.condition).toContain('GIT_UNAVAILABLE');
      expect(after.apps.map((a) => [a.cluster, a.name, a.stagedRevision])).toEqual(before.apps.map((a) => [a.cluster, a.name, a.stagedRevision]));

      const applied = await apply(appSetYaml(repo, 'main'));
      expect(applied.changed).toBe(false);
      expect(applied.issues.map((i) => i.code)).toContain('GIT_UNAVAILABLE');
      expect((await appSet()).revision).toBe(before.revision);
    } finally {
      renameSync(`${repo}-gone`, repo);
    }
    expect(await refresh()).toMatchObject({ issues: [] });
    expect((await appSet()).condition).toBe('');
  });
});
