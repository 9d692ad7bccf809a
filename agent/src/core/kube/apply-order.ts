import { compareRefs, type ObjectRef } from './object-ref.js';

/**
 * The order in which an App's objects are applied and deleted.
 *
 * Apply: CustomResourceDefinitions first (their custom resources cannot be created before the
 * definition is Established), then Namespaces (namespaced objects cannot be created before their
 * namespace), then everything else. Within a phase, the `flotilla.dev/apply-order` annotation (lower
 * first, default 0), then the position in the App's manifests: a stable order that the author controls.
 *
 * Delete: the exact reverse, so that custom resources go before their definition (deleting a CRD
 * deletes every custom resource of it, including ones the App does not own) and namespaces go last.
 */

/** Apply phase of a kind: 0 definitions, 1 namespaces, 2 the rest. */
export function applyPhase(ref: Pick<ObjectRef, 'group' | 'kind'>): number {
  if (ref.group === 'apiextensions.k8s.io' && ref.kind === 'CustomResourceDefinition') return 0;
  if (ref.group === '' && ref.kind === 'Namespace') return 1;
  return 2;
}

/** What the apply order needs of an object. */
export interface Orderable {
  readonly ref: ObjectRef;
  /** The apply-order annotation, 0 when absent. */
  readonly order: number;
  /** Position in the App's manifests. */
  readonly index: number;
}

/** `objects` in apply order (a new array; the input is not changed). */
export function orderForApply<T extends Orderable>(objects: readonly T[]): T[] {
  return [...objects].sort((a, b) => applyPhase(a.ref) - applyPhase(b.ref) || a.order - b.order || a.index - b.index);
}

/**
 * Live objects in delete order: the reverse of the apply phases (everything else, then namespaces,
 * then definitions), ties broken by kind, namespace and name so that the order is total.
 */
export function orderForDeletion<T extends Pick<ObjectRef, 'group' | 'kind' | 'namespace' | 'name'>>(refs: readonly T[]): T[] {
  return [...refs].sort((a, b) => applyPhase(b) - applyPhase(a) || compareRefs(a, b));
}
