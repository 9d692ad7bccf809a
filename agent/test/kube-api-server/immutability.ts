import { isMap, jsonEqual, type JsonMap } from './field-set.js';
import type { ResourceType } from './resource-types.js';
import type { FieldError } from './status.js';
import type { KubeObject } from './types.js';

/**
 * The update rules of kube-apiserver's validation that a chart upgrade runs into: fields that may not
 * change once the object exists. Messages are kube-apiserver 1.35's (values printed as JSON rather than
 * Go syntax). Checked on every write to an existing object except writes to `/status`.
 */

const mapOf = (value: unknown): JsonMap => (isMap(value) ? value : {});
const immutable = (field: string, value: unknown): FieldError => ({ type: 'FieldValueInvalid', field, value, detail: 'field is immutable' });

function unchanged(before: JsonMap, after: JsonMap, field: string): FieldError[] {
  return jsonEqual(before[field], after[field]) ? [] : [immutable(`spec.${field}`, after[field] ?? null)];
}

/** Everything of a PVC's spec except `resources.requests` and `volumeAttributesClassName`. */
function pvcSpecWithoutMutable(spec: JsonMap): JsonMap {
  const resources = mapOf(spec['resources']);
  const { requests: _requests, ...otherResources } = resources;
  const { volumeAttributesClassName: _class, resources: _resources, ...rest } = spec;
  return { ...rest, resources: otherResources };
}

/** The errors of changing `before` into `after` (both defaulted); empty when the update is allowed. */
export function validateUpdate(type: ResourceType, before: KubeObject, after: KubeObject): FieldError[] {
  if (type.custom) return [];
  const [beforeSpec, afterSpec] = [mapOf(before['spec']), mapOf(after['spec'])];
  const key = `${type.group}/${type.kind}`;
  switch (key) {
    case 'apps/Deployment':
    case 'apps/StatefulSet':
    case 'apps/DaemonSet':
    case 'apps/ReplicaSet':
      return unchanged(beforeSpec, afterSpec, 'selector');
    case 'batch/Job':
      return [...unchanged(beforeSpec, afterSpec, 'selector'), ...unchanged(beforeSpec, afterSpec, 'template')];
    case '/Service': {
      const was = beforeSpec['clusterIP'];
      if (typeof was !== 'string' || was === '' || jsonEqual(was, afterSpec['clusterIP'])) return [];
      return [{ type: 'FieldValueInvalid', field: 'spec.clusterIPs[0]', value: [afterSpec['clusterIP'] ?? ''], detail: 'may not change once set' }];
    }
    case '/PersistentVolumeClaim':
      return jsonEqual(pvcSpecWithoutMutable(beforeSpec), pvcSpecWithoutMutable(afterSpec))
        ? []
        : [{ type: 'FieldValueForbidden', field: 'spec', detail: 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims' }];
    case '/Secret':
    case '/ConfigMap': {
      if (before['immutable'] !== true) return [];
      const errors: FieldError[] = [];
      if (after['immutable'] !== true) errors.push({ type: 'FieldValueForbidden', field: 'immutable', detail: 'field is immutable when `immutable` is set' });
      for (const field of type.kind === 'Secret' ? ['data'] : ['data', 'binaryData']) {
        if (!jsonEqual(before[field] ?? {}, after[field] ?? {})) errors.push({ type: 'FieldValueForbidden', field, detail: 'field is immutable when `immutable` is set' });
      }
      return errors;
    }
    default:
      return [];
  }
}
