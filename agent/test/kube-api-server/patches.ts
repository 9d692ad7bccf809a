import { isMap, itemElement, jsonEqual, type JsonMap } from './field-set.js';
import type { ObjectSchema } from './schema.js';
import { ApiError, badRequest } from './status.js';

/**
 * The non-apply patch types: JSON merge patch (RFC 7386), strategic merge patch (approximated: merge
 * patch, plus keyed lists merged item by item and `$patch: delete|replace` directives), and JSON patch
 * (RFC 6902). Each returns a new object and never mutates its input.
 */

const clone = <T>(value: T): T => structuredClone(value);

/** RFC 7386: maps merge recursively, `null` deletes, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return clone(patch);
  const out: JsonMap = isMap(target) ? { ...target } : {};
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete out[name];
    else out[name] = applyMergePatch(out[name], value);
  }
  return out;
}

/**
 * Strategic merge patch as kubectl sends it: like a merge patch, except that lists kube-apiserver
 * merges by key (containers, env, ports, volumes, conditions, finalizers...) merge item by item, an item
 * with `$patch: delete` removes its counterpart, and `$patch: replace` replaces a map or list whole.
 */
export function applyStrategicMergePatch(schema: ObjectSchema, target: unknown, patch: unknown): unknown {
  const merge = (current: unknown, change: unknown, fieldPath: readonly string[]): unknown => {
    if (isMap(change)) {
      if (change['$patch'] === 'replace') return withoutDirectives(change);
      if (change['$patch'] === 'delete') return undefined;
      const out: JsonMap = isMap(current) ? { ...current } : {};
      for (const [name, value] of Object.entries(change)) {
        if (name.startsWith('$')) continue;
        if (value === null) {
          delete out[name];
          continue;
        }
        const merged = merge(out[name], value, [...fieldPath, name]);
        if (merged === undefined) delete out[name];
        else out[name] = merged;
      }
      return out;
    }
    if (Array.isArray(change)) {
      const shape = schema.listShape(fieldPath);
      if (shape.kind === 'atomic' || !Array.isArray(current)) return change.filter((item) => !(isMap(item) && item['$patch'] !== undefined)).map(withoutDirectives);
      if (change.some((item) => isMap(item) && item['$patch'] === 'replace')) return change.filter((item) => !(isMap(item) && item['$patch'] === 'replace')).map(withoutDirectives);
      const out = [...current];
      for (const item of change) {
        const element = itemElement(shape, isMap(item) ? withoutDirectives(item) : item, fieldPath);
        const index = out.findIndex((existing) => itemElement(shape, existing, fieldPath) === element);
        if (isMap(item) && item['$patch'] === 'delete') {
          if (index >= 0) out.splice(index, 1);
        } else if (index >= 0) {
          out[index] = shape.kind === 'map' ? merge(out[index], item, fieldPath) : clone(item);
        } else {
          out.push(withoutDirectives(item));
        }
      }
      return out;
    }
    return clone(change);
  };
  return merge(target, patch, []);
}

function withoutDirectives<T>(value: T): T {
  if (!isMap(value)) return clone(value);
  const out: JsonMap = {};
  for (const [name, child] of Object.entries(value)) if (!name.startsWith('$')) out[name] = withoutDirectives(child);
  return out as T;
}

interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw badRequest(`invalid JSON pointer ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

const unprocessable = (message: string): ApiError => new ApiError(422, 'Invalid', message, {});

/** RFC 6902 over a copy of `target`; a failing operation (missing path, failed test) is a 422 like the real server's. */
export function applyJsonPatch(target: JsonMap, patch: unknown): JsonMap {
  if (!Array.isArray(patch)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  const operations = patch.map((operation): JsonPatchOperation => {
    if (!isMap(operation) || typeof operation['op'] !== 'string' || typeof operation['path'] !== 'string') {
      throw badRequest('a JSON patch operation needs string "op" and "path"');
    }
    if (!['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(operation['op'])) throw badRequest(`Unexpected kind: ${operation['op']}`);
    return operation as unknown as JsonPatchOperation;
  });
  let document: unknown = clone(target);
  const resolveParent = (tokens: readonly string[], pointer: string): { parent: unknown; last: string } => {
    let parent: unknown = document;
    for (const token of tokens.slice(0, -1)) {
      parent = Array.isArray(parent) ? parent[Number(token)] : isMap(parent) ? parent[token] : undefined;
      if (parent === undefined) throw unprocessable(`jsonpatch: doc is missing path: "${pointer}": missing value`);
    }
    return { parent, last: tokens[tokens.length - 1]! };
  };
  const get = (pointer: string): unknown => {
    const tokens = parsePointer(pointer);
    if (tokens.length === 0) return document;
    const { parent, last } = resolveParent(tokens, pointer);
    const value = Array.isArray(parent) ? parent[Number(last)] : isMap(parent) ? parent[last] : undefined;
    if (value === undefined) throw unprocessable(`jsonpatch: doc is missing path: "${pointer}": missing value`);
    return value;
  };
  const remove = (pointer: string): void => {
    get(pointer);
    const { parent, last } = resolveParent(parsePointer(pointer), pointer);
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete (parent as JsonMap)[last];
  };
  const add = (pointer: string, value: unknown, replace: boolean): void => {
    const tokens = parsePointer(pointer);
    if (tokens.length === 0) {
      document = clone(value);
      return;
    }
    if (replace) get(pointer);
    const { parent, last } = resolveParent(tokens, pointer);
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length) throw unprocessable(`jsonpatch: index out of bounds: "${pointer}"`);
      parent.splice(index, replace ? 1 : 0, clone(value));
    } else if (isMap(parent)) {
      parent[last] = clone(value);
    } else {
      throw unprocessable(`jsonpatch: doc is missing path: "${pointer}": missing value`);
    }
  };
  for (const operation of operations) {
    switch (operation.op) {
      case 'add':
        add(operation.path, operation.value, false);
        break;
      case 'replace':
        add(operation.path, operation.value, true);
        break;
      case 'remove':
        remove(operation.path);
        break;
      case 'move': {
        const value = get(operation.from ?? '');
        remove(operation.from ?? '');
        add(operation.path, value, false);
        break;
      }
      case 'copy':
        add(operation.path, get(operation.from ?? ''), false);
        break;
      case 'test':
        if (!jsonEqual(get(operation.path), operation.value)) throw unprocessable(`jsonpatch: testing value ${operation.path} failed: test failed`);
        break;
    }
  }
  if (!isMap(document)) throw unprocessable('jsonpatch: the patched document is not an object');
  return document;
}
