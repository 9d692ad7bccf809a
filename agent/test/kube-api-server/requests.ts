import { isMap } from './field-set.js';
import { apiVersionOf, type ResourceType } from './resource-types.js';
import { badRequest } from './status.js';
import type { KubeObject } from './types.js';

/** Request-level checks shared by every write, and list pagination. */

/** Checks a request body against the URL and returns a normalized copy; throws 400 as the real server does. */
export function checkBody(type: ResourceType, namespace: string | undefined, body: unknown, urlName: string | undefined): KubeObject {
  if (!isMap(body)) throw badRequest('the request body is not a JSON object');
  const object = structuredClone(body) as KubeObject;
  const expectedVersion = apiVersionOf(type);
  if (object.apiVersion !== undefined && object.apiVersion !== expectedVersion) {
    throw badRequest(`the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${expectedVersion})`);
  }
  if (object.kind !== undefined && object.kind !== type.kind) {
    throw badRequest(`the kind in the data (${String(object.kind)}) does not match the expected kind (${type.kind})`);
  }
  object.apiVersion = expectedVersion;
  object.kind = type.kind;
  if (object.metadata === undefined || object.metadata === null) object.metadata = {};
  if (!isMap(object.metadata)) throw badRequest('metadata must be an object');
  if (urlName !== undefined) {
    if (object.metadata.name === undefined || object.metadata.name === '') object.metadata.name = urlName;
    else if (object.metadata.name !== urlName) throw badRequest(`the name of the object (${object.metadata.name}) does not match the name on the URL (${urlName})`);
  }
  if (type.namespaced) {
    if (object.metadata.namespace !== undefined && object.metadata.namespace !== '' && object.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    object.metadata.namespace = namespace;
  } else {
    delete object.metadata.namespace;
  }
  return object;
}

/** One page of a list (items in namespace/name order) after `continueToken`, at most `limit` long. */
export function paginate(items: readonly KubeObject[], limit: number | undefined, continueToken: string | undefined): { items: KubeObject[]; continueToken?: string; remainingItemCount?: number } {
  const keyOf = (object: KubeObject): string => `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
  const start = continueToken === undefined || continueToken === '' ? undefined : decodeContinue(continueToken);
  const rest = start === undefined ? [...items] : items.filter((object) => keyOf(object) > start);
  if (limit === undefined || limit <= 0 || rest.length <= limit) return { items: rest };
  const page = rest.slice(0, limit);
  return {
    items: page,
    continueToken: Buffer.from(JSON.stringify({ start: keyOf(page[page.length - 1]!) })).toString('base64url'),
    remainingItemCount: rest.length - page.length,
  };
}

function decodeContinue(token: string): string {
  try {
    const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { start?: unknown };
    if (typeof decoded.start === 'string') return decoded.start;
  } catch {
    // Reported below.
  }
  throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}
