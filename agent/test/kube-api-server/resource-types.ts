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

interface BuiltIn {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  readonly status?: boolean;
  readonly scale?: boolean;
}

const BUILT_INS: readonly BuiltIn[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false, shortNames: ['ns'], status: true },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true, shortNames: ['cm'] },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true, shortNames: ['svc'], categories: ['all'], status: true },
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true, shortNames: ['po'], categories: ['all'], status: true },
  { group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true, shortNames: ['sa'] },
  { group: '', version: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true, shortNames: ['pvc'], status: true },
  { group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'] },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true, shortNames: ['deploy'], categories: ['all'], status: true, scale: true },
  { group: 'apps', version: 'v1', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true, shortNames: ['sts'], categories: ['all'], status: true, scale: true },
  { group: 'apps', version: 'v1', kind: 'DaemonSet', plural: 'daemonsets', namespaced: true, shortNames: ['ds'], categories: ['all'], status: true },
  { group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true, shortNames: ['rs'], categories: ['all'], status: true, scale: true },
  { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', namespaced: true, categories: ['all'], status: true },
  { group: 'batch', version: 'v1', kind: 'CronJob', plural: 'cronjobs', namespaced: true, shortNames: ['cj'], categories: ['all'], status: true },
  { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', plural: 'ingresses', namespaced: true, shortNames: ['ing'], status: true },
  {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    kind: 'CustomResourceDefinition',
    plural: 'customresourcedefinitions',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    status: true,
  },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', plural: 'roles', namespaced: true },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', plural: 'clusterroles', namespaced: false },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', namespaced: false },
];

export const BUILT_IN_TYPES: readonly ResourceType[] = BUILT_INS.map((entry) => ({
  group: entry.group,
  version: entry.version,
  kind: entry.kind,
  listKind: `${entry.kind}List`,
  plural: entry.plural,
  singular: entry.kind.toLowerCase(),
  namespaced: entry.namespaced,
  shortNames: entry.shortNames ?? [],
  categories: entry.categories ?? [],
  verbs: ALL_VERBS,
  statusSubresource: entry.status ?? false,
  scaleSubresource: entry.scale ?? false,
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
