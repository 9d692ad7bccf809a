import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { Deleter, parseDeleteOptions } from './deletion.js';
import { coreVersions, group, groupList, resourceList, SERVER_VERSION } from './discovery.js';
import { isMap } from './field-set.js';
import { PATCH_CONTENT_TYPES, type ObjectApi, type PatchType, type WriteOptions } from './objects.js';
import { groupVersionDocument, openApiIndex } from './openapi.js';
import type { ResourceRegistry } from './registry.js';
import { apiVersionOf, type ResourceType } from './resource-types.js';
import { ApiError, badRequest, invalid, methodNotAllowed, statusOf, successStatus, tooLarge, unknownPath, unsupportedMediaType, type FieldError } from './status.js';
import { tableOf, wantsTable } from './table.js';
import type { KubeObject } from './types.js';
import type { WatchHub } from './watch.js';

/**
 * Routes a request to discovery, OpenAPI, or a resource handler, and turns the outcome into a response.
 * Every response (errors included) goes through `respond`, which records it in the request log.
 */

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** What a handler answers: a JSON body with a status, or a watch stream. */
type Outcome = { readonly status: number; readonly body: unknown } | { readonly stream: (response: ServerResponse, onStart: () => void) => void };

interface ResourceRoute {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
}

export interface HttpApiDeps {
  readonly api: ObjectApi;
  readonly deleter: Deleter;
  readonly registry: ResourceRegistry;
  readonly watches: WatchHub;
  readonly serverAddress: () => string;
  /** What `/version` answers. */
  readonly version: typeof SERVER_VERSION;
}

/** An upload this far past the cap is cut off instead of drained. */
const MAX_DRAINED_BYTES = 64 * 1024 * 1024;

/**
 * Reads the body, keeping at most {@link MAX_BODY_BYTES}; throws 413 beyond. An oversized body is
 * drained without being kept, so that the client reads the 413 instead of a reset connection.
 */
export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_DRAINED_BYTES) {
      request.destroy();
      break;
    }
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  if (size > MAX_BODY_BYTES) throw tooLarge(MAX_BODY_BYTES);
  return Buffer.concat(chunks);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`malformed path segment ${JSON.stringify(segment)}`);
  }
}

const mediaTypeOf = (request: IncomingMessage): string => (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();

function decodeJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw badRequest(`the request body could not be decoded: ${(error as Error).message}`);
  }
}

function decodeYaml(body: Buffer): unknown {
  try {
    return parseYaml(body.toString('utf8'), { maxAliasCount: 100 });
  } catch (error) {
    throw badRequest(`error decoding YAML: ${(error as Error).message}`);
  }
}

/** Decodes a create/update body: JSON, or YAML when sent as such. */
function decodeObject(request: IncomingMessage, body: Buffer): unknown {
  const mediaType = mediaTypeOf(request);
  if (mediaType === '' || mediaType === 'application/json' || mediaType === '*/*') return decodeJson(body);
  if (mediaType === 'application/yaml') return decodeYaml(body);
  throw unsupportedMediaType(mediaType, ['application/json', 'application/yaml']);
}

type OptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions';

/** The options of a write, from its query. */
interface RequestOptions {
  readonly dryRun: boolean;
  readonly force: boolean;
  /** The query's fieldManager, else the User-Agent's product name (as kube-apiserver derives it), else "unknown". */
  readonly fieldManager: string;
}

/**
 * Reads and validates the query options of a write as kube-apiserver does (ValidatePatchOptions and
 * friends): every problem at once, as a 422 on `<kind>.meta.k8s.io ""`.
 */
