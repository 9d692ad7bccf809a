import { SyncMode } from '@flotilla/proto';
import { orderForDeletion } from './apply-order.js';
import { compareRefs, describeRef, objectKey, type ObjectRef } from './object-ref.js';

/**
 * Which live objects of an App to delete: after an apply (prune, by sync mode) and on removal.
 */

/** What pruning needs to know of a live object that carries the App's label. */
export interface LiveObjectSummary {
  readonly ref: ObjectRef;
  /** The App the object says it belongs to (its annotation), undefined when it does not say. */
  readonly app: string | undefined;
  /** The object already has a deletionTimestamp. */
  readonly deleting: boolean;
}

/** Result of {@link planPrune}: objects to delete in delete order, and objects kept with the reason. */
export interface PrunePlan {
  readonly delete: readonly ObjectRef[];
  readonly kept: readonly { readonly ref: ObjectRef; readonly reason: string }[];
}

/** Inputs of {@link planPrune}. */
export interface PruneInput {
  readonly appName: string;
  readonly mode: SyncMode;
  /** Whether every object of the revision was applied. Nothing is pruned after a partial or failed apply. */
  readonly applyComplete: boolean;
  /** {@link objectKey}s of the objects the applied revision declares (empty on removal). */
  readonly desired: ReadonlySet<string>;
  /** Live objects selected by the App's label, across every kind the App has used. */
  readonly live: readonly LiveObjectSummary[];
  /** Namespaces that hold managed objects of other Apps: deleting them would delete those objects. */
  readonly namespacesUsedByOthers: ReadonlySet<string>;
}

/**
 * Plans a prune. Deletes only when the mode is SYNC and the apply was complete; never deletes an
 * object another App claims (label values of long App names are shortened, so the annotation decides),
 * an object already being deleted, an object still desired, or a Namespace that holds other Apps'
 * objects. Deletion order: the reverse of the apply order (see {@link orderForDeletion}).
 */
export function planPrune(input: PruneInput): PrunePlan {
  const kept: { ref: ObjectRef; reason: string }[] = [];
  const candidates: ObjectRef[] = [];
  for (const object of input.live) {
    const key = objectKey(object.ref);
    if (input.desired.has(key)) continue;
    if (object.app !== undefined && object.app !== input.appName) continue;
    if (object.deleting) continue;
    if (input.mode !== SyncMode.SYNC) {
      kept.push({ ref: object.ref, reason: `sync mode ${SyncMode[input.mode]?.toLowerCase().replace('_', '-') ?? 'unknown'} never prunes` });
      continue;
    }
    if (!input.applyComplete) {
      kept.push({ ref: object.ref, reason: 'not pruned: the apply was incomplete' });
      continue;
    }
    if (object.ref.group === '' && object.ref.kind === 'Namespace' && input.namespacesUsedByOthers.has(object.ref.name)) {
      kept.push({ ref: object.ref, reason: 'not deleted: the namespace holds objects of other Apps' });
      continue;
    }
    candidates.push(object.ref);
  }
  return { delete: orderForDeletion(dedupe(candidates)), kept: kept.sort((a, b) => compareRefs(a.ref, b.ref)) };
}

/** "kept Namespace shared (not deleted: ...)" lines for a status message. */
export function describeKept(kept: PrunePlan['kept'], max = 3): string {
  const shown = kept.slice(0, max).map((entry) => `${describeRef(entry.ref)} (${entry.reason})`);
  return kept.length > max ? `${shown.join('; ')}; and ${kept.length - max} more` : shown.join('; ');
}

function dedupe(refs: readonly ObjectRef[]): ObjectRef[] {
  return [...new Map(refs.map((ref) => [objectKey(ref), ref])).values()];
}
