import type { RolloutStrategy } from '../rollout/strategy';

/**
 * The AppSet document (`apiVersion: flotilla.dev/v1alpha1`, `kind: AppSet`) once parsed and checked
 * against its JSON Schema. Plain data: no methods, safe to store as JSON.
 */
export interface AppSetDocument {
  readonly apiVersion: 'flotilla.dev/v1alpha1';
  readonly kind: 'AppSet';
  readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>> };
  readonly spec: AppSetSpec;
}

export interface AppSetSpec {
  readonly generators: readonly GeneratorSpec[];
  readonly template: TemplateSpec;
  readonly syncPolicy?: SyncPolicySpec;
  /** How rollouts of this AppSet move across the fleet (see core/rollout). */
  readonly strategy?: RolloutStrategy;
}

/**
 * A generator as written by the user: exactly one key names its kind, plus an optional post-filter
 * `selector` evaluated against each ParamSet's flattened parameters (`cluster.labels.region`, `env`).
 */
export type GeneratorSpec = GeneratorKindSpec & { readonly selector?: LabelSelector };

/** The kind part of a generator. */
export type GeneratorKindSpec =
  | { readonly list: ListGeneratorSpec }
  | { readonly clusters: ClustersGeneratorSpec }
  | { readonly matrix: MatrixGeneratorSpec }
  | { readonly merge: MergeGeneratorSpec };

export interface ListGeneratorSpec {
  /**
   * Each element is one ParamSet. `cluster: <registered name>` names its target; an element without
   * `cluster` has no target and is only useful inside `matrix` or `merge`.
   */
  readonly elements: readonly Readonly<Record<string, unknown>>[];
}

/** Cartesian product of two or more child generators; later children may use earlier parameters. */
export interface MatrixGeneratorSpec {
  readonly generators: readonly GeneratorSpec[];
}

/** The first generator is the base; later generators override base sets with equal merge-key values. */
export interface MergeGeneratorSpec {
  /** Parameter paths (dotted, like `cluster.name`) whose values must all be equal to merge two sets. */
  readonly mergeKeys: readonly string[];
  readonly generators: readonly GeneratorSpec[];
}

export interface ClustersGeneratorSpec {
  readonly selector?: LabelSelector;
  /** Extra parameters added to every ParamSet (may use `{{ }}` over the cluster's parameters). */
  readonly values?: Readonly<Record<string, string>>;
}

/** A Kubernetes-style label selector. An empty selector matches everything. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

export interface TemplateSpec {
  /** The App name on each cluster; defaults to the AppSet name. May use parameters. */
  readonly name?: string;
  /** Namespace for namespaced objects that name none. May use parameters. */
  readonly namespace?: string;
  /** Kubernetes objects; every string leaf may use `{{ }}` parameters. */
  readonly manifests: readonly Readonly<Record<string, unknown>>[];
  /** Per-cluster patches applied in order after rendering (see core/overrides). */
  readonly overrides?: readonly OverrideSpec[];
}

/** A structured merge patch for the Apps of clusters whose labels match `selector`. */
export interface OverrideSpec {
  /** Cluster label selector; absent or empty matches every cluster. */
  readonly selector?: LabelSelector;
  /**
   * Merged into each manifest (or, when it names `kind` and `metadata.name`, into that manifest only):
   * objects merge recursively, arrays replace, `null` deletes. String leaves may use parameters.
   */
  readonly patch: Readonly<Record<string, unknown>>;
}

export type SyncMode = 'create-only' | 'create-update' | 'sync';
export type DriftPolicy = 'report' | 'heal';

export interface SyncPolicySpec {
  readonly mode?: SyncMode;
  readonly drift?: DriftPolicy;
  readonly preserveResourcesOnDeletion?: boolean;
  /** Server-side apply with `force`: take fields owned by another manager instead of reporting the conflict. */
  readonly forceConflicts?: boolean;
  /** What the App's objects may be; the agent refuses an App with any object outside it. */
  readonly scope?: ScopeSpec;
}

/**
 * The objects an App may contain. `namespaces` are patterns (`*` globs) for namespaced objects; empty or
 * absent means only the App's own namespace. `kinds` are `Kind` or `group/Kind` patterns; absent means
 * any kind. `clusterScoped` allows cluster-scoped objects such as Namespace and CustomResourceDefinition.
 */
export interface ScopeSpec {
  readonly namespaces?: readonly string[];
  readonly kinds?: readonly string[];
  readonly clusterScoped?: boolean;
}

/**
 * The sync policy with every default filled in. `forceConflicts` and `scope` appear only when the
 * AppSet sets them, so that AppSets that do not use them keep the policy they were released with.
 */
export interface SyncPolicy {
  readonly mode: SyncMode;
  readonly drift: DriftPolicy;
  readonly preserveResourcesOnDeletion: boolean;
  readonly forceConflicts?: true;
  readonly scope?: ScopeSpec;
}

/** Defaults: full sync with pruning, drift reported but not healed, objects deleted with their App. */
export function resolveSyncPolicy(spec: SyncPolicySpec | undefined): SyncPolicy {
  return {
    mode: spec?.mode ?? 'sync',
    drift: spec?.drift ?? 'report',
    preserveResourcesOnDeletion: spec?.preserveResourcesOnDeletion ?? false,
    ...(spec?.forceConflicts === true ? { forceConflicts: true as const } : {}),
    ...(spec?.scope ? { scope: spec.scope } : {}),
  };
}
