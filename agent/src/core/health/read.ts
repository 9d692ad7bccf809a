/**
 * Reading live objects as the API server returns them (parsed JSON, no schema). Every reader is total:
 * a missing or mistyped field reads as `undefined` (or an empty list), never as a throw, so that one odd
 * object can never stop the judgement of the others.
 */

/** A live object as read from the API server. */
export type LiveObject = Readonly<Record<string, unknown>>;

/** One entry of `status.conditions`, with the fields every Kubernetes condition shares. */
export interface Condition {
  readonly type: string;
  /** `True`, `False` or `Unknown`. */
  readonly status: string;
  readonly reason: string;
  readonly message: string;
}

/** The value at `path` below `value`, or undefined when any step is missing or not an object. */
export function field(value: unknown, ...path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    const object = recordOf(current);
    if (object === undefined) return undefined;
    current = object[key];
  }
  return current;
}

/** `value` if it is a plain JSON object. */
export function recordOf(value: unknown): LiveObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as LiveObject) : undefined;
}

/** `value` if it is a finite number (int32/int64 fields arrive as JSON numbers). */
export function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** `value` if it is a non-empty string. */
export function textOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `value` if it is a list, else an empty one. */
export function listOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** An RFC 3339 timestamp (`2024-05-01T10:00:00Z`) in ms since the epoch, or undefined when unreadable. */
export function timeOf(value: unknown): number | undefined {
  const text = textOf(value);
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** `status.conditions` of `object`; entries without a type are skipped. */
export function conditionsOf(object: LiveObject): Condition[] {
  return listOf(field(object, 'status', 'conditions')).flatMap((entry) => {
    const type = textOf(field(entry, 'type'));
    if (type === undefined) return [];
    return [
      {
        type,
        status: textOf(field(entry, 'status')) ?? 'Unknown',
        reason: textOf(field(entry, 'reason')) ?? '',
        message: textOf(field(entry, 'message')) ?? '',
      },
    ];
  });
}

/** The condition of `type` (the first, should a controller list it twice). */
export function conditionOf(object: LiveObject, type: string): Condition | undefined {
  return conditionsOf(object).find((condition) => condition.type === type);
}

/** True when `object` has a condition of `type` whose status is `True`. */
export function isConditionTrue(object: LiveObject, type: string): boolean {
  return conditionOf(object, type)?.status === 'True';
}

/**
 * The API group of an `apiVersion` (`apps/v1` → `apps`, `v1` → the core group `''`), and the group-kind
 * key rules are registered under, as Kubernetes prints it: `Deployment.apps`, `Pod`.
 */
export function groupKindOf(apiVersion: string, kind: string): string {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  return group === '' ? kind : `${kind}.${group}`;
}
