import type { LabelSelector, ScopeSpec } from '../app-set/app-set-spec';

/**
 * A project as the hub's checks see it: the clusters it owns (a label selector) and what its Apps may
 * contain (the same allow-list shape as the protocol's `Scope`, which carries it to the agent).
 */
export interface ProjectRule {
  readonly name: string;
  readonly clusterSelector: LabelSelector;
  /** Namespaces namespaced objects may live in; `*` matches any run of characters. */
  readonly namespaces: readonly string[];
  /** Allowed kinds as `Kind`, `group/Kind` or `/Kind` (core group); `*` globs; empty: any kind. */
  readonly kinds: readonly string[];
  /** Whether cluster-scoped objects (Namespace, ClusterRole, CustomResourceDefinition...) are allowed. */
  readonly clusterScoped: boolean;
}

/** The name of the project of AppSets that name none. It exists from the first start and cannot be deleted. */
export const DEFAULT_PROJECT = 'default';

/** The allow-list that travels to the agent with every App of the project. */
export function projectScope(project: ProjectRule): Required<ScopeSpec> {
  return { namespaces: [...project.namespaces], kinds: [...project.kinds], clusterScoped: project.clusterScoped };
}
