/**
 * S1: expand one AppSet with a clusters generator over N clusters and persist the Apps.
 *
 * Project: the hub's real `AppSetsService.apply` (hub/dist, constructed by hand without Nest, on a
 * TypeORM DataSource with the hub's own options and migrations, on a throwaway database of the real
 * PostgreSQL). The expander is the hub's `AppSetExpander`, subclassed only to time its pure
 * `expandAppSet` call (in the hub's render pool: a worker thread, default settings, started once and
 * kept warm like the hub's), so compute = the expansion and persist = apply − expansion (cluster snapshot,
 * transaction, advisory lock, conflict lookup, chunked inserts of bundles and Apps).
 * Baseline: compute = `JSON.stringify` + sha256 of the N precomputed final objects (taken from the
 * project's own expansion); persist = raw `pg` multi-row INSERTs (1000 rows per statement, one
 * transaction) of the same rows into the same tables. Each run starts from empty App tables.
 * Peak RSS growth: VmHWM, reset before each run (/proc/self/clear_refs), minus RSS at its start.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { canonicalJson } from '@flotilla/proto';
import { createTestDatabase } from '../../harness/database.js';
import { onCleanup } from '../lib/cleanup.js';
import { AppSetExpander, AppSetsService, ClustersService, ProjectsService, RenderPool, dataSourceOptions, expandAppSet, hubPrincipal, hubTypeorm, loadRenderConfig, migrate, parseAppSet } from '../lib/hub-dist.js';
import { alternate, summarise, type CaseResult, type Figures } from '../lib/pairs.js';
import { processPeakRssMiB } from '../lib/proc.js';
import type { Profile, Scenario } from './registry.js';

type RenderedApp = ReturnType<typeof expandAppSet>['apps'][number];
type Document = Parameters<typeof expandAppSet>[0];

const APP_SET = `apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: bench }
spec:
  generators:
    - clusters: { selector: { matchLabels: { fleet: bench } } }
  template:
    name: web
    namespace: web
    manifests:
      - apiVersion: apps/v1
        kind: Deployment
        metadata: { name: web, labels: { region: "{{ cluster.labels.region }}" } }
        spec:
          replicas: 2
          selector: { matchLabels: { app: web } }
          template:
            metadata: { labels: { app: web } }
            spec:
              containers:
                - name: web
                  image: registry.example.com/web:1.0
                  env: [{ name: CLUSTER, value: "{{ cluster.name }}" }]
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: web-config }
        data: { cluster: "{{ cluster.name }}", region: "{{ cluster.labels.region }}" }
`;

const ROWS_PER_INSERT = 1000;

export const S1: Scenario = {
  id: 'S1',
  title: 'expand one AppSet (clusters generator) over N clusters and persist the Apps',
  notes: [
    'project: AppSetsService.apply of the built hub on real PostgreSQL 15 (no Nest app; same services, DataSource options and migrations); compute = AppSetExpander.expand (pure expandAppSet in a render worker thread, with the hop there and back), persist = apply − compute',
    'baseline: JSON.stringify + sha256 of the N final objects; raw pg multi-row INSERT (1000 rows/statement, one transaction) of the same rows',
    'figures in ms except "peak RSS growth" (MiB, VmHWM reset per run) and rows/s',
  ],
  groups: (profile: Profile) => (profile === 'full' ? ['10000', '100000'] : ['1000', '10000']),
  groupTimeoutMs: (profile: Profile) => (profile === 'full' ? 60 * 60_000 : 4 * 60_000),
  runGroup: async (group, profile) => [await runCase(Number(group), profile)],
};

async function runCase(n: number, profile: Profile): Promise<CaseResult> {
  const db = await createTestDatabase();
  onCleanup(() => db.drop());
  const dataSource = new hubTypeorm.DataSource(dataSourceOptions(db.url));
  await dataSource.initialize();
  onCleanup(() => dataSource.destroy());
  await migrate(dataSource);
  await dataSource.query(
    `INSERT INTO clusters (name, labels) SELECT 'c-' || lpad(i::text, 6, '0'), jsonb_build_object('fleet', 'bench', 'region', 'region-' || (i % 8)) FROM generate_series(0, $1 - 1) AS i`,
    [n],
  );
  const raw = new pg.Client({ connectionString: db.url });
  await raw.connect();
  onCleanup(() => raw.end());

  let expandMs = 0;
  // The hub's expander, timed: the only override, and it delegates.
  class TimedExpander extends AppSetExpander {
    override async expand(...args: Parameters<InstanceType<typeof AppSetExpander>['expand']>): Promise<Awaited<ReturnType<InstanceType<typeof AppSetExpander>['expand']>>> {
      const started = performance.now();
      const result = await super.expand(...args);
      expandMs = performance.now() - started;
      return result;
    }
  }
  // No Git is read by this AppSet: the expander's Git reader, kustomize and helm renderers and the cluster service's config stay unused.
  const clusters = new ClustersService(dataSource, {} as ConstructorParameters<typeof ClustersService>[1], {} as ConstructorParameters<typeof ClustersService>[2]);
  const projects = new ProjectsService(dataSource);
  await projects.ensureDefault();
  const renders = new RenderPool(loadRenderConfig({}, []));
  onCleanup(() => renders.destroy());
  // No rollout starts here: the auto trigger's hook passes every apply through untouched.
  const noAutoTrigger = { applied: async <T>(result: T) => result } as unknown as ConstructorParameters<typeof AppSetsService>[3];
  const service = new AppSetsService(dataSource, clusters, new TimedExpander(undefined as never, projects, renders, undefined as never, undefined as never, dataSource), noAutoTrigger);

  const parsed = parseAppSet(APP_SET);
  if (!parsed.ok) throw new Error(`bench AppSet invalid: ${JSON.stringify(parsed.issues)}`);
  const snapshot = (await dataSource.query(`SELECT name, labels, values FROM clusters ORDER BY name`)) as { name: string; labels: Record<string, string>; values: Record<string, string> }[];
  const reference = expandAppSet(parsed.value as Document, snapshot);
  if (reference.issues.length > 0 || reference.apps.length !== n) throw new Error(`reference expansion: ${reference.apps.length} Apps, issues ${JSON.stringify(reference.issues.slice(0, 3))}`);
  const baselineInput = await precomputeRows(dataSource, reference.apps);

  const reset = async () => {
    await dataSource.query('TRUNCATE apps, manifest_bundles, app_set_revisions, app_sets CASCADE');
    global.gc?.();
    writeFileSync('/proc/self/clear_refs', '5');
    return rssMiB().rss;
  };

  const project = async (): Promise<Figures> => {
    const rssAtStart = await reset();
    const started = performance.now();
    const outcome = await service.apply(APP_SET, hubPrincipal('bench'));
    const totalMs = performance.now() - started;
    if (outcome.issues.length > 0 || !outcome.changed) throw new Error(`apply refused: ${JSON.stringify(outcome.issues.slice(0, 3))}`);
    await expectRows(dataSource, n);
    return { compute: expandMs, persist: totalMs - expandMs, total: totalMs, 'peak RSS growth': rssMiB().peak - rssAtStart, 'rows/s': n / (totalMs / 1000) };
  };

  const baseline = async (): Promise<Figures> => {
    const rssAtStart = await reset();
    const started = performance.now();
    let digest = 0;
    for (const app of baselineInput.objects) digest ^= createHash('sha256').update(JSON.stringify(app)).digest()[0]!;
    const computed = performance.now();
    await insertRaw(raw, baselineInput);
    const totalMs = performance.now() - started;
    await expectRows(dataSource, n);
    return { compute: computed - started, persist: totalMs - (computed - started), total: totalMs, 'peak RSS growth': rssMiB().peak - rssAtStart, 'rows/s': n / (totalMs / 1000), digest };
  };

  const pairs = 5;
  const run = await alternate({ warmup: 1, pairs, budgetMs: profile === 'full' ? 40 * 60_000 : 150_000 }, project, baseline);
  const mean = (key: string, side: Figures[]) => side.reduce((s, f) => s + f[key]!, 0) / side.length;
  return {
    label: `N=${n}`,
    n,
    pairs: run.project.length,
    cut: run.cut,
    rows: summarise(run, ['compute', 'persist', 'total'], ['peak RSS growth', 'rows/s']),
    facts: {
      'project rows/s (mean)': mean('rows/s', run.project),
      'baseline rows/s (mean)': mean('rows/s', run.baseline),
      'baseline peak RSS growth MiB (mean)': mean('peak RSS growth', run.baseline),
      'process peak RSS MiB': rssMiB().peak,
      'manifest bytes per App': reference.apps[0]!.manifestBytes,
    },
    raw: run,
  };
}

interface BaselineInput {
  /** The final objects (what the hub stores per App), for the compute floor. */
  readonly objects: unknown[];
  readonly clusterIds: Map<string, string>;
  readonly apps: readonly RenderedApp[];
  readonly bundles: readonly (readonly [string, string, number])[];
}

