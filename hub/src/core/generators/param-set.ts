import type { GeneratorTemplateSpec } from '../app-set/app-set-spec';
import type { Issue } from '../issues';
import { normalizeName } from '../render/filters';

/** A registered cluster as generators see it: resolved by a service, passed in as plain data. */
export interface ClusterSnapshot {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Free-form values attached to the cluster by operators. */
  readonly values: Readonly<Record<string, string>>;
}

/**
 * One set of parameters, normally for one target cluster. When `clusterName` is set, `params.cluster`
 * is that cluster as an object `{ name, labels, values }`, whichever generator produced the set. A set
 * without a target (a list element without `cluster`) only makes sense inside `matrix` or `merge`; at
 * the top level it is the issue `NO_TARGET_CLUSTER`.
 */
export interface ParamSet {
  readonly clusterName?: string;
  readonly params: Readonly<Record<string, unknown>>;
  /**
   * Where the set came from, as a path into the AppSet (`spec.generators[1].list.elements[0]`); a
   * matrix combination joins its parts' sources with ` × ` (see `sourcePath`).
   */
  readonly source: string;
  /**
   * Every generator element that contributed parameters, in order: one for a plain generator, one per
   * child for a matrix combination, the base and each merged-in set for `merge`. What `explain` shows.
   */
  readonly origins: readonly ParamOrigin[];
  /**
   * The `template` of the top-level generator that produced the set (Argo CD's generator template),
   * with its path in the document: it overrides fields of `spec.template` for this set's App.
   */
  readonly template?: { readonly spec: GeneratorTemplateSpec; readonly path: string };
}

/** One generator element behind a ParamSet. */
export interface ParamOrigin {
  /** The generator's path in the document, e.g. `spec.generators[0].matrix.generators[1].git`. */
  readonly generator: string;
  /** What it produced the set from: `elements[2]` (list), the cluster name (clusters), a file or directory path (git). */
  readonly element: string;
  /** For a git generator: the repository, the revision asked for and the commit it resolved to. */
  readonly git?: GitRef;
}

/** A revision of a Git repository as resolved for one expansion. */
export interface GitRef {
  readonly repoURL: string;
  readonly revision: string;
  /** Full commit SHA. */
  readonly commit: string;
}

/** The `cluster` parameter object of a ParamSet: `name`, `nameNormalized` (Argo CD's), `labels`, `values`. */
export function clusterParam(cluster: ClusterSnapshot): Record<string, unknown> {
  return { name: cluster.name, nameNormalized: normalizeName(cluster.name), labels: { ...cluster.labels }, values: { ...cluster.values } };
}

/** The outcome of evaluating one generator. */
export interface Evaluated {
  readonly sets: ParamSet[];
  readonly issues: Issue[];
}

/** Separator between the parts of a matrix combination's `source`. */
export const SOURCE_SEPARATOR = ' × ';

/** The first document path of a ParamSet's `source` (for issue paths). */
export function sourcePath(source: string): string {
  return source.split(SOURCE_SEPARATOR)[0] ?? source;
}
