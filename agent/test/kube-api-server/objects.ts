import { randomUUID } from 'node:crypto';
import { applyDefaults, type Allocator } from './defaults.js';
import { isMap, jsonEqual, type JsonMap } from './field-set.js';
import { decodeManagers, encodeManagers, planApply, recordUpdate, type Manager, type WriteContext, type WriteScope } from './managed-fields.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from './patches.js';
import { checkBody, paginate } from './requests.js';
import { apiVersionOf, NAMESPACES, storageKeyOf, type ResourceType } from './resource-types.js';
import { schemaOf } from './schema.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { ObjectStore } from './store.js';
import {
  alreadyExists,
  ApiError,
  badRequest,
  conflict,
  forbidden,
  invalid,
  notFound,
  STALE_RESOURCE_VERSION,
  unsupportedMediaType,
  type FieldError,
} from './status.js';
import type { KubeObject } from './types.js';
import { validateUpdate } from './immutability.js';
import { validateName, validateObject } from './validation.js';

/**
 * Reads and writes of objects with kube-apiserver's semantics: metadata stamping, optimistic
 * concurrency, status subresource rules, defaulting, validation, generation, field ownership, dry
 * runs, and no-op writes that change nothing (not even resourceVersion). Deletion is in deletion.ts.
 */

export type PatchType = 'apply' | 'merge' | 'strategic' | 'json';

export const PATCH_CONTENT_TYPES: Readonly<Record<string, PatchType>> = {
  'application/apply-patch+yaml': 'apply',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/json-patch+json': 'json',
};

export interface WriteOptions {
  readonly dryRun: boolean;
  /** The request's field manager (query parameter, else derived from the User-Agent). */
  readonly fieldManager: string;
  /** `status` or `scale` for subresource writes. */
  readonly subresource?: string;
}

export interface PatchOptions extends WriteOptions {
  readonly force: boolean;
}

export interface ListOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continueToken?: string;
}

export interface ListResult {
  readonly items: KubeObject[];
  readonly resourceVersion: string;
  readonly continueToken?: string;
  readonly remainingItemCount?: number;
}

/** Reacts to stored writes (CRD registration, finalization); `after` is undefined for a removal. */
export type WriteListener = (type: ResourceType, before: KubeObject | undefined, after: KubeObject | undefined) => void;

/** How a write changes ownership: an Update, an Apply plan, or none (system writes such as deletion marks). */
type Ownership =
  | { readonly kind: 'update'; readonly manager: string; readonly baseline?: Manager[] }
  | { readonly kind: 'apply'; readonly manager: string; readonly finish: (normalized: JsonMap, force: boolean) => Manager[]; readonly force: boolean }
  | { readonly kind: 'none' };

interface Commit {
  readonly type: ResourceType;
  readonly before: KubeObject | undefined;
  readonly after: KubeObject;
  readonly scope: WriteScope;
  readonly subresource: string;
  readonly ownership: Ownership;
  readonly dryRun: boolean;
}

/** Extra normalization of one kind's writes (CRD status bookkeeping). */
export type KindStrategy = (before: KubeObject | undefined, after: KubeObject, scope: WriteScope) => void;

export interface ObjectApiDeps {
  readonly store: ObjectStore;
  readonly allocator: Allocator;
  readonly now: () => Date;
  readonly strategies: Readonly<Record<string, KindStrategy>>;
  /** Whether custom resources of `type` may be created now (false while their CRD terminates). */
  readonly mayCreate: (type: ResourceType) => boolean;
}

export const timestamp = (date: Date): string => `${date.toISOString().slice(0, 19)}Z`;
const GENERATE_NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** An object without the fields no write compares: managedFields and resourceVersion. */
function contentOf(object: KubeObject | undefined): JsonMap {
  if (object === undefined) return {};
  const copy = structuredClone(object) as KubeObject;
  delete copy.metadata.managedFields;
  delete copy.metadata.resourceVersion;
  return copy;
}

/** True when two versions of an object differ at most in resourceVersion. */
function isSameState(a: KubeObject, b: KubeObject): boolean {
  const strip = (object: KubeObject): KubeObject => ({ ...object, metadata: { ...object.metadata, resourceVersion: undefined } });
  return jsonEqual(strip(a), strip(b));
}

/** Everything outside metadata and status: what `generation` tracks. */
function specOf(object: KubeObject): JsonMap {
  const rest: JsonMap = { ...object };
  delete rest['metadata'];
  delete rest['status'];
  delete rest['apiVersion'];
  delete rest['kind'];
  return rest;
}

export class ObjectApi {
  private readonly listeners: WriteListener[] = [];

  constructor(private readonly deps: ObjectApiDeps) {}

