import { FlotillaError } from '../errors';

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** Throws INVALID_ARGUMENT unless `name` is a DNS-1123 label (the cluster name is used in keys and subjects). */
export function assertClusterName(name: string): void {
  if (name.length > 63 || !NAME.test(name)) {
    throw new FlotillaError('INVALID_ARGUMENT', `Cluster name "${name.slice(0, 80)}" must be a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters.`);
  }
}

/** Throws INVALID_ARGUMENT unless `labels` is a map of valid Kubernetes label keys to valid values. */
export function assertLabels(labels: unknown, field = 'labels'): asserts labels is Record<string, string> {
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
    throw new FlotillaError('INVALID_ARGUMENT', `${field} must be an object of string values.`);
  }
  for (const [key, value] of Object.entries(labels)) {
    if (!isLabelKey(key)) throw new FlotillaError('INVALID_ARGUMENT', `${field}: "${key.slice(0, 80)}" is not a valid Kubernetes label key.`);
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
      throw new FlotillaError('INVALID_ARGUMENT', `${field}.${key} must be a valid Kubernetes label value (at most 63 characters).`);
    }
  }
}

/** Throws INVALID_ARGUMENT unless `values` is a map of strings (free-form, bounded). */
export function assertValues(values: unknown): asserts values is Record<string, string> {
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    throw new FlotillaError('INVALID_ARGUMENT', 'values must be an object of string values.');
  }
  const entries = Object.entries(values);
  if (entries.length > 64) throw new FlotillaError('INVALID_ARGUMENT', 'values may hold at most 64 entries.');
  for (const [key, value] of entries) {
    if (!LABEL_NAME.test(key) || key.length > 63) throw new FlotillaError('INVALID_ARGUMENT', `values: "${key.slice(0, 80)}" is not a valid key.`);
    if (typeof value !== 'string' || value.length > 1024) throw new FlotillaError('INVALID_ARGUMENT', `values.${key} must be a string of at most 1024 characters.`);
  }
}

function isLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  const [prefix, name] = slash === -1 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !LABEL_PREFIX.test(prefix))) return false;
  return name.length > 0 && name.length <= 63 && LABEL_NAME.test(name);
}
