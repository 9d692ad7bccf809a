import { ALL_VERBS, BUILT_IN_TYPES, compareVersions, type ResourceType } from './resource-types.js';
import type { KubeObject } from './types.js';

/** One API group as discovery lists it: versions in kube-aware order, the first preferred. */
export interface ServedGroup {
  readonly name: string;
  readonly versions: readonly string[];
}

interface CustomKinds {
  readonly types: readonly ResourceType[];
  /** Served once the CRD is Established, like a real server. */
  readonly established: boolean;
}

const asRecord = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
const asString = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/**
 * The kinds a CustomResourceDefinition defines, one per version in `spec.versions` (served or not: the
 * registry answers "known" for all and "served" only for `served: true`). Assumes a CRD that passed
 * validation (crd-validation.ts).
 */
export function typesOfCustomResourceDefinition(crd: KubeObject): ResourceType[] {
  const spec = asRecord(crd['spec']);
  const names = asRecord(spec['names']);
  const kind = asString(names['kind']) ?? '';
  const group = asString(spec['group']) ?? '';
  const versions = Array.isArray(spec['versions']) ? spec['versions'].map(asRecord) : [];
  return versions.map((version) => {
    const subresources = asRecord(version['subresources']);
    return {
      group,
      version: asString(version['name']) ?? '',
      kind,
      listKind: asString(names['listKind']) ?? `${kind}List`,
      plural: asString(names['plural']) ?? '',
      singular: asString(names['singular']) ?? kind.toLowerCase(),
      namespaced: spec['scope'] !== 'Cluster',
      shortNames: Array.isArray(names['shortNames']) ? names['shortNames'].filter((name): name is string => typeof name === 'string') : [],
      categories: Array.isArray(names['categories']) ? names['categories'].filter((name): name is string => typeof name === 'string') : [],
      verbs: ALL_VERBS,
      statusSubresource: subresources['status'] !== undefined,
      scaleSubresource: subresources['scale'] !== undefined,
      schema: asRecord(asRecord(version['schema'])['openAPIV3Schema']),
      custom: true,
      served: version['served'] !== false,
    };
  });
}

/** Which kinds exist and which are served right now. Built-ins are always served. */
export class ResourceRegistry {
  private readonly custom = new Map<string, CustomKinds>();

  /** Records (or replaces) the kinds of CRD `crd`; they are served only while `established`. */
  defineCustomResources(crd: KubeObject, established: boolean): void {
    this.custom.set(crd.metadata.name!, { types: typesOfCustomResourceDefinition(crd), established });
  }

  forgetCustomResources(crdName: string): void {
    this.custom.delete(crdName);
  }

  /** Every type that can be requested now. */
  served(): ResourceType[] {
    const custom = [...this.custom.values()].filter((entry) => entry.established).flatMap((entry) => entry.types.filter((type) => type.served));
    return [...BUILT_IN_TYPES, ...custom];
  }

  /** The served type at `/apis/<group>/<version>/<plural>`. */
  servedResource(group: string, version: string, plural: string): ResourceType | undefined {
    return this.served().find((type) => type.group === group && type.version === version && type.plural === plural);
  }

  /** The served type of `kind` in `group/version`. */
  servedKind(group: string, version: string, kind: string): ResourceType | undefined {
    return this.served().find((type) => type.group === group && type.version === version && type.kind === kind);
  }

  /** A type of `group`/`kind`, served or not (for direct test access and cleanup). */
  knownKind(group: string, version: string, kind: string): ResourceType | undefined {
    const all = [...BUILT_IN_TYPES, ...[...this.custom.values()].flatMap((entry) => entry.types)];
    return all.find((type) => type.group === group && type.kind === kind && type.version === version) ?? all.find((type) => type.group === group && type.kind === kind);
  }

  /** Every type, served or not, one per group/resource. */
  knownStorage(): ResourceType[] {
    const all = [...BUILT_IN_TYPES, ...[...this.custom.values()].flatMap((entry) => entry.types)];
    const seen = new Set<string>();
    return all.filter((type) => {
      const key = `${type.group}/${type.plural}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  /** The groups to list in `/apis` (not the core group), each with its served versions in priority order. */
  groups(): ServedGroup[] {
    const versions = new Map<string, Set<string>>();
    for (const type of this.served()) {
      if (type.group === '') continue;
      versions.set(type.group, (versions.get(type.group) ?? new Set()).add(type.version));
    }
    return [...versions.entries()].map(([name, set]) => ({ name, versions: [...set].sort(compareVersions) }));
  }
}
