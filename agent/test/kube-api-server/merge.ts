import { isMap, itemElement, keyedItems, pathKey, pathOf, type FieldPath, type FieldSet, type JsonMap, type PathElement } from './field-set.js';
import type { ObjectSchema } from './schema.js';

/**
 * The value operations of server-side apply: merging an applied configuration into the live object,
 * and removing the fields a manager stopped applying.
 */

const clone = <T>(value: T): T => structuredClone(value);

/**
 * `live` with `config` merged in: maps merge field by field, keyed lists item by item, everything else
 * (scalars, atomic lists and maps) is replaced.
 */
export function mergeApplied(schema: ObjectSchema, live: JsonMap, config: JsonMap): JsonMap {
  const merge = (a: unknown, b: unknown, fieldPath: readonly string[]): unknown => {
    if (isMap(a) && isMap(b) && !(fieldPath.length > 0 && schema.isAtomicMap(fieldPath))) {
      const out: JsonMap = { ...a };
      for (const [name, value] of Object.entries(b)) {
        if (value === undefined) continue;
        out[name] = name in a && a[name] !== undefined ? merge(a[name], value, [...fieldPath, name]) : clone(value);
      }
      return out;
    }
    const shape = schema.listShape(fieldPath);
    if (Array.isArray(a) && Array.isArray(b) && shape.kind !== 'atomic') {
      const liveItems = keyedItems(shape, a, fieldPath);
      const configItems = keyedItems(shape, b, fieldPath);
      return mergeListOrder([...liveItems.keys()], [...configItems.keys()]).map((element) => {
        const [existing, applied] = [liveItems.get(element), configItems.get(element)];
        if (applied === undefined) return existing;
        return existing !== undefined && shape.kind === 'map' ? merge(existing, applied, fieldPath) : clone(applied);
      });
    }
    return clone(b);
  };
  return merge(live, config, []) as JsonMap;
}

/**
 * The order of a merged keyed list, as structured-merge-diff computes it: items of both lists in the
 * applied order, live-only items staying where they were relative to them.
 */
function mergeListOrder(live: readonly PathElement[], applied: readonly PathElement[]): PathElement[] {
  const inApplied = new Set(applied);
  const inLive = new Set(live);
  const shared = applied.filter((element) => inLive.has(element));
  let nextShared = shared.shift();
  const merged = new Set<PathElement>();
  const out: PathElement[] = [];
  let l = 0;
  let r = 0;
  while (l < live.length || r < applied.length) {
    if (l < live.length && r < applied.length) {
      const element = live[l]!;
      if (element === applied[r]) {
        merged.add(element);
        out.push(element);
        l += 1;
        r += 1;
        nextShared = shared.shift();
        continue;
      }
      if (inApplied.has(element) && nextShared !== undefined && nextShared !== element) {
        l += 1;
        continue;
      }
    }
    if (l < live.length) {
      const element = live[l]!;
      if (!inApplied.has(element)) {
        out.push(element);
        l += 1;
        continue;
      }
      if (merged.has(element)) {
        l += 1;
        continue;
      }
    }
    if (r < applied.length) {
      const element = applied[r]!;
      merged.add(element);
      out.push(element);
      r += 1;
      if (nextShared === element) nextShared = shared.shift();
    }
  }
  return out;
}

/** Finds the child of `container` named by `element` (a field, keyed item, set item or index). */
function childIndex(schema: ObjectSchema, container: unknown, element: PathElement, fieldPath: readonly string[]): string | number | undefined {
  if (element.startsWith('f:')) return isMap(container) && element.slice(2) in container ? element.slice(2) : undefined;
  if (!Array.isArray(container)) return undefined;
  if (element.startsWith('i:')) return Number(element.slice(2));
  const shape = schema.listShape(fieldPath);
  if (shape.kind === 'atomic') return undefined;
  const index = container.findIndex((item) => itemElement(shape, item, fieldPath) === element);
  return index < 0 ? undefined : index;
}

/**
 * Removes the nodes in `remove` from `object` (in place), except nodes with an owned descendant in
 * `owned`, whose unowned children go instead, and the key fields of list items that stay. Maps and
 * lists left empty by a removal go too unless owned themselves, as a typed object would drop them.
 */
export function removeFields(schema: ObjectSchema, object: JsonMap, remove: FieldSet, owned: FieldSet): void {
  const ownedPrefixes = new Set<string>();
  for (const key of owned) {
    const path = pathOf(key);
    for (let length = 1; length < path.length; length += 1) ownedPrefixes.add(pathKey(path.slice(0, length)));
  }
  // Shallowest first: removing a node takes its subtree, and later paths into it find nothing.
  const paths = [...remove].map(pathOf).sort((a, b) => a.length - b.length);
  for (const path of paths) {
    if (owned.has(pathKey(path)) || ownedPrefixes.has(pathKey(path)) || isKeyFieldOfItem(path)) continue;
    removePath(schema, object, path, (parentPath) => !owned.has(pathKey(parentPath)));
  }
}

/** True for `...k:{"name":"a"}.f:name`: a list item's key field, which goes only with the item. */
function isKeyFieldOfItem(path: FieldPath): boolean {
  const parent = path[path.length - 2];
  const last = path[path.length - 1];
  if (parent === undefined || last === undefined || !parent.startsWith('k:') || !last.startsWith('f:')) return false;
  return Object.prototype.hasOwnProperty.call(JSON.parse(parent.slice(2)) as JsonMap, last.slice(2));
}

function removePath(schema: ObjectSchema, object: JsonMap, path: FieldPath, mayPruneParent: (parentPath: FieldPath) => boolean): void {
  const chain: { container: unknown; index: string | number; fieldPath: readonly string[] }[] = [];
  let current: unknown = object;
  let fieldPath: readonly string[] = [];
  for (const element of path) {
    const index = childIndex(schema, current, element, fieldPath);
    if (index === undefined) return;
    chain.push({ container: current, index, fieldPath });
    if (element.startsWith('f:')) fieldPath = [...fieldPath, element.slice(2)];
    current = (current as Record<string | number, unknown>)[index];
  }
  for (let depth = chain.length - 1; depth >= 0; depth -= 1) {
    const { container, index } = chain[depth]!;
    if (Array.isArray(container)) container.splice(index as number, 1);
    else delete (container as JsonMap)[index as string];
    const isEmpty = Array.isArray(container) ? container.length === 0 : Object.keys(container as JsonMap).length === 0;
    if (depth === 0 || !isEmpty || !mayPruneParent(path.slice(0, depth))) return;
  }
}
