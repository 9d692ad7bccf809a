import type { JsonMap } from './field-set.js';
import { isMap } from './field-set.js';
import { timestamp, type ObjectApi } from './objects.js';
import { CRDS, NAMESPACES, storageKeyOf, type ResourceType } from './resource-types.js';
import type { ResourceRegistry } from './registry.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { conflict, forbidden, invalid, notFound, type FieldError } from './status.js';
import type { ObjectStore } from './store.js';
import type { KubeObject } from './types.js';

/**
 * Deletion as kube-apiserver and its controllers do it, synchronously:
 * - an object without finalizers goes at once;
 * - an object with finalizers gets `deletionTimestamp` and stays until a write removes the last one;
 * - a Namespace turns Terminating, its contents are deleted, and it goes when it is empty;
 * - a CustomResourceDefinition turns Terminating, its custom resources are deleted, and it goes when
 *   none is left;
 * - when an object goes, the garbage collector deletes its dependents (ownerReferences by uid), or with
 *   `propagationPolicy: Orphan` removes the reference instead.
 */

/** Namespaces the NamespaceLifecycle admission plugin refuses to delete. */
const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

export interface DeleteOptions {
  readonly dryRun: boolean;
  readonly propagationPolicy: PropagationPolicy;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
}

/** The result of a delete: the object (deletion pending, or gone with its final state). */
export interface DeleteResult {
  readonly object: KubeObject;
  /** True when the object is gone; false while finalizers or contents hold it. */
  readonly gone: boolean;
}

const conditionsOf = (status: unknown): JsonMap[] => (isMap(status) && Array.isArray(status['conditions']) ? status['conditions'].filter(isMap) : []);

/** Parses DeleteOptions from the query and an optional body; body values win like the real server's. */
export function parseDeleteOptions(query: URLSearchParams, body: unknown): DeleteOptions {
  const fromBody = isMap(body) ? body : {};
  const policy = (fromBody['propagationPolicy'] ?? query.get('propagationPolicy') ?? 'Background') as string;
  const orphan = fromBody['orphanDependents'] ?? query.get('orphanDependents');
  const dryRun = fromBody['dryRun'] ?? query.getAll('dryRun');
  const errors: FieldError[] = [];
  if (!['Background', 'Foreground', 'Orphan'].includes(policy)) {
    errors.push({ type: 'FieldValueNotSupported', field: 'propagationPolicy', value: policy, detail: 'supported values: "Foreground", "Background", "Orphan"' });
  }
  if (!Array.isArray(dryRun) || dryRun.some((value) => value !== 'All')) errors.push({ type: 'FieldValueNotSupported', field: 'dryRun', value: dryRun, detail: 'supported values: "All"' });
  if (errors.length > 0) throw invalid('meta.k8s.io', 'DeleteOptions', '', errors);
  const preconditions = isMap(fromBody['preconditions']) ? fromBody['preconditions'] : undefined;
  return {
    dryRun: Array.isArray(dryRun) ? dryRun.includes('All') : false,
    propagationPolicy: orphan === true || orphan === 'true' ? 'Orphan' : (policy as PropagationPolicy),
    ...(preconditions === undefined
      ? {}
      : {
          preconditions: {
            ...(typeof preconditions['uid'] === 'string' ? { uid: preconditions['uid'] } : {}),
            ...(typeof preconditions['resourceVersion'] === 'string' ? { resourceVersion: preconditions['resourceVersion'] } : {}),
          },
        }),
  };
}

export class Deleter {
  constructor(
    private readonly api: ObjectApi,
    private readonly store: ObjectStore,
    private readonly registry: ResourceRegistry,
    private readonly now: () => Date,
  ) {
    // A write that removes the last finalizer of an object being deleted completes the deletion.
    api.onWrite((type, _before, after) => {
      if (after !== undefined && after.metadata.deletionTimestamp !== undefined) this.finalizeIfReady(type, after, 'Background');
    });
  }

  delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions): DeleteResult {
    const object = this.api.stored(type, namespace, name);
    if (object === undefined) throw notFound(type, name);
    const { uid, resourceVersion } = options.preconditions ?? {};
    if (uid !== undefined && uid !== object.metadata.uid) {
      throw conflict(type, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${object.metadata.uid}`);
    }
    if (resourceVersion !== undefined && resourceVersion !== object.metadata.resourceVersion) {
      throw conflict(type, name, `Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${object.metadata.resourceVersion}`);
    }
    if (isNamespace(type) && IMMORTAL_NAMESPACES.has(name)) throw forbidden(type, name, 'this namespace may not be deleted');
    if (options.dryRun) return { object: this.api.present(type, object), gone: true };
    return this.deleteStored(type, object, options.propagationPolicy);
  }

  /** DELETE on a collection: every matching object, as a list of what was deleted. */
  deleteCollection(type: ResourceType, namespace: string | undefined, labelSelector: string | undefined, fieldSelector: string | undefined, options: DeleteOptions): KubeObject[] {
    const matchesLabels = parseLabelSelector(labelSelector);
    const matchesFields = parseFieldSelector(fieldSelector, type.kind);
    const targets = this.store.list(storageKeyOf(type), type.namespaced ? namespace : undefined).filter((object) => matchesLabels(object) && matchesFields(object));
    if (options.dryRun) return targets.map((object) => this.api.present(type, object));
    return targets.map((object) => this.deleteStored(type, object, options.propagationPolicy).object);
  }

  private deleteStored(type: ResourceType, object: KubeObject, policy: PropagationPolicy): DeleteResult {
    if (object.metadata.deletionTimestamp !== undefined) return { object: this.api.present(type, object), gone: false };
    const isContainer = isNamespace(type) || isCustomResourceDefinition(type);
    if ((object.metadata.finalizers ?? []).length === 0 && !isContainer) {
      const final = this.api.removeStored(type, object);
      this.afterRemoval(type, object, policy);
      return { object: this.api.present(type, final), gone: true };
    }
    const marked = structuredClone(object);
    marked.metadata.deletionTimestamp = timestamp(this.now());
    marked.metadata.deletionGracePeriodSeconds = 0;
    if (isNamespace(type)) marked['status'] = { ...(isMap(marked['status']) ? marked['status'] : {}), phase: 'Terminating' };
    if (isCustomResourceDefinition(type)) {
      const status = isMap(marked['status']) ? { ...marked['status'] } : {};
      status['conditions'] = [
        ...conditionsOf(status).filter((condition) => condition['type'] !== 'Terminating'),
        { type: 'Terminating', status: 'True', lastTransitionTime: timestamp(this.now()), reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' },
      ];
      marked['status'] = status;
    }
    const stored = this.api.writeSystem(type, object, marked);
    if (isNamespace(type)) this.deleteNamespaceContents(object.metadata.name!);
    if (isCustomResourceDefinition(type)) this.deleteCustomResources(object);
    const current = this.api.stored(type, object.metadata.namespace, object.metadata.name!);
    if (current === undefined) return { object: stored, gone: true };
    this.finalizeIfReady(type, current, policy);
    const after = this.api.stored(type, object.metadata.namespace, object.metadata.name!);
    return after === undefined ? { object: stored, gone: true } : { object: this.api.present(type, after), gone: false };
  }

  /** Removes an object being deleted once nothing holds it: no finalizers, no contents left. */
  private finalizeIfReady(type: ResourceType, object: KubeObject, policy: PropagationPolicy): void {
    if (object.metadata.deletionTimestamp === undefined || (object.metadata.finalizers ?? []).length > 0) return;
    if (this.api.stored(type, object.metadata.namespace, object.metadata.name!)?.metadata.uid !== object.metadata.uid) return;
    if (isNamespace(type) && this.namespaceContents(object.metadata.name!).length > 0) return;
    if (isCustomResourceDefinition(type) && this.customResourcesOf(object).length > 0) return;
    this.api.removeStored(type, object);
    this.afterRemoval(type, object, policy);
  }

  private afterRemoval(type: ResourceType, object: KubeObject, policy: PropagationPolicy): void {
    this.collectDependents(object, policy);
    if (type.namespaced && object.metadata.namespace !== undefined) {
      const namespace = this.store.get(storageKeyOf(NAMESPACES), undefined, object.metadata.namespace);
      if (namespace !== undefined) this.finalizeIfReady(NAMESPACES, namespace, 'Background');
    }
    if (type.custom) {
      const crd = this.store.list(storageKeyOf(CRDS)).find((candidate) => candidate.metadata.name === `${type.plural}.${type.group}`);
      if (crd !== undefined) this.finalizeIfReady(CRDS, crd, 'Background');
    }
  }

  /** The garbage collector: dependents of a removed owner are deleted, or orphaned. */
  private collectDependents(owner: KubeObject, policy: PropagationPolicy): void {
    for (const { storageKey, object } of this.store.entries()) {
      const references = object.metadata.ownerReferences ?? [];
      if (!references.some((reference) => reference.uid === owner.metadata.uid)) continue;
      const type = this.typeOfStorageKey(storageKey);
      if (type === undefined) continue;
      const current = this.store.get(storageKey, object.metadata.namespace, object.metadata.name!);
      if (current === undefined) continue;
      const remaining = references.filter((reference) => reference.uid !== owner.metadata.uid);
      if (policy === 'Orphan' || remaining.length > 0) {
        const updated = structuredClone(current);
        if (remaining.length > 0) updated.metadata.ownerReferences = remaining;
        else delete updated.metadata.ownerReferences;
        this.api.writeSystem(type, current, updated);
      } else {
        this.deleteStored(type, current, 'Background');
      }
    }
  }

  private deleteNamespaceContents(namespace: string): void {
    for (const { type, object } of this.namespaceContents(namespace)) {
      const current = this.store.get(storageKeyOf(type), namespace, object.metadata.name!);
      if (current !== undefined) this.deleteStored(type, current, 'Background');
    }
  }

  private namespaceContents(namespace: string): { type: ResourceType; object: KubeObject }[] {
    return this.registry
      .knownStorage()
      .filter((type) => type.namespaced)
      .flatMap((type) => this.store.list(storageKeyOf(type), namespace).map((object) => ({ type, object })));
  }

  private deleteCustomResources(crd: KubeObject): void {
    for (const { type, object } of this.customResourcesOf(crd)) {
      const current = this.store.get(storageKeyOf(type), object.metadata.namespace, object.metadata.name!);
      if (current !== undefined) this.deleteStored(type, current, 'Background');
    }
  }

  private customResourcesOf(crd: KubeObject): { type: ResourceType; object: KubeObject }[] {
    const spec = isMap(crd['spec']) ? crd['spec'] : {};
    const names = isMap(spec['names']) ? spec['names'] : {};
    const type = this.registry.knownStorage().find((candidate) => candidate.custom && candidate.group === spec['group'] && candidate.plural === names['plural']);
    if (type === undefined) return [];
    return this.store.list(storageKeyOf(type)).map((object) => ({ type, object }));
  }

  private typeOfStorageKey(storageKey: string): ResourceType | undefined {
    return this.registry.knownStorage().find((type) => storageKeyOf(type) === storageKey);
  }
}

const isCustomResourceDefinition = (type: ResourceType): boolean => type.group === CRDS.group && type.kind === CRDS.kind;
const isNamespace = (type: ResourceType): boolean => type.group === '' && type.kind === NAMESPACES.kind;
