import type { ResourceType } from './resource-types.js';

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

const POD_SPEC_LISTS: Readonly<Record<string, ListShape>> = {
  containers: byKeys(['name']),
  initContainers: byKeys(['name']),
  ephemeralContainers: byKeys(['name']),
  volumes: byKeys(['name']),
  imagePullSecrets: byKeys(['name']),
  hostAliases: byKeys(['ip']),
  topologySpreadConstraints: byKeys(['topologyKey', 'whenUnsatisfiable']),
  resourceClaims: byKeys(['name']),
  schedulingGates: byKeys(['name']),
};

const CONTAINER_LISTS: Readonly<Record<string, ListShape>> = {
  env: byKeys(['name']),
  volumeMounts: byKeys(['mountPath']),
  volumeDevices: byKeys(['devicePath']),
  ports: byKeys(['containerPort', 'protocol'], { protocol: 'TCP' }),
};

const CONTAINER_FIELDS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

/** Shapes shared by every kind: object metadata and status conditions. */
function commonListShape(fieldPath: readonly string[]): ListShape | undefined {
  const last = fieldPath[fieldPath.length - 1];
  if (fieldPath.length === 2 && fieldPath[0] === 'metadata') {
    if (last === 'finalizers') return SET;
    if (last === 'ownerReferences') return byKeys(['uid']);
  }
  if (fieldPath[0] === 'status' && last === 'conditions') return byKeys(['type']);
  return undefined;
}

function builtInListShape(fieldPath: readonly string[], kind: string): ListShape {
  const common = commonListShape(fieldPath);
  if (common !== undefined) return common;
  const last = fieldPath[fieldPath.length - 1] ?? '';
  const parent = fieldPath[fieldPath.length - 2] ?? '';
  if (CONTAINER_FIELDS.has(parent) && CONTAINER_LISTS[last] !== undefined) return CONTAINER_LISTS[last];
  if (POD_SPEC_LISTS[last] !== undefined && parent === 'spec') return POD_SPEC_LISTS[last];
  if (kind === 'Service' && fieldPath.join('.') === 'spec.ports') return byKeys(['port', 'protocol'], { protocol: 'TCP' });
  if (kind === 'CustomResourceDefinition' && fieldPath.join('.') === 'spec.versions') return byKeys(['name']);
  return ATOMIC;
}

const BUILT_IN_ATOMIC_MAPS = new Set(['selector']);

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
    listShape: (fieldPath) => builtInListShape(fieldPath, type.kind),
    isAtomicMap: (fieldPath) => fieldPath[0] === 'spec' && BUILT_IN_ATOMIC_MAPS.has(fieldPath[fieldPath.length - 1] ?? ''),
  };
}
