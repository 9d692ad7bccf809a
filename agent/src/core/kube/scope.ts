import { matchesAppPattern } from '../app-pattern.js';
import type { ScopeSpec } from '../desired-state.js';
import { describeRef, type ObjectRef } from './object-ref.js';

/**
 * The scope guard: which objects an App may contain (the sync policy's `scope`). An App with any object
 * outside its scope is refused as a whole, so that nothing of it is applied.
 */

/** An object outside the App's scope, and why. */
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

/** A one-line refusal naming the offending objects (at most `max`). */
export function describeScopeViolations(violations: readonly ScopeViolation[], max = 5): string {
  const shown = violations.slice(0, max).map((violation) => `${describeRef(violation.ref)} (${violation.reason})`);
  const more = violations.length > max ? `; and ${violations.length - max} more` : '';
  return `refused: ${violations.length} object${violations.length === 1 ? '' : 's'} outside the App's scope: ${shown.join('; ')}${more}`;
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
