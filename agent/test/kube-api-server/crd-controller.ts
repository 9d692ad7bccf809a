import { isMap, type JsonMap } from './field-set.js';
import type { KindStrategy, ObjectApi } from './objects.js';
import { timestamp } from './objects.js';
import type { ResourceRegistry } from './registry.js';
import { CRDS, type ResourceType } from './resource-types.js';
import { ApiError } from './status.js';
import type { KubeObject } from './types.js';

/**
 * What kube-apiserver's apiextensions controllers do with a CustomResourceDefinition: names are
 * accepted at once (NamesAccepted=True, Established=False/Installing), the kinds become served when
 * the CRD turns Established after `establishDelayMs`, and they stop being served when it is gone.
 */

const conditionsOf = (status: JsonMap): JsonMap[] => (Array.isArray(status['conditions']) ? status['conditions'].filter(isMap) : []);

function isEstablished(crd: KubeObject): boolean {
  const status = isMap(crd['status']) ? crd['status'] : {};
  return conditionsOf(status).some((condition) => condition['type'] === 'Established' && condition['status'] === 'True');
}

function storageVersionOf(crd: KubeObject): string | undefined {
  const spec = isMap(crd['spec']) ? crd['spec'] : {};
  const versions = Array.isArray(spec['versions']) ? spec['versions'].filter(isMap) : [];
  const storage = versions.find((version) => version['storage'] === true)?.['name'];
  return typeof storage === 'string' ? storage : undefined;
}

function acceptedNamesOf(crd: KubeObject): JsonMap {
  const spec = isMap(crd['spec']) ? crd['spec'] : {};
  const names = isMap(spec['names']) ? spec['names'] : {};
  const kind = typeof names['kind'] === 'string' ? names['kind'] : '';
  return {
    ...names,
    kind,
    listKind: names['listKind'] ?? `${kind}List`,
    plural: names['plural'],
    singular: names['singular'] ?? kind.toLowerCase(),
  };
}

export class CustomResourceDefinitionController {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly api: ObjectApi,
    private readonly registry: ResourceRegistry,
    private readonly establishDelayMs: number,
    private readonly now: () => Date,
  ) {
    api.onWrite((type, before, after) => {
      if (type.group !== CRDS.group || type.kind !== CRDS.kind) return;
      if (after === undefined) this.forget(before!);
      else this.observe(after);
    });
  }

  /**
   * The status the API server keeps on every CRD write: names accepted, stored versions recorded. The
   * Established condition is the controller's, written later.
   */
  readonly strategy: KindStrategy = (before, after, scope) => {
    // Only writes to the main resource: status writes and the server's own deletion marks keep theirs.
    if (scope !== 'main') return;
    const now = timestamp(this.now());
    const status: JsonMap = isMap(before?.['status']) ? structuredClone(before['status']) : {};
    const conditions = conditionsOf(status);
    if (!conditions.some((condition) => condition['type'] === 'NamesAccepted')) {
      conditions.push({ type: 'NamesAccepted', status: 'True', lastTransitionTime: now, reason: 'NoConflicts', message: 'no conflicts found' });
      conditions.push({ type: 'Established', status: 'False', lastTransitionTime: now, reason: 'Installing', message: 'the initial names have been accepted' });
    }
    status['conditions'] = conditions;
    status['acceptedNames'] = acceptedNamesOf(after);
    const stored = Array.isArray(status['storedVersions']) ? status['storedVersions'].filter((version): version is string => typeof version === 'string') : [];
    const storage = storageVersionOf(after);
    status['storedVersions'] = storage === undefined || stored.includes(storage) ? stored : [...stored, storage];
    after['status'] = status;
  };

  /** Custom resources of a terminating CRD can be read and deleted, not created. */
  mayCreate(type: ResourceType): boolean {
    if (!type.custom) return true;
    const crd = this.api.stored(CRDS, undefined, `${type.plural}.${type.group}`);
    return crd !== undefined && crd.metadata.deletionTimestamp === undefined;
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private observe(crd: KubeObject): void {
    const name = crd.metadata.name!;
    const established = isEstablished(crd);
    this.registry.defineCustomResources(crd, established);
    if (established || crd.metadata.deletionTimestamp !== undefined || this.timers.has(name) || this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(name);
      this.establish(name);
    }, this.establishDelayMs);
    timer.unref();
    this.timers.set(name, timer);
  }

  private establish(name: string): void {
    const crd = this.api.stored(CRDS, undefined, name);
    if (this.closed || crd === undefined || crd.metadata.deletionTimestamp !== undefined || isEstablished(crd)) return;
    const status: JsonMap = isMap(crd['status']) ? structuredClone(crd['status']) : {};
    status['conditions'] = [
      ...conditionsOf(status).filter((condition) => condition['type'] !== 'Established'),
      { type: 'Established', status: 'True', lastTransitionTime: timestamp(this.now()), reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
    ];
    try {
      this.api.writeStatus(CRDS, crd, status, 'kube-apiserver');
    } catch (error) {
      // The CRD changed meanwhile in a way the API refuses; its next write schedules another attempt.
      if (!(error instanceof ApiError)) throw error;
    }
  }

  private forget(crd: KubeObject): void {
    const name = crd.metadata.name!;
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
    this.registry.forgetCustomResources(name);
  }
}
