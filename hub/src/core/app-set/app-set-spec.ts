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

/** A generator as written by the user: exactly one key names its kind. */
export type GeneratorSpec = { readonly list: ListGeneratorSpec } | { readonly clusters: ClustersGeneratorSpec };

export interface ListGeneratorSpec {
  /** Each element is one ParamSet; it must name its target with `cluster: <registered name>`. */
  readonly elements: readonly Readonly<Record<string, unknown>>[];
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
}

export type SyncMode = 'create-only' | 'create-update' | 'sync';
export type DriftPolicy = 'report' | 'heal';

export interface SyncPolicySpec {
  readonly mode?: SyncMode;
  readonly drift?: DriftPolicy;
  readonly preserveResourcesOnDeletion?: boolean;
}

/** The sync policy with every default filled in. */
export interface SyncPolicy {
  readonly mode: SyncMode;
  readonly drift: DriftPolicy;
  readonly preserveResourcesOnDeletion: boolean;
}

/** Defaults: full sync with pruning, drift reported but not healed, objects deleted with their App. */
export function resolveSyncPolicy(spec: SyncPolicySpec | undefined): SyncPolicy {
  return {
    mode: spec?.mode ?? 'sync',
    drift: spec?.drift ?? 'report',
    preserveResourcesOnDeletion: spec?.preserveResourcesOnDeletion ?? false,
  };
}
