import { isRecord } from './object-ref.js';

/**
 * Drift as field paths. The agent compares, field by field of the configuration it applied, what the
 * server says that configuration results in (`expected`: the object returned by a server-side apply,
 * or by a server-side apply dry run against the live object) with the live object. Comparing against
 * the server's answer rather than the manifest itself means defaults and normalisations the server
 * adds (`cpu: 1000m` → `"1"`, defaulted ports, ...) are never mistaken for drift, and only the fields
 * the App sets are looked at: status, managedFields, resourceVersion and fields other managers own
 * are ignored.
 */

/** One step of a field path: a map key, or a list item picked by its `name`. */
export type PathSegment = { readonly kind: 'key'; readonly key: string } | { readonly kind: 'item'; readonly name: string };

/** A drifted field. */
export interface DriftedField {
  readonly segments: readonly PathSegment[];
  /** Display form: `spec.replicas`, `data["app.conf"]`, `spec.template.spec.containers[name=web].image`. */
  readonly path: string;
}

// Top-level fields that are never compared: identity, and what the server or controllers own.
const IGNORED_TOP_LEVEL = new Set(['apiVersion', 'kind', 'status']);
// Of metadata, only labels and annotations are configuration; the rest is identity or server state.
const COMPARED_METADATA = new Set(['labels', 'annotations']);

/**
 * The fields of `applied` whose value in `live` differs from their value in `expected`, sorted by path.
 *
 * Lists whose applied items all have a distinct string `name` (containers, env, volumes, ports with
 * names...) are matched item by item by name, so an item another manager adds is not drift and a path
 * names the item; other lists are compared as a whole. An item or key the App sets that is missing
 * from `live` but present in `expected` is drift at that path.
 */
export function driftedFields(applied: unknown, expected: unknown, live: unknown): DriftedField[] {
  const found: DriftedField[] = [];
  if (!isRecord(applied)) return found;
  for (const [key, value] of Object.entries(applied)) {
    if (IGNORED_TOP_LEVEL.has(key)) continue;
    if (key === 'metadata') {
      if (!isRecord(value)) continue;
      for (const [metaKey, metaValue] of Object.entries(value)) {
        if (!COMPARED_METADATA.has(metaKey)) continue;
        const segments: PathSegment[] = [keySegment('metadata'), keySegment(metaKey)];
        walk(metaValue, childOf(childOf(expected, 'metadata'), metaKey), childOf(childOf(live, 'metadata'), metaKey), segments, found);
      }
      continue;
    }
    walk(value, childOf(expected, key), childOf(live, key), [keySegment(key)], found);
  }
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The display form of a path (see {@link DriftedField.path}). */
export function formatPath(segments: readonly PathSegment[]): string {
  let text = '';
  for (const segment of segments) {
    if (segment.kind === 'item') text += `[name=${segment.name}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(segment.key)) text += text === '' ? segment.key : `.${segment.key}`;
    else text += `[${JSON.stringify(segment.key)}]`;
  }
  return text;
}

/** Structural equality of JSON values (object key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => jsonEqual(item, b[index]));
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && jsonEqual(a[key], b[key]));
  }
  return false;
}

function walk(applied: unknown, expected: unknown, live: unknown, segments: PathSegment[], found: DriftedField[]): void {
  if (isRecord(applied) && Object.keys(applied).length > 0) {
    if (!isRecord(live) && isRecord(expected)) {
      found.push(fieldOf(segments));
      return;
    }
    for (const [key, value] of Object.entries(applied)) {
      walk(value, childOf(expected, key), childOf(live, key), [...segments, keySegment(key)], found);
    }
    return;
  }
  if (Array.isArray(applied) && isNamedList(applied)) {
    if (!Array.isArray(live) && Array.isArray(expected)) {
      found.push(fieldOf(segments));
      return;
    }
    for (const item of applied as Readonly<Record<string, unknown>>[]) {
      const name = item['name'] as string;
      const expectedItem = itemNamed(expected, name);
      const liveItem = itemNamed(live, name);
      const itemSegments: PathSegment[] = [...segments, { kind: 'item', name }];
      if (liveItem === undefined) {
        if (expectedItem !== undefined) found.push(fieldOf(itemSegments));
        continue;
      }
      for (const [key, value] of Object.entries(item)) {
        if (key === 'name') continue;
        walk(value, childOf(expectedItem, key), childOf(liveItem, key), [...itemSegments, keySegment(key)], found);
      }
    }
    return;
  }
  if (!jsonEqual(expected, live)) found.push(fieldOf(segments));
}

function isNamedList(items: readonly unknown[]): boolean {
  if (items.length === 0) return false;
  const names = new Set<string>();
  for (const item of items) {
    if (!isRecord(item) || typeof item['name'] !== 'string' || names.has(item['name'])) return false;
    names.add(item['name']);
  }
  return true;
}

function itemNamed(list: unknown, name: string): Readonly<Record<string, unknown>> | undefined {
  if (!Array.isArray(list)) return undefined;
  return list.find((item): item is Readonly<Record<string, unknown>> => isRecord(item) && item['name'] === name);
}

function childOf(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}

function keySegment(key: string): PathSegment {
  return { kind: 'key', key };
}

function fieldOf(segments: readonly PathSegment[]): DriftedField {
  return { segments: [...segments], path: formatPath(segments) };
}