async function precomputeRows(dataSource: InstanceType<typeof hubTypeorm.DataSource>, apps: readonly RenderedApp[]): Promise<BaselineInput> {
  const ids = (await dataSource.query('SELECT id, name FROM clusters')) as { id: string; name: string }[];
  const objects = apps.map((a) => ({ clusterName: a.clusterName, appName: a.appName, namespace: a.namespace, manifests: a.manifests, syncPolicy: a.syncPolicy, explain: a.explain }));
  const bundles = new Map<string, readonly [string, string, number]>();
  for (const a of apps) bundles.set(a.revision, [a.revision, canonicalJson(a.manifests), a.manifestBytes]);
  return { objects, clusterIds: new Map(ids.map((r) => [r.name, r.id])), apps, bundles: [...bundles.values()] };
}

/** The floor of persisting: the same rows, multi-row INSERTs, one transaction, no ORM. */
async function insertRaw(client: pg.Client, input: BaselineInput): Promise<void> {
  await client.query('BEGIN');
  const [{ id: appSetId }] = (await client.query(`INSERT INTO app_sets (name, current_revision, condition) VALUES ('bench', 1, '') RETURNING id`)).rows as { id: string }[];
  await client.query(`INSERT INTO app_set_revisions (app_set_id, number, document, content_hash, author, message) VALUES ($1, 1, '{}', $2, 'bench', '')`, [appSetId, 'x'.repeat(64)]);
  await insertChunks(client, 'manifest_bundles (revision, manifests_json, size_bytes)', input.bundles.map((b) => [...b]));
  const rows = input.apps.map((a) => [appSetId, input.clusterIds.get(a.clusterName)!, a.appName, a.revision, a.namespace, JSON.stringify(a.syncPolicy), 1, JSON.stringify(a.explain)]);
  await insertChunks(client, 'apps (app_set_id, cluster_id, name, staged_revision, staged_namespace, staged_sync_policy, staged_from_revision, staged_explain)', rows);
  await client.query('COMMIT');
}

async function insertChunks(client: pg.Client, target: string, rows: unknown[][]): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const chunk = rows.slice(i, i + ROWS_PER_INSERT);
    const width = chunk[0]!.length;
    const values = chunk.map((_, r) => `(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(', ')})`).join(', ');
    await client.query(`INSERT INTO ${target} VALUES ${values}`, chunk.flat());
  }
}

async function expectRows(dataSource: InstanceType<typeof hubTypeorm.DataSource>, n: number): Promise<void> {
  const [{ count }] = (await dataSource.query('SELECT count(*)::int AS count FROM apps')) as { count: number }[];
  if (count !== n) throw new Error(`expected ${n} App rows, found ${count}`);
}

function rssMiB(): { rss: number; peak: number } {
  return { rss: process.memoryUsage().rss / 2 ** 20, peak: processPeakRssMiB(process.pid) };
}
