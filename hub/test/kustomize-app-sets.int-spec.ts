import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHub } from '../src/hub';
import { appSetClient, registerClusters, renderPerCluster } from './support/app-set-client';
import { listAppSetYaml } from './support/app-set-yaml';
import { commit, git } from './support/git-repo';
import { startTestHub, type Gql } from './support/test-hub';
import type { TestDatabase } from './support/test-database';

const root = join(__dirname, '../..');
const fixture = join(root, 'test/fixtures/kustomize-shop');
const kubectl = join(root, '.tools/bin/kubectl');

/** The parts of a rendered object the assertions read. */
interface Manifest {
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
  spec?: { selector: { matchLabels: Record<string, string> }; template: { spec: { containers: { image: string; env: unknown[] }[] } } };
}

const TAGS = { 'eu-1': '1.4.0', 'us-1': '1.4.1', 'ap-1': '1.3.9' };
const COLORS = { 'eu-1': 'blue', 'us-1': 'green', 'ap-1': 'red' };

/** One App per cluster from the repository's base, with a per-cluster image tag and a parameterised patch. */
const appSetYaml = (repo: string, { path = 'base', tags = TAGS }: { path?: string; tags?: Record<string, string> } = {}) =>
  listAppSetYaml(
    'web',
    Object.entries(tags).map(([cluster, tag]) => `{ cluster: ${cluster}, tag: "${tag}", color: ${COLORS[cluster as keyof typeof COLORS]} }`),
    `    namespace: web
    kustomize:
      repoURL: ${repo}
      revision: main
      path: ${path}
      namePrefix: "{{ cluster.name }}-"
      commonLabels: { fleet.example/cluster: "{{ cluster.name }}" }
      images:
        - { name: registry.example/web, newTag: "{{ tag }}" }
      patches:
        - target: { kind: Deployment, name: web }
          patch:
            apiVersion: apps/v1
            kind: Deployment
            metadata: { name: web }
            spec:
              template:
                spec:
                  containers:
                    - name: web
                      env:
                        - { name: COLOR, value: "{{ color }}" }
`,
  );

