/**
 * S7: one page of the fleet list over N registered clusters, as the dashboard asks for it.
 *
 * Project: a real hub process (hub/dist, real PostgreSQL, product timings) over a throwaway database
 * holding N clusters labelled region (5 values), env (3) and team (20), seeded by lib/fleet-seed.ts
 * (a few registered through GraphQL, the rest raw INSERTs of the same row shape, checked). One request
 * = POST /graphql with the dashboard's own `FleetPage` operation (read from
 * web/src/operations/fleet.graphql: counts, groups, 100 nodes with their Apps), groupBy region, first
 * 100, with the admin token, one at a time. Cases: the first page, the page at offset N/2, the first
 * page of `env=prod` (a label selector), the first page of a search word.
 * Baseline: the same rows read over one plain `pg` client with the simplest equivalent SQL: count(*)
 * (with the connected count), the group counts, and `ORDER BY labels->>'region', name LIMIT 100
 * OFFSET k` with the same WHERE. Before measuring, each case checks that both sides return the same
 * total, groups and page.
 * Each side of a pair makes R requests in a row; its figures are their p50 and p99.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createTestDatabase } from '../../harness/database.js';
import { graphqlClient } from '../../harness/graphql.js';
import { startHub } from '../../harness/processes.js';
import { onCleanup } from '../lib/cleanup.js';
import { ENVS, TEAM_COUNT, growFleet } from '../lib/fleet-seed.js';
import { PRODUCT_TIMINGS, type Api } from '../lib/hub-fleet.js';
import { alternate, summarise, type CaseResult, type Figures } from '../lib/pairs.js';
import { spread } from '../lib/stats.js';
import type { Profile, Scenario } from './registry.js';

const SIZES: Record<Profile, number[]> = { quick: [1000, 10_000], full: [10_000, 100_000] };
/** Requests per side and pair (each side's p50/p99 are over these). */
const REQUESTS = 20;
const PAGE_SIZE = 100;
/** What the dashboard asks per cluster (web/src/fleet/use-fleet.ts). */
const APPS_PER_CLUSTER = 200;
const GROUP_BY = 'region';
/** The product's connected grace (clusters.service.ts): heartbeat × 3; no cluster here is connected anyway. */
const CONNECTED_GRACE_MS = 3 * Number(PRODUCT_TIMINGS.FLOTILLA_HEARTBEAT_SECONDS) * 1000;
const SEARCH_WORD = `team-${String(TEAM_COUNT - 13).padStart(2, '0')}`;

interface PageCase {
  readonly name: string;
  readonly filter: Record<string, unknown> | null;
  /** The same condition over `clusters` for the baseline ('' for none; $1 is `param`). */
  readonly where: string;
  readonly param?: string;
  offset(n: number): number;
}

const CASES: readonly PageCase[] = [
  { name: 'first page', filter: null, where: '', offset: () => 0 },
  { name: 'middle page', filter: null, where: '', offset: (n) => Math.floor(n / 2 / PAGE_SIZE) * PAGE_SIZE },
  { name: `env=${ENVS[1]}`, filter: { labels: { matchLabels: { env: ENVS[1] } } }, where: 'labels @> $1::jsonb', param: JSON.stringify({ env: ENVS[1] }), offset: () => 0 },
  {
    name: `search "${SEARCH_WORD}"`,
    filter: { search: SEARCH_WORD },
    where: `(lower(name) LIKE $1 OR EXISTS (SELECT 1 FROM jsonb_each_text(labels) l WHERE lower(l.key || '=' || l.value) LIKE $1))`,
    param: `%${SEARCH_WORD}%`,
    offset: () => 0,
  },
];

export const S7: Scenario = {
  id: 'S7',
  title: 'one page of the fleet list (clusterPage) over N clusters',
  notes: [
    `project: real hub process, POST /graphql with the dashboard's FleetPage operation (web/src/operations/fleet.graphql; groupBy ${GROUP_BY}, first ${PAGE_SIZE}, appsPerCluster ${APPS_PER_CLUSTER}), admin token, one request at a time; clusters hold no App (each node's apps field still runs its query)`,
    `baseline: one plain pg client, count(*) with the connected count, group counts, ORDER BY labels->>'${GROUP_BY}', name LIMIT ${PAGE_SIZE} OFFSET k, with the same WHERE; both sides checked to return the same total, groups and page`,
    'fleet: labels region (5 values), env (3), team (20); 5 clusters registered through GraphQL, the rest raw INSERTs of the same columns (checked against a registered row), ANALYZE after seeding; no cluster connected, no index on labels',
    `figures in ms: p50 and p99 of ${REQUESTS} requests per side and pair`,
  ],
  groups: () => ['fleet'],
  groupTimeoutMs: (profile) => (profile === 'full' ? 60 * 60_000 : 10 * 60_000),
  runGroup: (_group, profile) => runFleet(profile),
};

async function runFleet(profile: Profile): Promise<CaseResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-s7-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const db = await createTestDatabase();
  onCleanup(() => db.drop());
  const hub = await startHub({ databaseUrl: db.url, dataDir: join(dir, 'hub'), env: PRODUCT_TIMINGS });
  onCleanup(() => hub.stop());
  const api = graphqlClient(hub.graphqlUrl, hub.adminToken);
  const raw = new pg.Client({ connectionString: db.url });
  await raw.connect();
  onCleanup(() => raw.end());
  const document = fleetPageDocument();
  const results: CaseResult[] = [];
  let have = 0;
  for (const n of SIZES[profile]) {
    const seeding = performance.now();
    have = await growFleet(api, raw, have, n);
    const seedMs = performance.now() - seeding;
    for (const pageCase of CASES) results.push(await runCase(n, pageCase, profile, api, raw, document, seedMs));
  }
  return results;
}