function writeOptionsOf(kind: OptionsKind, request: IncomingMessage, query: URLSearchParams, patchType?: PatchType): RequestOptions {
  const errors: FieldError[] = [];
  const given = query.get('fieldManager') ?? '';
  if (kind === 'PatchOptions' && patchType !== 'apply' && query.has('force')) {
    errors.push({ type: 'FieldValueForbidden', field: 'force', detail: 'may not be specified for non-apply patch' });
  }
  if (kind === 'PatchOptions' && patchType === 'apply' && given === '') errors.push({ type: 'FieldValueRequired', field: 'fieldManager', detail: 'is required for apply patch' });
  if (given.length > 128) errors.push({ type: 'FieldValueTooLong', field: 'fieldManager', detail: 'may not be more than 128 bytes' });
  const dryRun = query.getAll('dryRun');
  if (dryRun.some((value) => value !== 'All')) errors.push({ type: 'FieldValueNotSupported', field: 'dryRun', value: dryRun, detail: 'supported values: "All"' });
  const fieldValidation = query.get('fieldValidation');
  if (fieldValidation !== null && !['', 'Ignore', 'Warn', 'Strict'].includes(fieldValidation)) {
    errors.push({ type: 'FieldValueNotSupported', field: 'fieldValidation', value: fieldValidation, detail: 'supported values: "Ignore", "Strict", "Warn"' });
  }
  const force = query.get('force');
  if (force !== null && !['true', 'false', ''].includes(force)) throw badRequest(`strconv.ParseBool: parsing "${force}": invalid syntax`);
  if (errors.length > 0) throw invalid('meta.k8s.io', kind, '', errors);
  const agent = (request.headers['user-agent'] ?? '').split('/')[0]!.trim();
  return { dryRun: dryRun.length > 0, force: force === 'true', fieldManager: given !== '' ? given : agent === '' ? 'unknown' : agent };
}

export class HttpApi {
  constructor(private readonly deps: HttpApiDeps) {}

  /** Answers one request whose body has been read. */
  handle(request: IncomingMessage, url: URL, body: Buffer): Outcome {
    const method = request.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const segments = path.split('/').filter((segment) => segment !== '').map(decodeSegment);
    const ok = (value: unknown): Outcome => ({ status: 200, body: value });
    const found = (value: unknown): Outcome => {
      if (value === undefined) throw unknownPath();
      return ok(value);
    };
    const isRead = method === 'GET' || method === 'HEAD';
    if (['/healthz', '/livez', '/readyz'].includes(path)) return ok('ok');
    if (path === '/version') return ok(this.deps.version);
    if (segments[0] === 'openapi') {
      if (!isRead) throw methodNotAllowed();
      if (segments[1] === 'v3' && segments.length === 2) return ok(openApiIndex(this.deps.registry));
      if (segments[1] === 'v3' && segments[2] === 'api' && segments.length === 4) return found(groupVersionDocument(this.deps.registry, '', segments[3]!));
      if (segments[1] === 'v3' && segments[2] === 'apis' && segments.length === 5) return found(groupVersionDocument(this.deps.registry, segments[3]!, segments[4]!));
      throw unknownPath();
    }
    if (segments[0] === 'api') {
      if (segments.length === 1) return isRead ? ok(coreVersions(this.deps.serverAddress())) : this.refuse();
      if (segments[1] !== 'v1') throw unknownPath();
      if (segments.length === 2) return isRead ? found(resourceList(this.deps.registry, '', 'v1')) : this.refuse();
      return this.resource(request, url, body, this.route('', 'v1', segments.slice(2)));
    }
    if (segments[0] === 'apis') {
      if (segments.length === 1) return isRead ? ok(groupList(this.deps.registry)) : this.refuse();
      if (segments.length === 2) return isRead ? found(group(this.deps.registry, segments[1]!)) : this.refuse();
      if (segments.length === 3) return isRead ? found(resourceList(this.deps.registry, segments[1]!, segments[2]!)) : this.refuse();
      return this.resource(request, url, body, this.route(segments[1]!, segments[2]!, segments.slice(3)));
    }
    throw unknownPath();
  }

  private refuse(): never {
    throw methodNotAllowed();
  }

  private route(groupName: string, version: string, rest: readonly string[]): ResourceRoute {
    const namespaced = rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'));
    const namespace = namespaced ? rest[1] : undefined;
    const tail = namespaced ? rest.slice(2) : rest;
    if (tail.length === 0 || tail.length > 3) throw unknownPath();
    const type = this.deps.registry.servedResource(groupName, version, tail[0]!);
    if (type === undefined) throw unknownPath();
    if (namespace !== undefined && !type.namespaced) throw unknownPath();
    const name = tail[1];
    if (name !== undefined && type.namespaced && namespace === undefined) throw unknownPath();
    return { type, namespace, name, subresource: tail[2] };
  }

