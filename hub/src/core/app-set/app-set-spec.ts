import type { HelmSourceSpec } from '../helm/helm-source';
import type { RolloutStrategy } from '../rollout/strategy';

/**
 * The AppSet document (`apiVersion: flotilla.dev/v1alpha1`, `kind: AppSet`) once parsed and checked
 * against its JSON Schema. Plain data: no methods, safe to store as JSON.
 */
export interface AppSetDocument {
  readonly apiVersion: 'flotilla.dev/v1alpha1';
  readonly kind: 'AppSet';
  readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>>; readonly project?: string };
  readonly spec: AppSetSpec;
}

export interface AppSetSpec {
  readonly generators: readonly GeneratorSpec[];
  readonly template: TemplateSpec;
  /**
   * Argo CD's `templatePatch`: a template of a YAML mapping rendered per App (outputs are values, never
   * YAML text) and merged into the rendered template (see core/render/template-patch).
   */
  readonly templatePatch?: string;
  readonly syncPolicy?: SyncPolicySpec;
  /** How rollouts of this AppSet move across the fleet (see core/rollout). */
  readonly strategy?: RolloutStrategy;
  /** Which parameters are secret, and whether literal secret values may be stored (see core/secrets). */
  readonly secrets?: SecretsSpec;
}

/**
 * Secret handling of an AppSet. Secret values belong in the target cluster and reach Apps as secret
 * references (`((secret:<namespace>/<name>/<key>))`) that the agent resolves at apply time; the hub
 * stores and shows only the reference.
 */
