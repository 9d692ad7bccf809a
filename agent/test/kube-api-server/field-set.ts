import type { ListShape, ObjectSchema } from './schema.js';
import { badRequest } from './status.js';
import type { FieldsV1 } from './types.js';

/**
 * Field paths and sets of them, in structured-merge-diff's terms. A path is a list of serialized
 * elements, exactly as FieldsV1 spells them: `f:<field>`, `k:<json of key fields>` (an item of an
 * associative list), `v:<json>` (an item of a set list), `i:<index>`. A set holds paths as JSON strings
 * so that set algebra is plain `Set` work.
 */

export type PathElement = string;
export type FieldPath = readonly PathElement[];
export type FieldSet = ReadonlySet<string>;

export const pathKey = (path: FieldPath): string => JSON.stringify(path);
export const pathOf = (key: string): FieldPath => JSON.parse(key) as FieldPath;

export type JsonMap = Record<string, unknown>;
export const isMap = (value: unknown): value is JsonMap => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Deep equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, index) => jsonEqual(item, b[index]));
  if (isMap(a) && isMap(b)) {
    const keys = Object.keys(a).filter((key) => a[key] !== undefined);
    const otherKeys = Object.keys(b).filter((key) => b[key] !== undefined);
    return keys.length === otherKeys.length && keys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && jsonEqual(a[key], b[key]));
  }
  return false;
}