describe('AppSets rendered by kustomize from a real Git repository, on real PostgreSQL', () => {
  let db: TestDatabase;
  let hub: RunningHub;
  let gql: Gql;
  let scratch: string;
  let repo: string;
  let head: string;

  const { preview, apply } = appSetClient(() => gql);
  /** The manifests the hub renders for each cluster, as the expansion hands them to staging. */
  const rendered = (yaml: string) => renderPerCluster<Manifest>(hub, yaml, Object.keys(TAGS));

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'flotilla-kustomize-int-'));
    repo = join(scratch, 'shop');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    cpSync(fixture, repo, { recursive: true });
    head = commit(repo, {}, 'kustomize shop');
    ({ db, hub, gql } = await startTestHub({ FLOTILLA_DATA_DIR: join(scratch, 'hub-data'), FLOTILLA_GIT_LOCAL_PATHS: scratch, FLOTILLA_KUSTOMIZE_BINARY: kubectl }));
    await registerClusters(gql, Object.keys(TAGS), { env: 'prod' });
  });

  afterAll(async () => {
    await hub?.stop();
    await db?.drop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('previews one App per cluster, each with its own image tag, then stages all three', async () => {
    const before = await preview(appSetYaml(repo));
    expect(before.issues).toEqual([]);
    expect(before.totals).toMatchObject({ added: 3, changed: 0 });
    for (const [cluster, tag] of Object.entries(TAGS)) {
      const diff = before.clusters.find((c) => c.cluster === cluster)!.added[0]!.diff;
      expect(diff).toContain(`registry.example/web:${tag}`);
      for (const other of Object.values(TAGS).filter((t) => t !== tag)) expect(diff).not.toContain(`registry.example/web:${other}`);
    }
    expect(await apply(appSetYaml(repo))).toMatchObject({ changed: true, issues: [] });
    const res = await gql<{ appSet: { apps: { cluster: string; stagedRevision: string | null; explain: { git: { commit: string }[] } | null }[] } }>(
      `{ appSet(name: "web") { apps { cluster stagedRevision explain { git { commit } } } } }`,
    );
    expect(res.errors).toBeUndefined();
    const apps = res.data!.appSet.apps;
    expect(apps.map((a) => a.cluster).sort()).toEqual(['ap-1', 'eu-1', 'us-1']);
    expect(apps.every((a) => a.stagedRevision !== null && a.explain!.git.some((g) => g.commit === head))).toBe(true);
    expect(new Set(apps.map((a) => a.stagedRevision)).size).toBe(3);
  });

  it('applies the base, its component, the prefix, the labels, the image override and the parameterised patch per cluster', async () => {
    const manifests = await rendered(appSetYaml(repo));
    for (const [cluster, tag] of Object.entries(TAGS)) {
      const objects = manifests.get(cluster)!.manifests;
      expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([`ConfigMap/${cluster}-alerts`, `ConfigMap/${cluster}-monitoring`, `Deployment/${cluster}-web`, `Service/${cluster}-web`]);
      const deployment = objects.find((o) => o.kind === 'Deployment')!;
      const container = deployment.spec!.template.spec.containers[0]!;
      expect(container.image).toBe(`registry.example/web:${tag}`);
      expect(container.env).toEqual([{ name: 'COLOR', value: COLORS[cluster as keyof typeof COLORS] }]);
      expect(deployment.metadata.annotations).toEqual({ 'monitoring.example/scrape': 'true' });
      expect(deployment.metadata.labels).toEqual({ app: 'web', 'fleet.example/cluster': cluster });
      expect(deployment.spec!.selector.matchLabels).toEqual({ app: 'web', 'fleet.example/cluster': cluster });
    }
  });

  it('hands a {{ }} string of a ConfigMap in the base to the App byte-identical', async () => {
    const written = (parse(readFileSync(join(fixture, 'base/alerts.yaml'), 'utf8')) as { data: { summary: string } }).data.summary;
    expect(written).toContain('{{ $labels.instance }}');
    const manifests = await rendered(appSetYaml(repo));
    for (const cluster of Object.keys(TAGS)) {
      const alerts = manifests.get(cluster)!.manifests.find((o) => o.metadata.name === `${cluster}-alerts`)!;
      expect(alerts.data!.summary).toBe(written);
    }
  });

  it('previews an image-tag bump for one cluster as a diff of that cluster alone', async () => {
    const bumped = await preview(appSetYaml(repo, { tags: { ...TAGS, 'us-1': '1.5.0' } }));
    expect(bumped.issues).toEqual([]);
    expect(bumped.totals).toMatchObject({ added: 0, changed: 1, unchanged: 2, removed: 0 });
    expect(bumped.clusters.map((c) => c.cluster)).toEqual(['us-1']);
    const diff = bumped.clusters[0]!.changed[0]!.diff;
    expect(diff).toMatch(/^-.*registry\.example\/web:1\.4\.1$/m);
    expect(diff).toMatch(/^\+.*registry\.example\/web:1\.5\.0$/m);
  });

  it.each([
    { path: 'remote', code: 'KUSTOMIZE_REMOTE_BASE', says: ['github.com/kubernetes-sigs/kustomize', 'remote bases are not fetched'] },
    { path: 'helm-inflation', code: 'KUSTOMIZE_HELM_NOT_SUPPORTED', says: ['helmCharts'] },
    { path: 'broken', code: 'KUSTOMIZE_FAILED', says: ['broken/missing-patch.yaml', 'no such file or directory'] },
    { path: 'deploy', code: 'KUSTOMIZE_NOT_FOUND', says: ['deploy holds no kustomization.yaml'] },
  ])('refuses a kustomization at $path with $code and a message that names the cause, staging nothing', async ({ path, code, says }) => {
    const yaml = appSetYaml(repo, { path }).replace('name: web }', `name: web-${path} }`);
    const refused = await preview(yaml);
    expect(refused.totals).toBeNull();
    expect(refused.issues.map((i) => i.code)).toEqual([code]);
    const message = refused.issues[0]!.message;
    for (const text of says) expect(message).toContain(text);
    expect(message).not.toContain(tmpdir());
    expect(message).not.toContain('flotilla-kustomize-');
    const applied = await apply(yaml);
    expect(applied.changed).toBe(false);
    expect(applied.issues.map((i) => i.code)).toEqual([code]);
  });
});
