import type { PathSegment } from './field-diff.js';
import { FIELD_MANAGER, isRecord, recordAt, type KubeObject } from './object-ref.js';

/**
 * Who owns a field, from an object's `metadata.managedFields` (server-side apply's `FieldsV1` sets),
 * and who a 409 conflict names. Used to say "fighting with manager X" and "conflict with manager X".
 */

/** One conflict of a refused server-side apply. */
export interface FieldConflict {
  /** The field manager that owns the field (`kubectl-edit`, `hpa-controller`...). */
  readonly manager: string;
  /** The field, as the API server names it (`.spec.replicas`). */
  readonly field: string;
}

/**
 * The managers other than `exceptManager` that own the field at `segments` (or a field inside it),
 * sorted. Keys are `f:<name>` steps, named list items `k:{"name":"..."}` steps.
 */
export function ownersOf(object: KubeObject, segments: readonly PathSegment[], exceptManager: string = FIELD_MANAGER): string[] {
  const entries = recordAt(object, 'metadata')?.['managedFields'];
  if (!Array.isArray(entries)) return [];
  const owners = new Set<string>();
  for (const entry of entries) {
    if (!isRecord(entry) || typeof entry['manager'] !== 'string' || entry['manager'] === exceptManager) continue;
    if (ownsPath(entry['fieldsV1'], segments)) owners.add(entry['manager']);
  }
  return [...owners].sort();
}

function ownsPath(fields: unknown, segments: readonly PathSegment[]): boolean {
  let node = fields;
  for (const segment of segments) {
    if (!isRecord(node)) return false;
    if (segment.kind === 'key') {
      node = node[`f:${segment.key}`];
      continue;
    }
    const itemKey = Object.keys(node).find((key) => key.startsWith('k:') && itemName(key.slice(2)) === segment.name);
    node = itemKey === undefined ? undefined : node[itemKey];
  }
  return node !== undefined;
}

function itemName(json: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(json);
    return isRecord(parsed) && typeof parsed['name'] === 'string' ? parsed['name'] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The conflicts a 409 `Status` of a server-side apply lists in `details.causes`, sorted by field. The
 * manager comes from each cause's message (`conflict with "kubectl-edit" using apps/v1`), or from the
 * Status message when a cause has none. Empty when `status` is not a conflict Status.
 */
export function conflictsOfStatus(status: unknown): FieldConflict[] {
  if (!isRecord(status)) return [];
  const causes = recordAt(status, 'details')?.['causes'];
  const fallback = managerIn(typeof status['message'] === 'string' ? status['message'] : '');
  const conflicts: FieldConflict[] = [];
  if (Array.isArray(causes)) {
    for (const cause of causes) {
      if (!isRecord(cause)) continue;
      if (cause['reason'] !== undefined && cause['reason'] !== 'FieldManagerConflict') continue;
      const manager = managerIn(typeof cause['message'] === 'string' ? cause['message'] : '') ?? fallback ?? 'unknown manager';
      conflicts.push({ manager, field: typeof cause['field'] === 'string' ? cause['field'] : '' });
    }
  }
  if (conflicts.length === 0 && fallback !== undefined) conflicts.push({ manager: fallback, field: '' });
  return conflicts.sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : a.manager < b.manager ? -1 : a.manager > b.manager ? 1 : 0));
}

/** "conflict with manager "kubectl-edit" over .spec.replicas, manager "x" over .data.a" (at most `max`). */
export function describeConflicts(conflicts: readonly FieldConflict[], max = 5): string {
  const shown = conflicts.slice(0, max).map((conflict) => `manager ${JSON.stringify(conflict.manager)}${conflict.field !== '' ? ` over ${conflict.field}` : ''}`);
  const more = conflicts.length > max ? ` and ${conflicts.length - max} more` : '';
  return `conflict with ${shown.join(', ')}${more}`;
}

function managerIn(message: string): string | undefined {
  const match = /conflicts? with "([^"]+)"/.exec(message);
  return match?.[1];
}