  private resource(request: IncomingMessage, url: URL, body: Buffer, route: ResourceRoute): Outcome {
    const method = request.method ?? 'GET';
    const query = url.searchParams;
    const { type, namespace, name, subresource } = route;
    const { api } = this.deps;
    if (name === undefined) return this.collection(request, query, body, route);
    if (subresource !== undefined && !(subresource === 'status' && type.statusSubresource) && !(subresource === 'scale' && type.scaleSubresource)) throw unknownPath();
    if (subresource === 'scale') return this.scale(request, query, body, route);
    const scoped = (options: RequestOptions): WriteOptions => ({ dryRun: options.dryRun, fieldManager: options.fieldManager, ...(subresource === undefined ? {} : { subresource }) });
    switch (method) {
      case 'GET':
      case 'HEAD': {
        const object = api.get(type, namespace, name);
        return { status: 200, body: wantsTable(request.headers.accept) && subresource === undefined ? tableOf([object], object.metadata.resourceVersion, Date.now()) : object };
      }
      case 'PUT': {
        const options = writeOptionsOf('UpdateOptions', request, query);
        return { status: 200, body: api.replace(type, namespace, name, decodeObject(request, body) as KubeObject, scoped(options)) };
      }
      case 'PATCH': {
        const mediaType = mediaTypeOf(request);
        const patchType = PATCH_CONTENT_TYPES[mediaType];
        if (patchType === undefined) throw unsupportedMediaType(mediaType, Object.keys(PATCH_CONTENT_TYPES));
        const options = writeOptionsOf('PatchOptions', request, query, patchType);
        const patch = patchType === 'apply' ? decodeYaml(body) : decodeJson(body);
        const existed = api.stored(type, namespace, name) !== undefined;
        const result = api.patch(type, namespace, name, patchType, patch, { ...scoped(options), force: options.force });
        return { status: existed || options.dryRun ? 200 : 201, body: result };
      }
      case 'DELETE': {
        if (subresource !== undefined) throw methodNotAllowed();
        const options = parseDeleteOptions(query, body.length > 0 ? decodeJson(body) : undefined);
        const result = this.deps.deleter.delete(type, namespace, name, options);
        if (!result.gone) return { status: 200, body: result.object };
        return { status: 200, body: successStatus({ name, ...(type.group === '' ? {} : { group: type.group }), kind: type.plural, uid: result.object.metadata.uid }) };
      }
      default:
        throw methodNotAllowed();
    }
  }

