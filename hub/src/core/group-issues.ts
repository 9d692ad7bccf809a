import type { Issue } from './issues';

/** How many paths and clusters a grouped issue names. */
export const GROUPED_EXAMPLES = 5;

/**
 * The note that expansion appends to an issue found while rendering one cluster's App or generator
 * values: ` (cluster <name>)` or ` (cluster <name>, from <source>)`. Cluster names are DNS labels.
 */
const CLUSTER_NOTE = / \(cluster ([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)(?:, from [^()]*)?\)/;
/** Where in one template string LiquidJS found the problem (`, line:1, col:12`): differs per field. */
const TEMPLATE_POSITION = /, line:\d+, col:\d+/;

interface Group {
  readonly first: Issue;
  readonly base: string;
  readonly seen: Set<string>;
  readonly paths: string[];
  readonly clusters: string[];
}

/**
 * Folds issues that say the same thing into one: same `code`, and the same message once the cluster
 * note (`(cluster edge-1, from edge-1)`) and the position inside one template string (`, line:1,
 * col:12`) are taken out, differing only in cluster and path. A template
 * typo in two fields over ten clusters is then one issue with `count: 20`, the first few distinct
 * `paths` and `clusters`, and a message that says how often and where; `path`, `line` and `column` are
 * those of the first occurrence. An issue found once is returned unchanged; exact duplicates (same
 * code, path and message) count once. Output keeps the order of first occurrences. Pure.
 */
export function groupIssues(issues: readonly Issue[], examples: number = GROUPED_EXAMPLES): Issue[] {
  const groups = new Map<string, Group>();
  for (const one of issues) {
    const note = CLUSTER_NOTE.exec(one.message);
    const base = (note ? one.message.replace(note[0], '') : one.message).replace(TEMPLATE_POSITION, '');
    const key = `${one.code}\u0000${base}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { first: one, base, seen: new Set(), paths: [], clusters: [] };
      groups.set(key, group);
    }
    const occurrence = `${one.path}\u0000${one.message}`;
    if (group.seen.has(occurrence)) continue;
    group.seen.add(occurrence);
    if (!group.paths.includes(one.path)) group.paths.push(one.path);
    const cluster = note?.[1];
    if (cluster !== undefined && !group.clusters.includes(cluster)) group.clusters.push(cluster);
  }
  return [...groups.values()].map((group) => (group.seen.size === 1 ? group.first : grouped(group, examples)));
}

function grouped(group: Group, examples: number): Issue {
  const { first, base, paths, clusters } = group;
  const count = group.seen.size;
  const where = [
    clusters.length > 0 ? `on ${plural(clusters.length, 'cluster')} (${sample(clusters, examples)})` : '',
    `at ${plural(paths.length, 'path')} (${sample(paths, examples)})`,
  ].filter((part) => part !== '');
  return {
    code: first.code,
    path: first.path,
    message: `${base} (${count} times: ${where.join(' ')})`,
    ...(first.line !== undefined ? { line: first.line } : {}),
    ...(first.column !== undefined ? { column: first.column } : {}),
    count,
    paths: paths.slice(0, examples),
    clusters: clusters.slice(0, examples),
  };
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function sample(values: readonly string[], examples: number): string {
  const shown = values.slice(0, examples).join(', ');
  return values.length > examples ? `${shown} and ${values.length - examples} more` : shown;
}
