import {
  appliedFieldSet,
  compareObjects,
  decodeFieldsV1,
  describePath,
  difference,
  encodeFieldsV1,
  intersection,
  isMap,
  jsonEqual,
  pathOf,
  union,
  type FieldSet,
  type JsonMap,
} from './field-set.js';
import { mergeApplied, removeFields } from './merge.js';
import type { ObjectSchema } from './schema.js';
import { ApiError, badRequest } from './status.js';
import type { ManagedFieldsEntry } from './types.js';

/**
 * Field ownership, as kube-apiserver's field manager keeps it in `metadata.managedFields`. Every write
 * is one of two operations:
 * - Apply (server-side apply): the manager's set becomes exactly the fields of its configuration; a
 *   change to a field another manager owns is a conflict unless forced (which takes the field over);
 *   fields the manager applied before and omits now are removed unless someone else owns them.
 * - Update (create, PUT, merge/strategic/JSON patch, status writes): the manager takes every field it
 *   changed, others lose them, never a conflict.
 * Which part of an object a write may touch is decided by `scope`: a status-subresource kind's main
 * resource ignores `status`, its `/status` subresource owns nothing else.
 */

/** One manager's entry, decoded. Entries are identified by manager, operation, subresource and (for Update) apiVersion. */
export interface Manager {
  readonly manager: string;
  readonly operation: 'Apply' | 'Update';
  readonly apiVersion: string;
  readonly subresource: string;
  readonly time: string | undefined;
  readonly set: FieldSet;
}

