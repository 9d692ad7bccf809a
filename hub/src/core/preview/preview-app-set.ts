import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import type { AppExplain, RenderedApp } from '../expand-app-set';
import { redactCounterparts, redactManifests, type Marker } from '../secrets/redaction';

/** An App as it is staged now, with its manifests. */
export interface StagedApp {
  readonly clusterName: string;
  readonly appName: string;
  readonly revision: string;
  readonly manifests: readonly unknown[];
}

export interface AppChange {
  readonly appName: string;
  readonly fromRevision: string | null;
  readonly toRevision: string | null;
  /** Unified diff of the manifests as YAML ('' for an unchanged App). */
  readonly diff: string;
  /** Where the new App's parameters come from (absent for a removal). */
  readonly explain?: AppExplain;
}

export interface ClusterPreview {
  readonly clusterName: string;
  readonly added: readonly AppChange[];
  readonly removed: readonly AppChange[];
  readonly changed: readonly AppChange[];
}

export interface AppSetPreview {
  readonly clusters: readonly ClusterPreview[];
  readonly totals: { readonly added: number; readonly removed: number; readonly changed: number; readonly unchanged: number };
}

/**
 * Compares what is staged now with a new expansion: per cluster, the Apps added, removed and changed,
 * each with a unified diff of the manifests as YAML. Clusters with no change are left out. Sorted by
 * cluster, then App.
 *
 * With `mark`, both sides are redacted before they are diffed (see core/secrets): Secret data and the
 * values of parameters marked secret show as their markers, so a changed secret is a changed line that
 * reveals nothing. The old values of secret parameters are not known: a staged leaf whose counterpart
 * in the new App holds a secret value is marked whole. Revisions stay the hashes of the real manifests.
 */
export function previewAppSet(staged: readonly StagedApp[], rendered: readonly RenderedApp[], mark?: Marker): AppSetPreview {
  const secrets = [...new Set(rendered.flatMap((r) => r.secretValues ?? []))];
  const shown = (manifests: readonly unknown[], counterpart: readonly unknown[] = []) =>
    mark ? redactManifests(redactCounterparts(manifests, counterpart, secrets, mark), secrets, mark) : manifests;
  const key = (cluster: string, app: string) => `${cluster}\u0000${app}`;
  const before = new Map(staged.map((s) => [key(s.clusterName, s.appName), s]));
  const after = new Map(rendered.map((r) => [key(r.clusterName, r.appName), r]));
  const byCluster = new Map<string, { added: AppChange[]; removed: AppChange[]; changed: AppChange[] }>();
  const bucket = (cluster: string) => {
    let entry = byCluster.get(cluster);
    if (!entry) byCluster.set(cluster, (entry = { added: [], removed: [], changed: [] }));
    return entry;
  };
  let unchanged = 0;
  for (const [k, next] of after) {
    const prev = before.get(k);
    if (!prev) bucket(next.clusterName).added.push({ ...change(next.appName, null, next.revision, [], shown(next.manifests)), explain: next.explain });
    else if (prev.revision !== next.revision) {
      bucket(next.clusterName).changed.push({ ...change(next.appName, prev.revision, next.revision, shown(prev.manifests, next.manifests), shown(next.manifests)), explain: next.explain });
    } else unchanged++;
  }
  for (const [k, prev] of before) {
    if (!after.has(k)) bucket(prev.clusterName).removed.push(change(prev.appName, prev.revision, null, shown(prev.manifests), []));
  }
  const byName = (a: AppChange, b: AppChange) => (a.appName < b.appName ? -1 : a.appName > b.appName ? 1 : 0);
  const clusters = [...byCluster.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([clusterName, c]) => ({ clusterName, added: c.added.sort(byName), removed: c.removed.sort(byName), changed: c.changed.sort(byName) }));
  const count = (pick: (c: ClusterPreview) => readonly AppChange[]) => clusters.reduce((n, c) => n + pick(c).length, 0);
  return { clusters, totals: { added: count((c) => c.added), removed: count((c) => c.removed), changed: count((c) => c.changed), unchanged } };
}

function change(appName: string, fromRevision: string | null, toRevision: string | null, from: readonly unknown[], to: readonly unknown[]): AppChange {
  const yaml = (docs: readonly unknown[]) => docs.map((d) => stringify(d, { sortMapEntries: true })).join('---\n');
  const diff = createTwoFilesPatch(`${appName}@${fromRevision?.slice(0, 12) ?? 'none'}`, `${appName}@${toRevision?.slice(0, 12) ?? 'none'}`, yaml(from), yaml(to), '', '', { context: 3 });
  return { appName, fromRevision, toRevision, diff };
}
