/**
 * A large fleet of registered clusters, seeded fast: a few clusters registered through the hub's own
 * `registerCluster` (the shape reference), the rest inserted with raw `pg` multi-row INSERTs writing the
 * columns registration writes (name, labels, values; id and created_at by their column defaults), then
 * checked against the reference row column by column. Registration's bootstrap token row is not
 * written for the inserted clusters: listing never reads it.
 */
import pg from 'pg';
import type { Api } from './hub-fleet.js';

export const REGIONS = ['ap-south', 'eu-north', 'eu-west', 'us-east', 'us-west'] as const;
export const ENVS = ['dev', 'prod', 'staging'] as const;
export const TEAM_COUNT = 20;

/** Clusters registered through GraphQL before the raw inserts (their rows are the shape reference). */
export const REGISTERED_THROUGH_API = 5;
const ROWS_PER_INSERT = 1000;

export const fleetClusterName = (i: number): string => `fleet-${String(i).padStart(6, '0')}`;

/** region (5 values), env (3) and team (20), spread so that every combination occurs. */
export function fleetLabels(i: number): Record<string, string> {
  return {
    region: REGIONS[i % REGIONS.length]!,
    env: ENVS[Math.floor(i / REGIONS.length) % ENVS.length]!,
    team: `team-${String(Math.floor(i / (REGIONS.length * ENVS.length)) % TEAM_COUNT).padStart(2, '0')}`,
  };
}

/** Columns whose values differ per cluster by nature (the rest must equal the registered row's). */
const PER_CLUSTER_COLUMNS = new Set(['id', 'name', 'labels', 'created_at']);

/**
 * Grows the fleet of `db` to `n` clusters (from `have`): the first {@link REGISTERED_THROUGH_API}
 * through the hub's API, the rest with raw INSERTs. Returns the new count.
 */
export async function growFleet(api: Api, db: pg.Client, have: number, n: number): Promise<number> {
  let next = have;
  for (; next < Math.min(n, REGISTERED_THROUGH_API); next++) {
    const labels = Object.entries(fleetLabels(next))
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
      .join(', ');
    await api.must(`mutation { registerCluster(input: { name: "${fleetClusterName(next)}", labels: { ${labels} } }) { bootstrapToken } }`);
  }
  await db.query('BEGIN');
  for (; next < n; next += ROWS_PER_INSERT) {
    const count = Math.min(ROWS_PER_INSERT, n - next);
    const rows = Array.from({ length: count }, (_, k) => [fleetClusterName(next + k), JSON.stringify(fleetLabels(next + k)), '{}']);
    const values = rows.map((_, r) => `($${3 * r + 1}, $${3 * r + 2}::jsonb, $${3 * r + 3}::jsonb)`).join(', ');
    await db.query(`INSERT INTO clusters (name, labels, values) VALUES ${values}`, rows.flat());
  }
  await db.query('COMMIT');
  await db.query('ANALYZE clusters');
  await checkShape(db, n);
  return n;
}

/**
 * Throws unless the last inserted row has the registered reference row's shape: the same columns,
 * the same value in every column but id, name, labels and created_at, which must be set; its labels
 * those of its index. And the table holds exactly `n` rows.
 */
async function checkShape(db: pg.Client, n: number): Promise<void> {
  const reference = fleetClusterName(0);
  const inserted = fleetClusterName(n - 1);
  const { rows } = await db.query<Record<string, unknown>>('SELECT * FROM clusters WHERE name = ANY($1::text[])', [[reference, inserted]]);
  const byName = new Map(rows.map((r) => [r['name'], r]));
  const ref = byName.get(reference);
  const row = byName.get(inserted);
  if (!ref || !row) throw new Error(`seeded fleet: rows ${reference} and ${inserted} expected`);
  const columns = Object.keys(ref).sort();
  if (JSON.stringify(Object.keys(row).sort()) !== JSON.stringify(columns)) throw new Error('seeded fleet: column sets differ');
  for (const column of columns) {
    if (PER_CLUSTER_COLUMNS.has(column)) {
      if (row[column] === null || row[column] === undefined) throw new Error(`seeded fleet: ${inserted}.${column} is not set`);
    } else if (JSON.stringify(row[column]) !== JSON.stringify(ref[column])) {
      throw new Error(`seeded fleet: ${inserted}.${column} = ${JSON.stringify(row[column])}, registration wrote ${JSON.stringify(ref[column])}`);
    }
  }
  if (sortedJson(row['labels']) !== sortedJson(fleetLabels(n - 1))) throw new Error(`seeded fleet: ${inserted} has labels ${JSON.stringify(row['labels'])}`);
  const [{ count }] = (await db.query<{ count: number }>('SELECT count(*)::int AS count FROM clusters')).rows as [{ count: number }];
  if (count !== n) throw new Error(`seeded fleet: ${count} clusters, expected ${n}`);
}

/** JSON of an object with its keys sorted (jsonb keeps its own key order). */
function sortedJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  return JSON.stringify(Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}
