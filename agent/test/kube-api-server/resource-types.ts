import { readFileSync } from 'node:fs';

/**
 * The resource types the server knows: a fixed set of built-in kinds, and the kinds that
 * CustomResourceDefinitions add while the server runs (see registry.ts).
 */

/** One served group/version/resource. */
export interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly verbs: readonly string[];
  /** Has a `/status` subresource: writes to the object ignore `status`, writes to `/status` change only it. */
  readonly statusSubresource: boolean;
  /** Has a `/scale` subresource (discovery entry; GET and PUT of an autoscaling/v1 Scale). */
  readonly scaleSubresource: boolean;
  /** Every subresource discovery lists (`status`, `scale`, `eviction`...); only status and scale are served. */
  readonly subresources?: readonly string[];
  /** For custom resources: the version's `openAPIV3Schema`, which names list types for field ownership. */
  readonly schema?: Readonly<Record<string, unknown>>;
  /** True for kinds added by a CustomResourceDefinition. */
  readonly custom: boolean;
  /** False for a CRD version with `served: false`: known (stored objects exist) but not requestable. */
  readonly served: boolean;
}

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

/** `apps/v1` for apps, `v1` for the core group. */
export const apiVersionOf = (type: Pick<ResourceType, 'group' | 'version'>): string =>
  type.group === '' ? type.version : `${type.group}/${type.version}`;

/** Splits `apps/v1` into group and version; `v1` is the core group. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** Objects of all versions of one group/resource share storage under this key. */
export const storageKeyOf = (type: Pick<ResourceType, 'group' | 'plural'>): string => `${type.group}/${type.plural}`;

/** One entry of built-in-resources.generated.json (see generate-built-in-resources.mjs). */
export interface GeneratedResource {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
  readonly subresources: readonly string[];
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  /** Associative lists (`{ keys, defaults? }`) and sets (`'set'`) by dot-joined field path. */
  readonly lists: Readonly<Record<string, { readonly keys: readonly string[]; readonly defaults?: Readonly<Record<string, unknown>> } | 'set'>>;
  /** Field paths of maps (or list items) owned and replaced as a whole. */
  readonly atomicMaps: readonly string[];
}

/**
 * Every resource a Kubernetes 1.35 API server serves by default, generated from k8s.io/client-go
 * v0.35 (typed clients for discovery, the structured-merge-diff schema for list and map shapes).
 */
export const GENERATED_RESOURCES: readonly GeneratedResource[] = (
  JSON.parse(readFileSync(new URL('./built-in-resources.generated.json', import.meta.url), 'utf8')) as { resources: GeneratedResource[] }
).resources;

export const BUILT_IN_TYPES: readonly ResourceType[] = GENERATED_RESOURCES.map((entry) => ({
  group: entry.group,
  version: entry.version,
  kind: entry.kind,
  listKind: `${entry.kind}List`,
  plural: entry.plural,
  singular: entry.singular,
  namespaced: entry.namespaced,
  shortNames: entry.shortNames,
  categories: entry.categories,
  verbs: entry.verbs,
  statusSubresource: entry.subresources.includes('status'),
  scaleSubresource: entry.subresources.includes('scale'),
  subresources: entry.subresources,
  custom: false,
  served: true,
}));

/** The core group's namespace type, which other modules refer to often. */
export const NAMESPACES = BUILT_IN_TYPES.find((type) => type.kind === 'Namespace')!;
export const CRDS = BUILT_IN_TYPES.find((type) => type.kind === 'CustomResourceDefinition')!;

/**
 * Kube-aware version order (as discovery lists versions): GA before beta before alpha, higher numbers
 * first within each, then anything else alphabetically. Negative when `a` comes first.
 */
export function compareVersions(a: string, b: string): number {
  const rank = (version: string): [number, number, number] => {
    const match = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(version);
    if (!match) return [3, 0, 0];
    const stability = match[2] === undefined ? 0 : match[2] === 'beta' ? 1 : 2;
    return [stability, -Number(match[1]), -Number(match[3] ?? 0)];
  };
  const [ra, rb] = [rank(a), rank(b)];
  for (let index = 0; index < 3; index += 1) {
    if (ra[index] !== rb[index]) return ra[index]! - rb[index]!;
  }
  return a.localeCompare(b);
}
