import type { LabelSelector } from '../core/app-set/app-set-spec';

/**
 * The clusters query of the fleet, as SQL over `clusters c`: one WHERE built once and shared by the
 * count, the group counts and the page, so the three always agree. Label selectors are translated with
 * the semantics of core/generators/label-selector.ts (matchesSelector): clauses ANDed, `NotIn` and
 * `DoesNotExist` match a missing label, an empty selector matches everything. Values only ever travel
 * as parameters.
 */

/** Which Apps make a cluster match the `apps` filter. */
export type AppsCondition = 'NOT_HEALTHY' | 'DRIFTED';

/** A checked filter, with the selectors already resolved (visibility, project). */
export interface ClusterQuery {
  /** The clusters the caller may see: any of these selectors matches; 'all' for an admin. */
  readonly visibleBy: 'all' | readonly LabelSelector[];
  /** The selector of the project filtered on. */
  readonly project?: LabelSelector;
  readonly labels?: LabelSelector;
  /** Lower-case words; each must be part of the name or of one `key=value` label. */
  readonly words?: readonly string[];
  readonly connected?: boolean;
  /** Clusters with at least one such App among those of `appProjects`. */
  readonly apps?: AppsCondition;
  /** Whose Apps count for `apps`: the caller's projects ('all' for an admin). */
  readonly appProjects: 'all' | readonly string[];
  /** A cluster heard from at or after this instant, with a stream, is connected. */
  readonly connectedAfter: Date;
  /** Sort by this label's value first (clusters without it last), then by name. */
  readonly groupBy?: string;
}

/** SQL text with its positional parameters. */
export interface Sql {
  readonly text: string;
  readonly params: unknown[];
}

/** Collects positional parameters ($1, $2...). */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The WHERE condition (never empty) of a query, and the `connected` expression, over `clusters c`. */
function where(query: ClusterQuery, params: Params): { condition: string; connected: () => string } {
  // Added only when used: PostgreSQL refuses a parameter that no expression types.
  let cutoff: string | undefined;
  const connected = () => `(c.connected_replica IS NOT NULL AND c.last_seen_at >= ${(cutoff ??= params.add(query.connectedAfter))}::timestamptz)`;
  const clauses: string[] = [];
  if (query.visibleBy !== 'all') {
    clauses.push(query.visibleBy.length === 0 ? 'false' : `(${query.visibleBy.map((s) => selectorSql(s, params)).join(' OR ')})`);
  }
  if (query.project) clauses.push(selectorSql(query.project, params));
  if (query.labels) clauses.push(selectorSql(query.labels, params));
  for (const word of query.words ?? []) {
    const pattern = params.add(`%${escapeLike(word)}%`);
    clauses.push(`(lower(c.name) LIKE ${pattern}::text OR EXISTS (SELECT 1 FROM jsonb_each_text(c.labels) l WHERE lower(l.key || '=' || l.value) LIKE ${pattern}::text))`);
  }
  if (query.connected !== undefined) clauses.push(query.connected ? connected() : `NOT ${connected()}`);
  if (query.apps) clauses.push(appsSql(query.apps, query.appProjects, params));
  return { condition: clauses.length === 0 ? 'true' : clauses.join(' AND '), connected };
}

/** A label selector as a condition on `c.labels` (matchesSelector's semantics). */
function selectorSql(selector: LabelSelector, params: Params): string {
  const clauses: string[] = [];
  const matchLabels = selector.matchLabels ?? {};
  if (Object.keys(matchLabels).length > 0) clauses.push(`c.labels @> ${params.add(JSON.stringify(matchLabels))}::jsonb`);
  for (const requirement of selector.matchExpressions ?? []) {
    const value = `(c.labels ->> ${params.add(requirement.key)}::text)`;
    switch (requirement.operator) {
      case 'In':
        clauses.push(`COALESCE(${value} = ANY(${params.add([...(requirement.values ?? [])])}::text[]), false)`);
        break;
      case 'NotIn':
        clauses.push(`NOT COALESCE(${value} = ANY(${params.add([...(requirement.values ?? [])])}::text[]), false)`);
        break;
      case 'Exists':
        clauses.push(`${value} IS NOT NULL`);
        break;
      case 'DoesNotExist':
        clauses.push(`${value} IS NULL`);
        break;
    }
  }
  return clauses.length === 0 ? 'true' : `(${clauses.join(' AND ')})`;
}

function appsSql(condition: AppsCondition, projects: 'all' | readonly string[], params: Params): string {
  const scope = projects === 'all' ? '' : ` AND s.project = ANY(${params.add([...projects])}::text[])`;
  // A missing status row is an App never reported: not healthy (the API shows it as UNKNOWN).
  const test = condition === 'NOT_HEALTHY' ? `st.health IS DISTINCT FROM 'HEALTHY'` : `COALESCE(st.resources @> '[{"drifted": true}]'::jsonb, false)`;
  return `EXISTS (SELECT 1 FROM apps a JOIN app_sets s ON s.id = a.app_set_id
    LEFT JOIN app_statuses st ON st.cluster_id = a.cluster_id AND st.app_name = a.name
    WHERE a.cluster_id = c.id${scope} AND ${test})`;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

/** How many clusters match, and how many of them are connected: columns `total`, `connected`. */
export function countSql(query: ClusterQuery): Sql {
  const params = new Params();
  const { condition, connected } = where(query, params);
  return { text: `SELECT count(*)::int AS total, (count(*) FILTER (WHERE ${connected()}))::int AS connected FROM clusters c WHERE ${condition}`, params: params.values };
}

/** Matching clusters per value of the `groupBy` label (columns `value`, null for none; `count`), in page order. */
export function groupsSql(query: ClusterQuery & { readonly groupBy: string }): Sql {
  const params = new Params();
  const { condition } = where(query, params);
  const key = `${params.add(query.groupBy)}::text`;
  return {
    text: `SELECT g.value, count(*)::int AS count FROM (SELECT c.labels ->> ${key} AS value FROM clusters c WHERE ${condition}) g
      GROUP BY g.value ORDER BY g.value IS NULL, g.value COLLATE "C"`,
    params: params.values,
  };
}

/** The ids of one page of matching clusters (column `id`), by group value (none last) then name. */
export function pageSql(query: ClusterQuery, first: number, offset: number): Sql {
  const params = new Params();
  const { condition } = where(query, params);
  const order = query.groupBy === undefined ? '' : (() => {
    const key = `${params.add(query.groupBy)}::text`;
    return `(c.labels ->> ${key}) IS NULL, (c.labels ->> ${key}) COLLATE "C", `;
  })();
  return {
    text: `SELECT c.id FROM clusters c WHERE ${condition} ORDER BY ${order}c.name COLLATE "C" LIMIT ${params.add(first)}::int OFFSET ${params.add(offset)}::int`,
    params: params.values,
  };
}
