import { GENERATED_RESOURCES, type ResourceType } from './resource-types.js';

/**
 * How lists and maps merge and are owned, as structured-merge-diff reads it from the OpenAPI schema
 * (`x-kubernetes-list-type`, `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`). Built-in kinds use a
 * table of the well-known associative lists instead of the full schemas; custom resources read their
 * CRD's `openAPIV3Schema`. Lists not named here are atomic, as they are by default.
 */

export type ListShape =
  | { readonly kind: 'atomic' }
  /** Items are keyed by `keys`; a missing key field takes its default (container port protocol → TCP). */
  | { readonly kind: 'map'; readonly keys: readonly string[]; readonly defaults: Readonly<Record<string, unknown>> }
  /** Items are distinct scalars (metadata.finalizers). */
  | { readonly kind: 'set' };

export interface ObjectSchema {
  /** The shape of the list at `fieldPath` (field names from the root; list items add nothing). */
  listShape(fieldPath: readonly string[]): ListShape;
  /** True when the map at `fieldPath` is owned and replaced as a whole (label selectors). */
  isAtomicMap(fieldPath: readonly string[]): boolean;
}

const ATOMIC: ListShape = { kind: 'atomic' };
const SET: ListShape = { kind: 'set' };
const byKeys = (keys: readonly string[], defaults: Record<string, unknown> = {}): ListShape => ({ kind: 'map', keys, defaults });

/** Shapes shared by every kind: object metadata. */
function commonListShape(fieldPath: readonly string[]): ListShape | undefined {
  const last = fieldPath[fieldPath.length - 1];
  if (fieldPath.length === 2 && fieldPath[0] === 'metadata') {
    if (last === 'finalizers') return SET;
    if (last === 'ownerReferences') return byKeys(['uid']);
  }
  return undefined;
}

/** Per group/kind: the generated list shapes and atomic maps (identical across a kind's versions' paths). */
const BUILT_IN_SHAPES = new Map(
  GENERATED_RESOURCES.map((resource) => [
    `${resource.group}/${resource.version}/${resource.kind}`,
    {
      lists: new Map(Object.entries(resource.lists).map(([path, shape]) => [path, shape === 'set' ? SET : byKeys(shape.keys, shape.defaults ?? {})])),
      atomicMaps: new Set(resource.atomicMaps),
    },
  ]),
);

/** `spec.versions` of a CRD (its schema is not in client-go's, which covers k8s.io/api only). */
const CRD_LISTS = new Map<string, ListShape>([
  ['spec.versions', byKeys(['name'])],
  ['status.conditions', byKeys(['type'])],
]);

function builtInListShape(fieldPath: readonly string[], type: ResourceType): ListShape {
  const common = commonListShape(fieldPath);
  if (common !== undefined) return common;
  const path = fieldPath.join('.');
  if (type.kind === 'CustomResourceDefinition') return CRD_LISTS.get(path) ?? ATOMIC;
  return BUILT_IN_SHAPES.get(`${type.group}/${type.version}/${type.kind}`)?.lists.get(path) ?? ATOMIC;
}

type SchemaNode = Readonly<Record<string, unknown>>;
const asNode = (value: unknown): SchemaNode | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as SchemaNode) : undefined;

/** Walks an OpenAPI v3 schema along field names, stepping through array items on the way. */
function schemaAt(root: SchemaNode | undefined, fieldPath: readonly string[]): SchemaNode | undefined {
  let node = root;
  for (const name of fieldPath) {
    if (node === undefined) return undefined;
    if (node['type'] === 'array') node = asNode(node['items']);
    if (node === undefined) return undefined;
    node = asNode(asNode(node['properties'])?.[name]) ?? asNode(node['additionalProperties']);
  }
  return node;
}

function customListShape(root: SchemaNode | undefined, fieldPath: readonly string[]): ListShape {
  const common = commonListShape(fieldPath);
  if (common !== undefined) return common;
  // Status conditions merge by type, which is what controllers of custom resources expect.
  if (fieldPath[0] === 'status' && fieldPath[fieldPath.length - 1] === 'conditions' && schemaAt(root, fieldPath)?.['x-kubernetes-list-type'] === undefined) return byKeys(['type']);
  const node = schemaAt(root, fieldPath);
  switch (node?.['x-kubernetes-list-type']) {
    case 'set':
      return SET;
    case 'map': {
      const keys = Array.isArray(node['x-kubernetes-list-map-keys']) ? node['x-kubernetes-list-map-keys'].filter((key): key is string => typeof key === 'string') : [];
      const itemProperties = asNode(asNode(node['items'])?.['properties']) ?? {};
      const defaults = Object.fromEntries(keys.flatMap((key) => (asNode(itemProperties[key])?.['default'] === undefined ? [] : [[key, asNode(itemProperties[key])!['default']]])));
      return keys.length === 0 ? ATOMIC : byKeys(keys, defaults);
    }
    default:
      return ATOMIC;
  }
}

/** The merge schema of objects of `type`. */
export function schemaOf(type: ResourceType): ObjectSchema {
  if (type.custom) {
    const root = type.schema;
    return {
      listShape: (fieldPath) => customListShape(root, fieldPath),
      isAtomicMap: (fieldPath) => fieldPath[0] !== 'metadata' && schemaAt(root, fieldPath)?.['x-kubernetes-map-type'] === 'atomic',
    };
  }
  return {
    listShape: (fieldPath) => builtInListShape(fieldPath, type),
    isAtomicMap: (fieldPath) => BUILT_IN_SHAPES.get(`${type.group}/${type.version}/${type.kind}`)?.atomicMaps.has(fieldPath.join('.')) ?? false,
  };
}