interface PageAnswer {
  readonly total: number;
  readonly groups: readonly { value: string | null; count: number }[];
  readonly names: readonly string[];
}

async function runCase(n: number, pageCase: PageCase, profile: Profile, api: Api, raw: pg.Client, document: string, seedMs: number): Promise<CaseResult> {
  const offset = pageCase.offset(n);
  const variables = { filter: pageCase.filter, groupBy: GROUP_BY, first: PAGE_SIZE, offset, appsPerCluster: APPS_PER_CLUSTER };
  const hubPage = async (): Promise<PageAnswer> => {
    const data = await api.must<{ clusterPage: { totalCount: number; groups: { value: string | null; count: number }[]; nodes: { name: string }[] } }>(document, variables);
    return { total: data.clusterPage.totalCount, groups: data.clusterPage.groups, names: data.clusterPage.nodes.map((c) => c.name) };
  };
  const rawPage = async (): Promise<PageAnswer> => baselinePage(raw, pageCase, offset);

  const [a, b] = [await hubPage(), await rawPage()];
  if (JSON.stringify(a) !== JSON.stringify(b)) {
    throw new Error(`S7 ${pageCase.name} N=${n}: the hub and the baseline disagree: hub ${summary(a)}, baseline ${summary(b)}`);
  }
  if (a.names.length === 0) throw new Error(`S7 ${pageCase.name} N=${n}: an empty page measures nothing`);

  const timed = (read: () => Promise<PageAnswer>) => async (): Promise<Figures> => {
    const latencies: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const started = performance.now();
      await read();
      latencies.push(performance.now() - started);
    }
    const s = spread(latencies);
    return { 'latency p50': s.p50, 'latency p99': s.p99 };
  };
  const run = await alternate({ warmup: 1, pairs: 5, budgetMs: profile === 'full' ? 10 * 60_000 : 60_000 }, timed(hubPage), timed(rawPage));
  return {
    label: `N=${n} ${pageCase.name}`,
    n,
    pairs: run.project.length,
    cut: run.cut,
    rows: summarise(run, ['latency p50', 'latency p99']),
    facts: { matches: a.total, offset, 'page rows': a.names.length, 'requests per side and pair': REQUESTS, 'seed ms (this N)': seedMs },
    raw: run,
  };
}

/** The baseline: three plain statements over one client, with the case's WHERE. */
async function baselinePage(raw: pg.Client, pageCase: PageCase, offset: number): Promise<PageAnswer> {
  const where = pageCase.where ? `WHERE ${pageCase.where}` : '';
  const params = pageCase.param === undefined ? [] : [pageCase.param];
  const cutoff = new Date(Date.now() - CONNECTED_GRACE_MS);
  const next = `$${params.length + 1}`;
  const counts = await raw.query<{ total: number; connected: number }>(
    `SELECT count(*)::int AS total, (count(*) FILTER (WHERE connected_replica IS NOT NULL AND last_seen_at >= ${next}))::int AS connected FROM clusters ${where}`,
    [...params, cutoff],
  );
  const groups = await raw.query<{ value: string | null; count: number }>(`SELECT labels->>'${GROUP_BY}' AS value, count(*)::int AS count FROM clusters ${where} GROUP BY 1 ORDER BY 1`, params);
  const page = await raw.query<{ name: string }>(
    `SELECT name, labels, last_seen_at, connected_replica, kubernetes_version, agent_version FROM clusters ${where} ORDER BY labels->>'${GROUP_BY}', name LIMIT ${PAGE_SIZE} OFFSET ${next}`,
    [...params, offset],
  );
  return { total: counts.rows[0]!.total, groups: groups.rows.map(({ value, count }) => ({ value, count })), names: page.rows.map((r) => r.name) };
}

const summary = (p: PageAnswer) => `total ${p.total}, ${p.groups.length} groups, page ${p.names[0] ?? '-'}..${p.names[p.names.length - 1] ?? '-'} (${p.names.length})`;

/** The FleetPage operation of the dashboard with the fragments it uses, from its .graphql source. */
function fleetPageDocument(): string {
  const source = readFileSync(fileURLToPath(new URL('../../../web/src/operations/fleet.graphql', import.meta.url)), 'utf8');
  const definitions = source
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .split(/\n(?=(?:query|mutation|fragment)\s)/)
    .map((d) => d.trim())
    .filter(Boolean);
  const header = (d: string) => /^(query|mutation|fragment)\s+(\w+)/.exec(d)?.slice(1, 3) ?? [];
  const operation = definitions.find((d) => header(d)[0] === 'query' && header(d)[1] === 'FleetPage');
  if (!operation) throw new Error('web/src/operations/fleet.graphql has no FleetPage query');
  const used = [operation];
  for (let i = 0; i < used.length; i++) {
    for (const [, spreadName] of used[i]!.matchAll(/\.\.\.(\w+)/g)) {
      const fragment = definitions.find((d) => header(d)[0] === 'fragment' && header(d)[1] === spreadName);
      if (fragment && !used.includes(fragment)) used.push(fragment);
    }
  }
  return used.join('\n\n');
}