/** JSON with object keys sorted, as structured-merge-diff serializes list keys. */
function sortedJson(value: unknown): string {
  if (isMap(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${sortedJson(value[key])}`)
      .join(',')}}`;
  }
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  return JSON.stringify(value);
}

/** The element naming `item` in a keyed list; throws 400 when a key field is missing. */
export function itemElement(shape: Exclude<ListShape, { kind: 'atomic' }>, item: unknown, fieldPath: readonly string[]): PathElement {
  if (shape.kind === 'set') return `v:${sortedJson(item)}`;
  if (!isMap(item)) throw badRequest(`.${fieldPath.join('.')}: associative list with keys has an element that is not a map`);
  const key: JsonMap = {};
  for (const name of shape.keys) {
    const value = item[name] ?? shape.defaults[name];
    if (value === undefined) {
      throw badRequest(`.${fieldPath.join('.')}: associative list with keys has an element that omits key field ${JSON.stringify(name)}`);
    }
    key[name] = value;
  }
  return `k:${sortedJson(key)}`;
}

/** Items of a keyed list by element; throws 400 on duplicate keys, as the real server refuses them. */
export function keyedItems(shape: Exclude<ListShape, { kind: 'atomic' }>, list: readonly unknown[], fieldPath: readonly string[]): Map<PathElement, unknown> {
  const items = new Map<PathElement, unknown>();
  for (const item of list) {
    const element = itemElement(shape, item, fieldPath);
    if (items.has(element)) {
      if (shape.kind === 'set') continue;
      throw badRequest(`.${fieldPath.join('.')}: duplicate entries for key ${describeElement(element)}`);
    }
    items.set(element, item);
  }
  return items;
}

/** `.spec.containers[name="web"].image`: how conflicts name a path. */
export function describePath(path: FieldPath): string {
  return path.map((element) => (element.startsWith('f:') ? `.${element.slice(2)}` : describeElement(element))).join('');
}

function describeElement(element: PathElement): string {
  const body = element.slice(2);
  switch (element.slice(0, 2)) {
    case 'k:': {
      const key = JSON.parse(body) as JsonMap;
      return `[${Object.entries(key)
        .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
        .join(',')}]`;
    }
    case 'v:':
      return `[=${body}]`;
    case 'i:':
      return `[${body}]`;
    default:
      return `.${body}`;
  }
}

/** Encodes a set as a FieldsV1 trie: a member with children also gets `.`. */
export function encodeFieldsV1(set: FieldSet): FieldsV1 {
  interface Node {
    member: boolean;
    children: Map<string, Node>;
  }
  const root: Node = { member: false, children: new Map() };
  for (const key of set) {
    let node = root;
    for (const element of pathOf(key)) {
      let child = node.children.get(element);
      if (child === undefined) {
        child = { member: false, children: new Map() };
        node.children.set(element, child);
      }
      node = child;
    }
    node.member = true;
  }
  const encode = (node: Node): FieldsV1 => {
    const out: FieldsV1 = {};
    if (node.member && node.children.size > 0) out['.'] = {};
    for (const element of [...node.children.keys()].sort()) out[element] = encode(node.children.get(element)!);
    return out;
  };
  return encode(root);
}

/** Decodes a FieldsV1 trie into a set; throws 400 on a malformed one. */
export function decodeFieldsV1(fields: unknown): Set<string> {
  const set = new Set<string>();
  const walk = (node: unknown, path: PathElement[]): void => {
    if (!isMap(node)) throw badRequest('metadata.managedFields: fieldsV1 must be an object');
    const entries = Object.entries(node);
    if (entries.length === 0 && path.length > 0) set.add(pathKey(path));
    for (const [element, child] of entries) {
      if (element === '.') {
        if (path.length > 0) set.add(pathKey(path));
        continue;
      }
      if (!/^[fkvi]:/.test(element)) throw badRequest(`metadata.managedFields: invalid fieldsV1 element ${JSON.stringify(element)}`);
      walk(child, [...path, element]);
    }
  };
  walk(fields, []);
  return set;
}

export const union = (...sets: FieldSet[]): Set<string> => new Set(sets.flatMap((set) => [...set]));
export const difference = (a: FieldSet, b: FieldSet): Set<string> => new Set([...a].filter((key) => !b.has(key)));
export const intersection = (a: FieldSet, b: FieldSet): Set<string> => new Set([...a].filter((key) => b.has(key)));

/** Calls `visit` for each child of a map or keyed list, with its element and the field path it sits at. */
function forEachChild(
  schema: ObjectSchema,
  value: unknown,
  fieldPath: readonly string[],
  visit: (element: PathElement, child: unknown, childFieldPath: readonly string[], isSetItem: boolean) => void,
): void {
  if (isMap(value)) {
    if (fieldPath.length > 0 && schema.isAtomicMap(fieldPath)) return;
    for (const [name, child] of Object.entries(value)) if (child !== undefined) visit(`f:${name}`, child, [...fieldPath, name], false);
    return;
  }
  if (Array.isArray(value)) {
    const shape = schema.listShape(fieldPath);
    if (shape.kind === 'atomic') return;
    for (const [element, item] of keyedItems(shape, value, fieldPath)) visit(element, item, fieldPath, shape.kind === 'set');
  }
}

/** True when `value` is owned as a single field (scalar, atomic list or map, or an empty map or list). */
function isLeaf(schema: ObjectSchema, value: unknown, fieldPath: readonly string[]): boolean {
  if (isMap(value)) return Object.keys(value).length === 0 || (fieldPath.length > 0 && schema.isAtomicMap(fieldPath));
  if (Array.isArray(value)) return value.length === 0 || schema.listShape(fieldPath).kind === 'atomic';
  return true;
}

/**
 * The fields an applied configuration sets: its leaves and the items of its keyed lists, not the maps
 * that merely contain them (so `f:metadata` appears only as a prefix).
 */
export function appliedFieldSet(schema: ObjectSchema, config: JsonMap): Set<string> {
  const set = new Set<string>();
  const walk = (value: unknown, path: PathElement[], fieldPath: readonly string[]): void => {
    forEachChild(schema, value, fieldPath, (element, child, childFieldPath, isSetItem) => {
      const childPath = [...path, element];
      const isListItem = element.startsWith('k:') || isSetItem;
      if (isListItem || isLeaf(schema, child, childFieldPath)) set.add(pathKey(childPath));
      if (!isSetItem) walk(child, childPath, childFieldPath);
    });
  };
  walk(config, [], []);
  return set;
}

/** Every node of `value` below `path`, `path` included. */
function addSubtree(schema: ObjectSchema, into: Set<string>, value: unknown, path: PathElement[], fieldPath: readonly string[]): void {
  into.add(pathKey(path));
  forEachChild(schema, value, fieldPath, (element, child, childFieldPath, isSetItem) => {
    if (isSetItem) into.add(pathKey([...path, element]));
    else addSubtree(schema, into, child, [...path, element], childFieldPath);
  });
}

export interface Comparison {
  /** Nodes present only in the new object (with everything below them). */
  readonly added: Set<string>;
  /** Nodes present only in the old object. */
  readonly removed: Set<string>;
  /** Leaves (and atomic values) present in both with different values. */
  readonly modified: Set<string>;
}

/** What changed from `before` to `after`. */
export function compareObjects(schema: ObjectSchema, before: JsonMap, after: JsonMap): Comparison {
  const result: Comparison = { added: new Set(), removed: new Set(), modified: new Set() };
  const compare = (a: unknown, b: unknown, path: PathElement[], fieldPath: readonly string[]): void => {
    const bothMaps = isMap(a) && isMap(b) && !(fieldPath.length > 0 && schema.isAtomicMap(fieldPath));
    const bothKeyedLists = Array.isArray(a) && Array.isArray(b) && schema.listShape(fieldPath).kind !== 'atomic';
    if (!bothMaps && !bothKeyedLists) {
      if (path.length > 0 && !jsonEqual(a, b)) result.modified.add(pathKey(path));
      return;
    }
    const children = new Map<PathElement, { a?: unknown; b?: unknown; fieldPath: readonly string[]; isSetItem: boolean }>();
    forEachChild(schema, a, fieldPath, (element, child, childFieldPath, isSetItem) => children.set(element, { a: child, fieldPath: childFieldPath, isSetItem }));
    forEachChild(schema, b, fieldPath, (element, child, childFieldPath, isSetItem) => {
      const entry = children.get(element);
      children.set(element, { ...(entry ?? {}), b: child, fieldPath: childFieldPath, isSetItem });
    });
    for (const [element, entry] of children) {
      const childPath = [...path, element];
      if (entry.a === undefined) addSubtree(schema, result.added, entry.b, childPath, entry.fieldPath);
      else if (entry.b === undefined) addSubtree(schema, result.removed, entry.a, childPath, entry.fieldPath);
      else if (!entry.isSetItem) compare(entry.a, entry.b, childPath, entry.fieldPath);
    }
  };
  compare(before, after, [], []);
  return result;
}
