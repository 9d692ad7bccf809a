import { expect } from 'vitest';
import { AppSetExpander } from '../../src/app-sets/app-set-expander';
import { parseAppSet } from '../../src/core/app-set/parse-app-set';
import type { RunningHub } from '../../src/hub';
import type { Gql } from './test-hub';

/** An issue or warning of an AppSet, as GraphQL returns it. */
export interface IssueView {
  code: string;
  path: string;
  message: string;
}
/** One App's change in a preview. */
export interface ChangeView {
  app: string;
  diff: string;
}
/** What `previewAppSet` returns: totals are null when the AppSet was refused. */
export interface PreviewView {
  issues: IssueView[];
  totals: { added: number; changed: number; unchanged: number; removed: number } | null;
  clusters: { cluster: string; added: ChangeView[]; changed: ChangeView[] }[];
}
/** What `applyAppSet` and `refreshAppSet` return. */
export interface ApplyView {
  changed: boolean;
  issues: IssueView[];
  warnings: IssueView[];
}

/**
 * Registers each of `names` (with `labels` when given) through GraphQL, expecting no error; returns the
 * bootstrap tokens by cluster name.
 */
export async function registerClusters(gql: Gql, names: readonly string[], labels?: Record<string, string>): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (const name of names) {
    const res =
      labels === undefined
        ? await gql<{ registerCluster: { bootstrapToken: string } }>(`mutation($n: String!) { registerCluster(input: { name: $n }) { bootstrapToken } }`, { n: name })
        : await gql<{ registerCluster: { bootstrapToken: string } }>(`mutation($n: String!, $l: JSONObject) { registerCluster(input: { name: $n, labels: $l }) { bootstrapToken } }`, { n: name, l: labels });
    expect(res.errors).toBeUndefined();
    tokens.set(name, res.data!.registerCluster.bootstrapToken);
  }
  return tokens;
}

/**
 * Preview, apply and refresh of AppSets through GraphQL; each expects no GraphQL error and returns the
 * data. `gql` is read at each call, so that a test may make the client before its hub starts.
 */
export function appSetClient(gql: () => Gql) {
  const must = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const res = await gql()<T>(query, variables);
    expect(res.errors).toBeUndefined();
    return res.data!;
  };
  return {
    preview: async (yaml: string): Promise<PreviewView> =>
      (
        await must<{ previewAppSet: PreviewView }>(
          `query($y: String!) { previewAppSet(yaml: $y) { issues { code path message } totals { added changed unchanged removed } clusters { cluster added { app diff } changed { app diff } } } }`,
          { y: yaml },
        )
      ).previewAppSet,
    apply: async (yaml: string): Promise<ApplyView> =>
      (await must<{ applyAppSet: ApplyView }>(`mutation($y: String!) { applyAppSet(yaml: $y) { changed issues { code path message } warnings { code path message } } }`, { y: yaml })).applyAppSet,
    refresh: async (name: string): Promise<ApplyView> =>
      (await must<{ refreshAppSet: ApplyView }>(`mutation($n: String!) { refreshAppSet(name: $n) { changed issues { code path message } warnings { code path message } } }`, { n: name })).refreshAppSet,
    /** The Apps of AppSet `name` with their staged revision and Helm pin; `pinFields` selects the pin's fields. */
    helmApps: async <Pin>(name: string, pinFields: string) =>
      (
        await must<{ appSet: { apps: { cluster: string; stagedRevision: string | null; explain: { helm: Pin | null } | null }[] } }>(
          `query($n: String!) { appSet(name: $n) { apps { cluster stagedRevision explain { helm { ${pinFields} } } } } }`,
          { n: name },
        )
      ).appSet.apps,
  };
}

/**
 * What the hub renders for each of `clusters` (no labels, no values), as the expansion hands it to
 * staging, by cluster name; expects the AppSet to parse and expand without issues.
 */
export async function renderPerCluster<M>(hub: RunningHub, yaml: string, clusters: readonly string[]) {
  const parsed = parseAppSet(yaml);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const { expansion } = await hub.app.get(AppSetExpander, { strict: false }).expand(
    parsed.value,
    clusters.map((name) => ({ name, labels: {}, values: {} })),
  );
  expect(expansion.issues).toEqual([]);
  return new Map(expansion.apps.map((app) => [app.clusterName, { manifests: JSON.parse(app.manifestsJson) as M[], pin: app.explain.helm }]));
}