  onWrite(listener: WriteListener): void {
    this.listeners.push(listener);
  }

  /** The object as served for `type` (custom resources read through another version get its apiVersion). */
  present(type: ResourceType, object: KubeObject): KubeObject {
    const copy = structuredClone(object);
    copy.apiVersion = apiVersionOf(type);
    copy.kind = type.kind;
    return copy;
  }

  stored(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.deps.store.get(storageKeyOf(type), type.namespaced ? namespace : undefined, name);
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const object = this.stored(type, namespace, name);
    if (object === undefined) throw notFound(type, name);
    return this.present(type, object);
  }

  list(type: ResourceType, namespace: string | undefined, options: ListOptions): ListResult {
    const matchesLabels = parseLabelSelector(options.labelSelector);
    const matchesFields = parseFieldSelector(options.fieldSelector, type.kind);
    const items = this.deps.store.list(storageKeyOf(type), type.namespaced ? namespace : undefined).filter((object) => matchesLabels(object) && matchesFields(object));
    const resourceVersion = String(this.deps.store.resourceVersion);
    const page = paginate(items, options.limit, options.continueToken);
    return { ...page, items: page.items.map((object) => this.present(type, object)), resourceVersion };
  }

  /** POST: creates `body` (with `generateName` when it has no name). */
  create(type: ResourceType, namespace: string | undefined, body: KubeObject, options: WriteOptions): KubeObject {
    const object = checkBody(type, namespace, body, undefined);
    if (!this.deps.mayCreate(type)) throw terminatingDefinition();
    if (object.metadata.name === undefined || object.metadata.name === '') {
      const prefix = object.metadata.generateName;
      if (typeof prefix !== 'string' || prefix === '') throw invalid(type.group, type.kind, '', [{ type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' }]);
      object.metadata.name = this.generateName(type, namespace, prefix);
    }
    if (this.stored(type, namespace, object.metadata.name) !== undefined) throw alreadyExists(type, object.metadata.name);
    return this.commit({ type, before: undefined, after: object, scope: this.scopeOf(type, undefined), subresource: '', ownership: this.updateOwnership(options, object), dryRun: options.dryRun });
  }

  /** PUT of the object or its status: optimistic concurrency on `metadata.resourceVersion` when set. */
  replace(type: ResourceType, namespace: string | undefined, name: string, body: KubeObject, options: WriteOptions): KubeObject {
    const object = checkBody(type, namespace, body, name);
    const before = this.stored(type, namespace, name);
    if (before === undefined) throw notFound(type, name);
    const expected = object.metadata.resourceVersion;
    if (expected !== undefined && expected !== '' && expected !== before.metadata.resourceVersion) throw conflict(type, name, STALE_RESOURCE_VERSION);
    return this.commit({
      type,
      before,
      after: object,
      scope: this.scopeOf(type, options.subresource),
      subresource: options.subresource ?? '',
      ownership: this.updateOwnership(options, object),
      dryRun: options.dryRun,
    });
  }

  /** PATCH of any type; an apply patch creates the object when it is missing. */
  patch(type: ResourceType, namespace: string | undefined, name: string, patchType: PatchType, body: unknown, options: PatchOptions): KubeObject {
    const before = this.stored(type, namespace, name);
    if (patchType === 'apply') return this.apply(type, namespace, name, before, body, options);
    if (before === undefined) throw notFound(type, name);
    if (patchType === 'strategic' && type.custom) {
      throw unsupportedMediaType('application/strategic-merge-patch+json', ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml']);
    }
    const current = this.present(type, before);
    let patched: unknown;
    if (patchType === 'json') patched = applyJsonPatch(current, body);
    else if (!isMap(body)) throw badRequest('the patch is not a JSON object');
    else if (patchType === 'merge') patched = applyMergePatch(current, body);
    else patched = applyStrategicMergePatch(schemaOf(type), current, body);
    const object = checkBody(type, namespace, patched, name);
    const expected = object.metadata.resourceVersion;
    if (expected !== undefined && expected !== before.metadata.resourceVersion) throw conflict(type, name, STALE_RESOURCE_VERSION);
    return this.commit({
      type,
      before,
      after: object,
      scope: this.scopeOf(type, options.subresource),
      subresource: options.subresource ?? '',
      ownership: { kind: 'update', manager: options.fieldManager },
      dryRun: options.dryRun,
    });
  }

  /** A write by the server itself (simulator, CRD controller) to the status subresource, as an Update by `manager`. */
  writeStatus(type: ResourceType, object: KubeObject, status: unknown, manager: string): KubeObject | undefined {
    const before = this.stored(type, object.metadata.namespace, object.metadata.name!);
    if (before === undefined || before.metadata.uid !== object.metadata.uid) return undefined;
    const after = { ...structuredClone(before), status };
    return this.commit({ type, before, after, scope: type.statusSubresource ? 'status' : 'all', subresource: type.statusSubresource ? 'status' : '', ownership: { kind: 'update', manager }, dryRun: false });
  }

  /** A write that changes no ownership (deletion marks, finalization bookkeeping). */
  writeSystem(type: ResourceType, before: KubeObject, after: KubeObject): KubeObject {
    return this.commit({ type, before, after, scope: 'all', subresource: '', ownership: { kind: 'none' }, dryRun: false });
  }

  /** Removes a stored object for good and tells the listeners. */
  removeStored(type: ResourceType, object: KubeObject): KubeObject {
    const final = this.deps.store.remove(storageKeyOf(type), object);
    for (const listener of this.listeners) listener(type, object, undefined);
    return final;
  }

  private apply(type: ResourceType, namespace: string | undefined, name: string, before: KubeObject | undefined, body: unknown, options: PatchOptions): KubeObject {
    if (!isMap(body)) throw badRequest('the apply patch is not an object');
    if (typeof body['apiVersion'] !== 'string' || body['apiVersion'] === '') throw badRequest('invalid object type: apiVersion must be set in the applied configuration');
    if (typeof body['kind'] !== 'string' || body['kind'] === '') throw badRequest('invalid object type: kind must be set in the applied configuration');
    const config = checkBody(type, namespace, body, name);
    if (Array.isArray(config.metadata.managedFields) && config.metadata.managedFields.length > 0) throw badRequest('metadata.managedFields must be nil');
    if (before === undefined && !this.deps.mayCreate(type)) throw terminatingDefinition();
    const expected = config.metadata.resourceVersion;
    if (before !== undefined && expected !== undefined && expected !== before.metadata.resourceVersion) throw conflict(type, name, STALE_RESOURCE_VERSION);
    delete config.metadata.resourceVersion;
    const scope = this.scopeOf(type, options.subresource);
    const applied: JsonMap = structuredClone(config);
    if (scope === 'main') delete applied['status'];
    if (scope === 'status') for (const key of Object.keys(applied)) if (!['apiVersion', 'kind', 'metadata', 'status'].includes(key)) delete applied[key];
    const context = this.writeContext(type, options.fieldManager, options.subresource ?? '', scope);
    const live = contentOf(before === undefined ? undefined : this.present(type, before));
    const plan = planApply(context, before === undefined ? [] : decodeManagers(before.metadata.managedFields), live, applied);
    const merged = plan.merged as KubeObject;
    return this.commit({
      type,
      before,
      after: merged,
      scope,
      subresource: options.subresource ?? '',
      ownership: { kind: 'apply', manager: options.fieldManager, finish: plan.finish, force: options.force },
      dryRun: options.dryRun,
    });
  }

  private writeContext(type: ResourceType, manager: string, subresource: string, scope: WriteScope): WriteContext {
    return { schema: schemaOf(type), manager, apiVersion: apiVersionOf(type), subresource, scope, now: timestamp(this.deps.now()) };
  }

  private updateOwnership(options: WriteOptions, body: KubeObject): Ownership {
    const provided = body.metadata.managedFields;
    return { kind: 'update', manager: options.fieldManager, ...(Array.isArray(provided) ? { baseline: decodeManagers(provided) } : {}) };
  }

  private scopeOf(type: ResourceType, subresource: string | undefined): WriteScope {
    if (subresource === 'status') return 'status';
    return type.statusSubresource ? 'main' : 'all';
  }

  private generateName(type: ResourceType, namespace: string | undefined, prefix: string): string {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      let suffix = '';
      for (let index = 0; index < 5; index += 1) suffix += GENERATE_NAME_ALPHABET[Math.floor(Math.random() * GENERATE_NAME_ALPHABET.length)];
      const name = `${prefix.slice(0, 58)}${suffix}`;
      if (this.stored(type, namespace, name) === undefined) return name;
    }
    throw alreadyExists(type, `${prefix}*`);
  }

  /** Normalizes, validates, assigns ownership and stores a write; returns the served object. */
  private commit(request: Commit): KubeObject {
    const { type, before } = request;
    const object = this.normalize(request);
    const ownership = request.ownership;
    let managers: Manager[];
    switch (ownership.kind) {
      case 'none':
        managers = decodeManagers(before?.metadata.managedFields);
        break;
      case 'update': {
        const context = this.writeContext(type, ownership.manager, request.subresource, request.scope);
        const baseline = ownership.baseline ?? decodeManagers(before?.metadata.managedFields);
        managers = recordUpdate(context, baseline, contentOf(before === undefined ? undefined : this.present(type, before)), contentOf(object));
        break;
      }
      case 'apply':
        managers = ownership.finish(contentOf(object), ownership.force);
        break;
    }
    const encoded = encodeManagers(managers);
    if (encoded.length > 0) object.metadata.managedFields = encoded;
    else delete object.metadata.managedFields;
    // A write that changes nothing is not stored: resourceVersion stays, no watch event.
    if (before !== undefined && isSameState(this.present(type, before), object)) return this.present(type, before);
    if (request.dryRun) {
      if (before !== undefined) object.metadata.resourceVersion = before.metadata.resourceVersion;
      return this.present(type, object);
    }
    const stored = this.deps.store.put(storageKeyOf(type), { ...object, apiVersion: before?.apiVersion ?? object.apiVersion });
    for (const listener of this.listeners) listener(type, before, stored);
    return this.present(type, this.stored(type, stored.metadata.namespace, stored.metadata.name!) ?? stored);
  }

  private normalize(request: Commit): KubeObject {
    const { type, before, scope } = request;
    let object: KubeObject;
    if (scope === 'status' && before !== undefined) {
      object = structuredClone(this.present(type, before));
      const status = (request.after as JsonMap)['status'];
      if (status === undefined) delete object['status'];
      else object['status'] = structuredClone(status);
    } else {
      object = structuredClone(request.after);
      if (scope === 'main') {
        if (before?.['status'] === undefined) delete object['status'];
        else object['status'] = structuredClone(before['status']);
      }
    }
    const now = this.deps.now();
    const metadata = object.metadata;
    if (before === undefined) {
      metadata.uid = randomUUID();
      metadata.creationTimestamp = timestamp(now);
      delete metadata.deletionTimestamp;
      delete metadata.deletionGracePeriodSeconds;
    } else {
      for (const field of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generateName'] as const) {
        if (request.ownership.kind === 'none' && (field === 'deletionTimestamp' || field === 'deletionGracePeriodSeconds')) continue;
        const kept: unknown = before.metadata[field];
        if (kept === undefined) delete metadata[field];
        else (metadata as Record<string, unknown>)[field] = kept;
      }
    }
    delete metadata.resourceVersion;
    delete metadata.selfLink;
    if (metadata.name === undefined) throw invalid(type.group, type.kind, '', [{ type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' }]);
    if (scope !== 'status') applyDefaults(object, before === undefined ? undefined : this.present(type, before), this.deps.allocator);
    this.deps.strategies[`${type.group}/${type.kind}`]?.(before, object, scope);
    metadata.generation = before === undefined ? 1 : jsonEqual(specOf(before), specOf(object)) ? (before.metadata.generation ?? 1) : (before.metadata.generation ?? 1) + 1;
    if (request.ownership.kind !== 'none') this.validate(request, object);
    return object;
  }

  private validate(request: Commit, object: KubeObject): void {
    const { type, before } = request;
    const name = object.metadata.name ?? '';
    const errors: FieldError[] = [...validateName(type, name), ...(request.scope === 'status' ? [] : validateObject(type, object))];
    if (before === undefined && type.namespaced && object.metadata.namespace !== undefined) {
      errors.push(...validateName(NAMESPACES, object.metadata.namespace, 'metadata.namespace'));
    }
    if (before !== undefined && request.scope !== 'status') errors.push(...validateUpdate(type, before, object));
    if (before?.metadata.deletionTimestamp !== undefined) {
      const had = new Set(before.metadata.finalizers ?? []);
      if ((object.metadata.finalizers ?? []).some((finalizer) => !had.has(finalizer))) {
        errors.push({ type: 'FieldValueForbidden', field: 'metadata.finalizers', detail: 'no new finalizers can be added if the object is being deleted' });
      }
    }
    if (errors.length > 0) throw invalid(type.group, type.kind, name, errors);
    if (before === undefined && type.namespaced) this.checkNamespace(type, object);
  }

  /** Creating in a missing or terminating namespace fails like the NamespaceLifecycle admission plugin. */
  private checkNamespace(type: ResourceType, object: KubeObject): void {
    const namespaceName = object.metadata.namespace ?? '';
    const namespace = this.deps.store.get(storageKeyOf(NAMESPACES), undefined, namespaceName);
    if (namespace === undefined) throw notFound(NAMESPACES, namespaceName);
    if (namespace.metadata.deletionTimestamp !== undefined) {
      throw forbidden(type, object.metadata.name ?? '', `unable to create new content in namespace ${namespaceName} because it is being terminated`);
    }
  }
}

const terminatingDefinition = (): ApiError => new ApiError(405, 'MethodNotAllowed', 'create not allowed while custom resource definition is terminating', {});
