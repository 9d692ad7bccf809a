import { matchesAppPattern } from '../app-pattern.js';
import type { ScopeSpec } from '../desired-state.js';
import { describeRef, type ObjectRef } from './object-ref.js';

/**
 * The scope guard: which objects an App may contain. Two scopes apply, each optional: the App's own
 * (the sync policy's `scope`, from the AppSet) and its project's (`projectScope`, the tenant's
 * allow-list). An object must be inside both, so the App is held to their intersection; an App with any
 * object outside either is refused as a whole, so that nothing of it is applied.
 */

/** Whose scope an object was checked against: the App's own (`scope`) or its project's (`projectScope`). */
export type ScopeOwner = 'app' | 'project';

/** The scopes an App's objects must all be inside; an absent scope restricts nothing. */
export interface AppScopes {
  readonly app?: ScopeSpec | undefined;
  readonly project?: ScopeSpec | undefined;
}

/** The objects one scope refuses. `violations` is never empty. */
export interface ScopeRefusal {
  readonly owner: ScopeOwner;
  readonly violations: readonly ScopeViolation[];
}

/** An object outside a scope (the App's or its project's), and why. */
export interface ScopeViolation {
  readonly ref: ObjectRef;
  readonly reason: string;
}

/** What the scope check needs of an object. */
export interface Scoped {
  readonly ref: ObjectRef;
  readonly namespaced: boolean;
}

/**
 * Every object of `objects` outside `scope`, in input order. `scope` undefined: no restriction.
 *
 * - `clusterScoped: false` refuses cluster-scoped objects (Namespace, CustomResourceDefinition, ...).
 * - Namespaced objects must live in a namespace matching one of `namespaces` (`*` matches any run of
 *   characters); empty `namespaces` means only `appNamespace`.
 * - `kinds` empty allows every kind. A pattern `Kind` matches that kind in any API group, `group/Kind`
 *   only in that group, and `/Kind` only in the core group; `*` globs in either part.
 */
export function checkScope(objects: readonly Scoped[], scope: ScopeSpec | undefined, appNamespace: string): ScopeViolation[] {
  if (scope === undefined) return [];
  const violations: ScopeViolation[] = [];
  for (const object of objects) {
    const reasons: string[] = [];
    if (!object.namespaced && !scope.clusterScoped) reasons.push('cluster-scoped objects are not allowed');
    if (object.namespaced && !isNamespaceAllowed(object.ref.namespace, scope.namespaces, appNamespace)) {
      const allowed = scope.namespaces.length === 0 ? JSON.stringify(appNamespace) : scope.namespaces.map((n) => JSON.stringify(n)).join(', ');
      reasons.push(`namespace ${JSON.stringify(object.ref.namespace)} is not allowed (allowed: ${allowed})`);
    }
    if (!isKindAllowed(object.ref.group, object.ref.kind, scope.kinds)) {
      reasons.push(`kind ${object.ref.group === '' ? object.ref.kind : `${object.ref.group}/${object.ref.kind}`} is not allowed`);
    }
    if (reasons.length > 0) violations.push({ ref: object.ref, reason: reasons.join('; ') });
  }
  return violations;
}

/**
 * Checks `objects` against both scopes of an App (see {@link checkScope} for one scope's rules): the
 * refusal of the project's scope first, then the App's, each left out when it refuses nothing. Empty
 * means every object is inside the intersection. An object outside both scopes is in both refusals.
 */
export function checkScopes(objects: readonly Scoped[], scopes: AppScopes, appNamespace: string): ScopeRefusal[] {
  const refusals: ScopeRefusal[] = [];
  for (const owner of SCOPE_OWNERS) {
    const violations = checkScope(objects, scopes[owner], appNamespace);
    if (violations.length > 0) refusals.push({ owner, violations });
  }
  return refusals;
}

/**
 * A one-line refusal naming the offending objects (at most `max`), e.g. `refused: 1 object outside the
 * App's scope: Secret kube-system/x (kind Secret is not allowed)`; `owner` names the scope.
 */
export function describeScopeViolations(violations: readonly ScopeViolation[], max = 5, owner: ScopeOwner = 'app'): string {
  return `refused: ${describeClause(violations, max, owner)}`;
}

/**
 * A one-line refusal for the result of {@link checkScopes}: one clause per refusing scope, the
 * project's first, joined by `; `, each naming at most `max` objects, e.g. `refused: 1 object outside
 * the project's scope: ConfigMap other/x (...); 2 objects outside the App's scope: ...`. With only the
 * App's scope refusing it reads exactly as {@link describeScopeViolations}.
 */
export function describeScopeRefusals(refusals: readonly ScopeRefusal[], max = 5): string {
  return `refused: ${refusals.map((refusal) => describeClause(refusal.violations, max, refusal.owner)).join('; ')}`;
}

/** True when `namespace` matches a pattern of `patterns` (empty patterns: only `appNamespace`). */
export function isNamespaceAllowed(namespace: string, patterns: readonly string[], appNamespace: string): boolean {
  if (patterns.length === 0) return namespace === appNamespace;
  return patterns.some((pattern) => matchesAppPattern(namespace, pattern));
}

/** True when `group`/`kind` matches a pattern of `patterns` (empty patterns: any kind). */
export function isKindAllowed(group: string, kind: string, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((pattern) => {
    const slash = pattern.lastIndexOf('/');
    if (slash < 0) return matchesAppPattern(kind, pattern);
    return matchesAppPattern(group, pattern.slice(0, slash)) && matchesAppPattern(kind, pattern.slice(slash + 1));
  });
}

// Project first: the tenant's boundary is the one an operator most needs to see crossed.
const SCOPE_OWNERS: readonly ScopeOwner[] = ['project', 'app'];

const OWNER_NAMES: Readonly<Record<ScopeOwner, string>> = { app: "the App's scope", project: "the project's scope" };

function describeClause(violations: readonly ScopeViolation[], max: number, owner: ScopeOwner): string {
  const shown = violations.slice(0, max).map((violation) => `${describeRef(violation.ref)} (${violation.reason})`);
  const more = violations.length > max ? `; and ${violations.length - max} more` : '';
  return `${violations.length} object${violations.length === 1 ? '' : 's'} outside ${OWNER_NAMES[owner]}: ${shown.join('; ')}${more}`;
}