const identity = (entry: Pick<Manager, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string =>
  JSON.stringify([entry.manager, entry.operation, entry.subresource, entry.operation === 'Apply' ? '' : entry.apiVersion]);

/** Decodes `metadata.managedFields`; throws 400 on a malformed entry. */
export function decodeManagers(entries: unknown): Manager[] {
  if (entries === undefined || entries === null) return [];
  if (!Array.isArray(entries)) throw badRequest('metadata.managedFields must be a list');
  return entries.flatMap((entry: unknown) => {
    if (!isMap(entry)) throw badRequest('metadata.managedFields entries must be objects');
    // `[{}]` is how clients reset ownership; an entry without a manager carries none.
    if (entry['manager'] === undefined && entry['fieldsV1'] === undefined) return [];
    if (entry['operation'] !== 'Apply' && entry['operation'] !== 'Update') throw badRequest('metadata.managedFields: operation must be Apply or Update');
    return [
      {
        manager: typeof entry['manager'] === 'string' ? entry['manager'] : '',
        operation: entry['operation'],
        apiVersion: typeof entry['apiVersion'] === 'string' ? entry['apiVersion'] : '',
        subresource: typeof entry['subresource'] === 'string' ? entry['subresource'] : '',
        time: typeof entry['time'] === 'string' ? normalizeTime(entry['time']) : undefined,
        set: decodeFieldsV1(entry['fieldsV1'] ?? {}),
      },
    ];
  });
}

/** RFC 3339 at second precision, as the server writes times (clients may send `.000Z`). */
function normalizeTime(time: string): string {
  const parsed = Date.parse(time);
  return Number.isNaN(parsed) ? time : `${new Date(parsed).toISOString().slice(0, 19)}Z`;
}

/** Encodes managers in kube-apiserver's order: Apply before Update, then by time, manager, apiVersion. */
export function encodeManagers(managers: readonly Manager[]): ManagedFieldsEntry[] {
  const seconds = (time: string | undefined): number => (time === undefined ? 0 : Math.floor(Date.parse(time) / 1000));
  return managers
    .filter((manager) => manager.set.size > 0)
    .sort(
      (a, b) =>
        a.operation.localeCompare(b.operation) ||
        seconds(a.time) - seconds(b.time) ||
        a.manager.localeCompare(b.manager) ||
        a.apiVersion.localeCompare(b.apiVersion) ||
        a.subresource.localeCompare(b.subresource),
    )
    .map((manager) => ({
      manager: manager.manager,
      operation: manager.operation,
      apiVersion: manager.apiVersion,
      ...(manager.time === undefined ? {} : { time: manager.time }),
      fieldsType: 'FieldsV1' as const,
      fieldsV1: encodeFieldsV1(manager.set),
      ...(manager.subresource === '' ? {} : { subresource: manager.subresource }),
    }));
}

/** Which top-level part of an object a write owns. */
export type WriteScope = 'all' | 'main' | 'status';

const SYSTEM_METADATA = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink']);

/** Drops paths no manager owns: type meta, system metadata, and whatever `scope` excludes. */
function ownable(set: FieldSet, scope: WriteScope): Set<string> {
  return new Set(
    [...set].filter((key) => {
      const path = pathOf(key);
      const top = path[0];
      if (top === 'f:apiVersion' || top === 'f:kind') return false;
      if (top === 'f:metadata') return path.length > 1 && !SYSTEM_METADATA.has(path[1]!.slice(2));
      if (scope === 'main') return top !== 'f:status';
      if (scope === 'status') return top === 'f:status';
      return true;
    }),
  );
}

export interface WriteContext {
  readonly schema: ObjectSchema;
  readonly manager: string;
  /** The apiVersion the request used; recorded in the entry. */
  readonly apiVersion: string;
  readonly subresource: string;
  readonly scope: WriteScope;
  /** RFC 3339 timestamp for entries this write changes. */
  readonly now: string;
}

function upsert(managers: Manager[], next: Manager): Manager[] {
  const key = identity(next);
  return [...managers.filter((manager) => identity(manager) !== key), next];
}

/** The managers after `context.manager` made an Update from `before` to `after` (an empty `before` for a create). */
export function recordUpdate(context: WriteContext, managers: readonly Manager[], before: JsonMap, after: JsonMap): Manager[] {
  const comparison = compareObjects(context.schema, before, after);
  const changed = ownable(union(comparison.modified, comparison.added), context.scope);
  const removed = ownable(comparison.removed, context.scope);
  const self = { manager: context.manager, operation: 'Update' as const, apiVersion: context.apiVersion, subresource: context.subresource };
  const previous = managers.find((manager) => identity(manager) === identity(self));
  const others = managers
    .filter((manager) => identity(manager) !== identity(self))
    .map((manager) => ({ ...manager, set: difference(difference(manager.set, changed), removed) }));
  const set = union(difference(previous?.set ?? new Set(), removed), changed);
  const touched = changed.size > 0 || removed.size > 0 || previous === undefined;
  return upsert(others, { ...self, time: touched ? context.now : previous.time, set });
}

/** One field another manager owns that an apply would change. */
export interface FieldConflict {
  readonly manager: Manager;
  readonly path: string;
}

/** The result of an apply before normalization (defaults) and conflict checks. */
export interface ApplyPlan {
  readonly merged: JsonMap;
  /** Completes the apply once the caller has normalized the merged object: checks conflicts, assigns ownership. */
  finish(normalized: JsonMap, force: boolean): Manager[];
}

/**
 * Server-side apply of `config` by `context.manager` onto `live` (`{}` when creating). Returns the
 * merged object with dropped fields removed; `finish` then computes ownership over the object as it will
 * be stored, throwing 409 Conflict (FieldManagerConflict causes) unless `force`.
 */
export function planApply(context: WriteContext, managers: readonly Manager[], live: JsonMap, config: JsonMap): ApplyPlan {
  const self = { manager: context.manager, operation: 'Apply' as const, apiVersion: context.apiVersion, subresource: context.subresource };
  const previous = managers.find((manager) => identity(manager) === identity(self));
  const configSet = ownable(appliedFieldSet(context.schema, config), context.scope);
  const others = managers.filter((manager) => identity(manager) !== identity(self));
  const merged = mergeApplied(context.schema, live, config);
  if (previous !== undefined) {
    const ownedByAnyone = union(configSet, ...others.map((manager) => manager.set));
    removeFields(context.schema, merged, difference(previous.set, configSet), ownedByAnyone);
  }
  return {
    merged,
    finish(normalized, force) {
      const comparison = compareObjects(context.schema, live, normalized);
      const changed = union(comparison.modified, comparison.added);
      const conflicts: FieldConflict[] = others
        .flatMap((manager) => [...intersection(manager.set, changed)].map((key) => ({ manager, path: describePath(pathOf(key)) })))
        .sort((a, b) => a.manager.manager.localeCompare(b.manager.manager) || a.path.localeCompare(b.path));
      if (conflicts.length > 0 && !force) throw conflictError(conflicts);
      const removed = comparison.removed;
      const remaining = others.map((manager) => ({ ...manager, set: difference(difference(manager.set, changed), removed) }));
      const unchanged = previous !== undefined && jsonEqual([...previous.set].sort(), [...configSet].sort()) && previous.apiVersion === context.apiVersion;
      const touched = !unchanged || changed.size > 0 || removed.size > 0;
      return upsert(remaining, { ...self, time: touched || previous === undefined ? context.now : previous.time, set: configSet });
    },
  };
}

/** How kube-apiserver names a manager in a conflict: Update managers with their apiVersion and time. */
function describeManager(manager: Manager): string {
  const name = `${JSON.stringify(manager.manager)}${manager.subresource === '' ? '' : ` with subresource ${JSON.stringify(manager.subresource)}`}`;
  if (manager.operation === 'Apply') return name;
  return manager.time === undefined ? `${name} using ${manager.apiVersion}` : `${name} using ${manager.apiVersion} at ${manager.time}`;
}

function conflictError(conflicts: readonly FieldConflict[]): ApiError {
  const causes = conflicts.map((conflict) => ({ reason: 'FieldManagerConflict', message: `conflict with ${describeManager(conflict.manager)}`, field: conflict.path }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${describeManager(conflicts[0]!.manager)}: ${conflicts[0]!.path}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const conflict of conflicts) {
      const name = describeManager(conflict.manager);
      byManager.set(name, [...(byManager.get(name) ?? []), conflict.path]);
    }
    const lines = [...byManager.keys()].sort().flatMap((name) => [`conflicts with ${name}:`, ...byManager.get(name)!.map((path) => `- ${path}`)]);
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, { causes });
}
