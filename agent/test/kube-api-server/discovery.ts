import { createHash } from 'node:crypto';
import type { ResourceRegistry } from './registry.js';
import { apiVersionOf, type ResourceType } from './resource-types.js';

/**
 * Legacy (unaggregated) discovery documents. kubectl asks for the aggregated form first
 * (`Accept: ...;as=APIGroupDiscoveryList,...,application/json`); answering plain JSON with
 * `Content-Type: application/json` makes it fall back to these, as it does with older servers.
 */

export const SERVER_VERSION = {
  major: '1',
  minor: '35',
  emulationMajor: '1',
  emulationMinor: '35',
  minCompatibilityMajor: '1',
  minCompatibilityMinor: '34',
  gitVersion: 'v1.35.0',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-12-17T00:00:00Z',
  goVersion: 'go1.25.5',
  compiler: 'gc',
  platform: 'linux/amd64',
};

/** The `/version` document of a server reporting `gitVersion` (`v<major>.<minor>.<patch>`); throws on another shape. */
export function serverVersion(gitVersion: string | undefined): typeof SERVER_VERSION {
  if (gitVersion === undefined) return SERVER_VERSION;
  const match = /^v(\d+)\.(\d+)\.(\d+)$/.exec(gitVersion);
  if (!match) throw new Error(`kubernetesVersion must look like v1.35.0; got ${JSON.stringify(gitVersion)}`);
  const [, major, minor] = match;
  return { ...SERVER_VERSION, major: major!, minor: minor!, emulationMajor: major!, emulationMinor: minor!, minCompatibilityMajor: major!, minCompatibilityMinor: String(Math.max(0, Number(minor) - 1)), gitVersion };
}

const storageVersionHash = (type: ResourceType): string =>
  createHash('sha256').update(`${type.group}/${type.version}/${type.kind}`).digest('base64').slice(0, 11);

/** Subresources as kube-apiserver 1.35 lists them: the kind they take (when not the parent's) and verbs. */
const SUBRESOURCES: Readonly<Record<string, { group?: string; version?: string; kind?: string; verbs: readonly string[] }>> = {
  status: { verbs: ['get', 'patch', 'update'] },
  scale: { group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] },
  binding: { kind: 'Binding', verbs: ['create'] },
  eviction: { group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
  log: { verbs: ['get'] },
  proxy: { verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  token: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] },
  finalize: { verbs: ['update'] },
  ephemeralcontainers: { verbs: ['get', 'patch', 'update'] },
  resize: { verbs: ['get', 'patch', 'update'] },
  approval: { verbs: ['get', 'patch', 'update'] },
};

function resourceEntries(type: ResourceType): Record<string, unknown>[] {
  const entries: Record<string, unknown>[] = [
    {
      name: type.plural,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: type.verbs,
      ...(type.shortNames.length > 0 ? { shortNames: type.shortNames } : {}),
      ...(type.categories.length > 0 ? { categories: type.categories } : {}),
      storageVersionHash: storageVersionHash(type),
    },
  ];
  const subresources = type.subresources ?? [...(type.statusSubresource ? ['status'] : []), ...(type.scaleSubresource ? ['scale'] : [])];
  for (const subresource of [...subresources].sort()) {
    const shape = SUBRESOURCES[subresource] ?? { verbs: ['get', 'patch', 'update'] };
    entries.push({ name: `${type.plural}/${subresource}`, singularName: '', namespaced: type.namespaced, ...(shape.group === undefined ? {} : { group: shape.group, version: shape.version }), kind: subresource === 'proxy' ? `${type.kind}ProxyOptions` : (shape.kind ?? type.kind), verbs: shape.verbs });
  }
  return entries;
}

/** `/api/v1` or `/apis/<group>/<version>`; undefined when nothing is served there. */
export function resourceList(registry: ResourceRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const types = registry.served().filter((type) => type.group === group && type.version === version);
  if (types.length === 0 && !(group === '' && version === 'v1')) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources: types.flatMap(resourceEntries) };
}

export function coreVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupDocument(name: string, versions: readonly string[]): Record<string, unknown> {
  const entries = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: entries, preferredVersion: entries[0] };
}

export function groupList(registry: ResourceRegistry): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: registry.groups().map((group) => groupDocument(group.name, group.versions)) };
}

/** `/apis/<group>`; undefined for an unknown group. */
export function group(registry: ResourceRegistry, name: string): Record<string, unknown> | undefined {
  const found = registry.groups().find((candidate) => candidate.name === name);
  return found === undefined ? undefined : { kind: 'APIGroup', apiVersion: 'v1', ...groupDocument(found.name, found.versions) };
}
