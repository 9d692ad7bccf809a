import type { Manifest } from './helm.js';

/**
 * Answers "may this service account do that?" over rendered RBAC objects, the way the API server's
 * RBAC authorizer does: Roles bound in the request's namespace, ClusterRoles bound by a
 * RoleBinding there or by a ClusterRoleBinding, `*` matching any group, resource or verb. Only what
 * the charts render is modelled (no aggregation, no nonResourceURLs).
 */

interface PolicyRule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly verbs: readonly string[];
}

interface Binding extends Manifest {
  readonly roleRef: { readonly kind: string; readonly name: string };
  readonly subjects?: readonly { readonly kind: string; readonly name: string; readonly namespace?: string }[];
}

/** One API request: a verb on a resource of a group, in a namespace or (undefined) cluster-wide. */
export interface Access {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly namespace?: string;
  /** The object's name; undefined for create, list and watch. */
  readonly name?: string;
}

export interface ServiceAccountRef {
  readonly name: string;
  readonly namespace: string;
}

const matches = (values: readonly string[] | undefined, value: string): boolean => (values ?? []).some((v) => v === '*' || v === value);

function allows(rule: PolicyRule, access: Access): boolean {
  if (!matches(rule.verbs, access.verb) || !matches(rule.apiGroups, access.group) || !matches(rule.resources, access.resource)) return false;
  if (rule.resourceNames === undefined || rule.resourceNames.length === 0) return true;
  return access.name !== undefined && rule.resourceNames.includes(access.name);
}

/** The rules that apply to `subject` for a request in `namespace` (undefined: cluster-scoped). */
export function rulesFor(manifests: readonly Manifest[], subject: ServiceAccountRef, namespace: string | undefined): PolicyRule[] {
  const roleRules = (kind: string, name: string, roleNamespace: string | undefined): PolicyRule[] =>
    manifests
      .filter((m) => m.kind === kind && m.metadata.name === name && (kind === 'ClusterRole' || m.metadata.namespace === roleNamespace))
      .flatMap((m) => (m['rules'] as PolicyRule[] | undefined) ?? []);
  const bindsSubject = (binding: Binding): boolean =>
    (binding.subjects ?? []).some((s) => s.kind === 'ServiceAccount' && s.name === subject.name && s.namespace === subject.namespace);
  const rules: PolicyRule[] = [];
  for (const manifest of manifests) {
    const binding = manifest as Binding;
    if (manifest.kind === 'ClusterRoleBinding' && bindsSubject(binding)) rules.push(...roleRules('ClusterRole', binding.roleRef.name, undefined));
    if (manifest.kind === 'RoleBinding' && namespace !== undefined && manifest.metadata.namespace === namespace && bindsSubject(binding)) {
      rules.push(...roleRules(binding.roleRef.kind, binding.roleRef.name, namespace));
    }
  }
  return rules;
}

/** Whether the rendered RBAC lets `subject` make the request. */
export function can(manifests: readonly Manifest[], subject: ServiceAccountRef, access: Access): boolean {
  return rulesFor(manifests, subject, access.namespace).some((rule) => allows(rule, access));
}