export interface SecretsSpec {
  /** Parameter paths (dotted: `dbPassword`, `cluster.values.apiKey`) whose values are secret. */
  readonly parameters?: readonly string[];
  /**
   * Accept literal Secret `data`/`stringData` and literal values of secret parameters: they are then
   * stored in the hub's database (and redacted wherever the hub shows them). Default false: refused.
   */
  readonly allowInline?: boolean;
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
  | { readonly merge: MergeGeneratorSpec }
  | { readonly git: GitGeneratorSpec };

export interface ListGeneratorSpec {
  /**
   * Each element is one ParamSet. `cluster: <registered name>` names its target; an element without
   * `cluster` has no target and is only useful inside `matrix` or `merge`.
   */
  readonly elements: readonly Readonly<Record<string, unknown>>[];
  /** More elements as a YAML/JSON list of objects, appended; inside a matrix rendered over the earlier parameters first. */
  readonly elementsYaml?: string;
  readonly template?: GeneratorTemplateSpec;
}

/** Cartesian product of two or more child generators; later children may use earlier parameters. */
export interface MatrixGeneratorSpec {
  readonly generators: readonly GeneratorSpec[];
  readonly template?: GeneratorTemplateSpec;
}

/** The first generator is the base; later generators override base sets with equal merge-key values. */
export interface MergeGeneratorSpec {
  /** Parameter paths (dotted, like `cluster.name`) whose values must all be equal to merge two sets. */
  readonly mergeKeys: readonly string[];
  readonly generators: readonly GeneratorSpec[];
  readonly template?: GeneratorTemplateSpec;
}

/**
 * Parameter sets from a Git repository at a branch, tag or commit: one per JSON/YAML object in the
 * files matched by `files` globs, or one per directory matched by `directories` globs (exactly one of
 * the two). Entries with `exclude: true` remove what they match, whatever the order.
 */
export interface GitGeneratorSpec {
  /** `https://`, `http://`, `ssh://`, `git://`, `file://` URL, scp-like `user@host:path`, or an absolute local path. */
  readonly repoURL: string;
  /** Branch, tag or commit SHA; default `HEAD` (the remote's default branch). */
  readonly revision?: string;
  readonly files?: readonly GitPathSpec[];
  readonly directories?: readonly GitPathSpec[];
  /** Puts the path parameters under `<prefix>.path` instead of `path` (two git generators in one matrix). */
  readonly pathParamPrefix?: string;
  /** Extra parameters under `values`, rendered over each set's parameters. */
  readonly values?: Readonly<Record<string, string>>;
  /**
   * How globs match: `standard` (default; `*` stays within one segment, `**` crosses segments) or
   * `legacy`, Argo CD's default (files: git pathspec, `*` crosses `/`; directories: Go `path.Match`).
   */
  readonly globbing?: 'standard' | 'legacy';
  readonly template?: GeneratorTemplateSpec;
}

/** A glob over paths relative to the repository root (picomatch: `*` stays in one segment, `**` crosses). */
export interface GitPathSpec {
  readonly path: string;
  readonly exclude?: boolean;
}

export interface ClustersGeneratorSpec {
  readonly selector?: LabelSelector;
  /** Extra parameters added to every ParamSet (may use `{{ }}` over the cluster's parameters). */
  readonly values?: Readonly<Record<string, string>>;
  readonly template?: GeneratorTemplateSpec;
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
  /** Kubernetes objects; every string leaf may use `{{ }}` parameters. Exactly one of `manifests` and `source`. */
  readonly manifests?: readonly Readonly<Record<string, unknown>>[];
  /** Manifests read from a Git repository instead; rendered with parameters only when `source.templated`. */
  readonly source?: ManifestSourceSpec;
  /** A Kustomize directory in Git, rendered on the hub by kustomize (see core/kustomize); its output is never templated. */
  readonly kustomize?: KustomizeSourceSpec;
  /** A Helm chart rendered on the hub by `helm template` (see core/helm); its output is never templated. */
  readonly helm?: HelmSourceSpec;
  /** Per-cluster patches applied in order after rendering (see core/overrides). */
  readonly overrides?: readonly OverrideSpec[];
}

/**
 * Argo CD's generator `template`, on a top-level generator: the fields it sets replace those of
 * `spec.template` for that generator's Apps. `source` is merged field by field with the spec's;
 * `manifests` here drop the spec's `source`, and `source` here drops the spec's `manifests`.
 */
export interface GeneratorTemplateSpec {
  readonly name?: string;
  readonly namespace?: string;
  readonly manifests?: readonly Readonly<Record<string, unknown>>[];
  readonly source?: Partial<ManifestSourceSpec>;
  readonly overrides?: readonly OverrideSpec[];
}

/**
 * Plain YAML manifests in a Git repository: `path` is a file or a directory whose `*.yaml`/`*.yml` files
 * (sorted by path; with `recurse`, in subdirectories too) hold one or many documents each. `revision`
 * and `path` may use parameters (rendered per App); `repoURL` may not.
 */
export interface ManifestSourceSpec {
  readonly repoURL: string;
  /** Branch, tag or commit SHA; default `HEAD`. */
  readonly revision?: string;
  readonly path: string;
  readonly recurse?: boolean;
  /**
   * Render the manifests' string leaves with the AppSet's parameters, like inline manifests. Default
   * false: the manifests are applied as read, so `{{ }}` meant for another tool (Prometheus rules,
   * Grafana dashboards, Argo Workflows) arrives untouched.
   */
  readonly templated?: boolean;
}

/**
 * A Kustomize directory (`path`, holding a kustomization) in a Git repository, rendered by kustomize
 * over an overlay the hub writes from the other fields. `repoURL` may not use parameters; every other
 * string leaf may (rendered per App before kustomize runs, never over its output).
 */
export interface KustomizeSourceSpec {
  readonly repoURL: string;
  /** Branch, tag or commit SHA; default `HEAD`. */
  readonly revision?: string;
  readonly path: string;
  readonly namespace?: string;
  readonly namePrefix?: string;
  readonly nameSuffix?: string;
  readonly commonLabels?: Readonly<Record<string, string>>;
  readonly images?: readonly KustomizeImageSpec[];
  readonly patches?: readonly KustomizePatchSpec[];
}

/** Kustomize's image override: `name` as written in the manifests, and what replaces it. */
export interface KustomizeImageSpec {
  readonly name: string;
  readonly newName?: string;
  readonly newTag?: string;
  readonly digest?: string;
}

/** A strategic-merge patch (an object) or a JSON 6902 patch (operations; `target` required), for the objects `target` selects. */
export interface KustomizePatchSpec {
  readonly patch: Readonly<Record<string, unknown>> | readonly Readonly<Record<string, unknown>>[];
  readonly target?: KustomizePatchTarget;
}

export interface KustomizePatchTarget {
  readonly group?: string;
  readonly version?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly annotationSelector?: string;
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
  /** The allow-list of the AppSet's project; the agent holds the App to the intersection with `scope`. */
  readonly projectScope?: ScopeSpec;
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