  private collection(request: IncomingMessage, query: URLSearchParams, body: Buffer, route: ResourceRoute): Outcome {
    const { type, namespace } = route;
    const { api } = this.deps;
    switch (request.method) {
      case 'GET':
      case 'HEAD': {
        const watch = query.get('watch');
        if (watch === '1' || watch === 'true') return { stream: this.deps.watches.prepare({ type, namespace, query }) };
        const limitText = query.get('limit');
        const limit = limitText === null || limitText === '' ? undefined : Number(limitText);
        if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) throw badRequest(`invalid limit: ${limitText}`);
        const result = api.list(type, namespace, {
          ...(query.get('labelSelector') === null ? {} : { labelSelector: query.get('labelSelector')! }),
          ...(query.get('fieldSelector') === null ? {} : { fieldSelector: query.get('fieldSelector')! }),
          ...(limit === undefined ? {} : { limit }),
          ...(query.get('continue') === null ? {} : { continueToken: query.get('continue')! }),
        });
        if (wantsTable(request.headers.accept)) return { status: 200, body: tableOf(result.items, result.resourceVersion, Date.now()) };
        return { status: 200, body: this.listBody(type, result.items, result.resourceVersion, result.continueToken, result.remainingItemCount) };
      }
      case 'POST': {
        if (type.namespaced && namespace === undefined) throw methodNotAllowed();
        const options = writeOptionsOf('CreateOptions', request, query);
        const created = api.create(type, namespace, decodeObject(request, body) as KubeObject, { dryRun: options.dryRun, fieldManager: options.fieldManager });
        return { status: options.dryRun ? 200 : 201, body: created };
      }
      case 'DELETE': {
        const options = parseDeleteOptions(query, body.length > 0 ? decodeJson(body) : undefined);
        const deleted = this.deps.deleter.deleteCollection(type, namespace, query.get('labelSelector') ?? undefined, query.get('fieldSelector') ?? undefined, options);
        return { status: 200, body: this.listBody(type, deleted, undefined) };
      }
      default:
        throw methodNotAllowed();
    }
  }

  /** A list as the real server sends it: built-in kinds' items carry no apiVersion/kind, custom resources' do. */
  private listBody(type: ResourceType, items: KubeObject[], resourceVersion: string | undefined, continueToken?: string, remaining?: number): Record<string, unknown> {
    const served = type.custom
      ? items
      : items.map((item) => {
          const copy: Record<string, unknown> = { ...item };
          delete copy['apiVersion'];
          delete copy['kind'];
          return copy;
        });
    return {
      kind: type.listKind,
      apiVersion: apiVersionOf(type),
      metadata: {
        ...(resourceVersion === undefined ? {} : { resourceVersion }),
        ...(continueToken === undefined ? {} : { continue: continueToken }),
        ...(remaining === undefined ? {} : { remainingItemCount: remaining }),
      },
      items: served,
    };
  }

  /** The `/scale` subresource of workloads: an autoscaling/v1 Scale over `spec.replicas`. */
  private scale(request: IncomingMessage, query: URLSearchParams, body: Buffer, route: ResourceRoute): Outcome {
    const { type, namespace, name } = route;
    const { api } = this.deps;
    const scaleOf = (object: KubeObject): Record<string, unknown> => {
      const spec = isMap(object['spec']) ? object['spec'] : {};
      const status = isMap(object['status']) ? object['status'] : {};
      const matchLabels = isMap(spec['selector']) && isMap(spec['selector']['matchLabels']) ? spec['selector']['matchLabels'] : {};
      const { name: objectName, namespace: objectNamespace, uid, resourceVersion, creationTimestamp } = object.metadata;
      return {
        kind: 'Scale',
        apiVersion: 'autoscaling/v1',
        metadata: { name: objectName, namespace: objectNamespace, uid, resourceVersion, creationTimestamp },
        spec: { replicas: spec['replicas'] ?? 1 },
        status: { replicas: status['replicas'] ?? 0, selector: Object.entries(matchLabels).map(([key, value]) => `${key}=${String(value)}`).join(',') },
      };
    };
    const current = api.get(type, namespace, name!);
    if (request.method === 'GET' || request.method === 'HEAD') return { status: 200, body: scaleOf(current) };
    if (request.method === 'PUT') {
      const options = writeOptionsOf('UpdateOptions', request, query);
      const scale = decodeObject(request, body);
      if (!isMap(scale) || !isMap(scale['spec'])) throw badRequest('the body is not an autoscaling/v1 Scale');
      const expected = isMap(scale['metadata']) ? scale['metadata']['resourceVersion'] : undefined;
      const patch = { metadata: expected === undefined ? {} : { resourceVersion: expected }, spec: { replicas: scale['spec']['replicas'] } };
      return { status: 200, body: scaleOf(api.patch(type, namespace, name!, 'merge', patch, { dryRun: options.dryRun, fieldManager: options.fieldManager, subresource: 'scale', force: false })) };
    }
    if (request.method !== 'PATCH') throw methodNotAllowed();
    const mediaType = mediaTypeOf(request);
    const patchType = PATCH_CONTENT_TYPES[mediaType];
    if (patchType === undefined || patchType === 'apply') throw unsupportedMediaType(mediaType, ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']);
    const options = writeOptionsOf('PatchOptions', request, query, patchType);
    const patch = decodeJson(body);
    const replicasPatch = patchType === 'json' ? patch : { spec: isMap(patch) && isMap(patch['spec']) ? { replicas: patch['spec']['replicas'] } : {} };
    const target = patchType === 'json' ? 'json' : 'merge';
    if (target === 'json' && Array.isArray(patch) && patch.some((operation) => !isMap(operation) || operation['path'] !== '/spec/replicas')) {
      throw new ApiError(422, 'Invalid', 'only /spec/replicas can be patched through the scale subresource', {});
    }
    return { status: 200, body: scaleOf(api.patch(type, namespace, name!, target, replicasPatch, { dryRun: options.dryRun, fieldManager: options.fieldManager, subresource: 'scale', force: false })) };
  }
}

/** Writes an ApiError (or an unexpected error, as 500) as a Status. */
export function errorOutcome(error: unknown): { status: number; body: unknown } {
  if (error instanceof ApiError) return { status: error.code, body: statusOf(error) };
  const internal = new ApiError(500, 'InternalError', `Internal error occurred: ${(error as Error)?.message ?? String(error)}`, {});
  return { status: 500, body: statusOf(internal) };
}
