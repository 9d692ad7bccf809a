import type { SecretsSpec } from '../app-set/app-set-spec';
import { issue, type Issue } from '../issues';
import { isLiteralSecretValue, isSecretManifest, SECRET_DATA_FIELDS } from './redaction';
import type { SecretParameterValue } from './secret-parameters';
import { findSecretReferences, hasMalformedSecretReference, isWholeSecretReference } from './secret-reference';

const HOW =
  'reference a Secret in the target cluster instead, ((secret:<namespace>/<name>/<key>)), resolved by the agent at apply time (see External Secrets or Sealed Secrets to put it there), or set spec.secrets.allowInline: true to store the value on the hub';

/**
 * The secret-handling issues of one rendered App, value-free (messages name objects, keys and paths,
 * never a value), so they can be stored as conditions and echoed safely:
 * - `INLINE_SECRET`: a Secret `data`/`stringData` value, or a parameter marked secret, holds a literal
 *   value while `allowInline` is off (the hub would store it in its database);
 * - `SECRET_REFERENCE_INVALID`: a Secret `data` value holds a reference among other text (data is
 *   base64: a reference there must be the whole value; use `stringData` to embed one in text), or a
 *   string opens a reference (`((secret:`) that is not well formed.
 * Messages leave the cluster out, so the same finding on many clusters is one issue after dedupe.
 * `paths` are the issue paths of the manifests (a Git source's own); default `spec.template.manifests[i]`.
 */
export function checkSecrets(
  manifests: readonly Record<string, unknown>[],
  marked: readonly SecretParameterValue[],
  spec: SecretsSpec | undefined,
  paths: readonly string[] = [],
): Issue[] {
  const issues: Issue[] = [];
  const allowInline = spec?.allowInline === true;
  manifests.forEach((manifest, index) => {
    const at = paths[index] ?? `spec.template.manifests[${index}]`;
    const name = describeObject(manifest);
    for (const path of malformedReferences(manifest, '')) {
      issues.push(issue('SECRET_REFERENCE_INVALID', at, `${name} has a malformed secret reference at ${path}; write ((secret:<namespace>/<name>/<key>)).`));
    }
    if (!isSecretManifest(manifest)) return;
    for (const field of SECRET_DATA_FIELDS) {
      const entries = manifest[field];
      if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) continue;
      for (const [key, value] of Object.entries(entries as Record<string, unknown>)) {
        if (field === 'data' && typeof value === 'string' && findSecretReferences(value).length > 0 && !isWholeSecretReference(value)) {
          issues.push(issue('SECRET_REFERENCE_INVALID', at, `${name} ${field}.${key}: data values are base64, so a secret reference must be the whole value; use stringData to embed one in text.`));
        } else if (!allowInline && isLiteralSecretValue(value)) {
          issues.push(issue('INLINE_SECRET', at, `${name} holds a literal value at ${field}.${key}; ${HOW}.`));
        }
      }
    }
  });
  if (!allowInline) {
    for (const path of [...new Set(marked.map((m) => m.path))]) {
      issues.push(issue('INLINE_SECRET', 'spec.secrets.parameters', `Parameter ${path} is marked secret and has a literal value; ${HOW}.`));
    }
  }
  return issues;
}

function describeObject(manifest: Record<string, unknown>): string {
  const metadata = (manifest['metadata'] ?? {}) as Record<string, unknown>;
  const namespace = typeof metadata['namespace'] === 'string' ? `${metadata['namespace']}/` : '';
  return `${String(manifest['kind'])} ${namespace}${String(metadata['name'])}`;
}

function malformedReferences(value: unknown, path: string): string[] {
  if (typeof value === 'string') return hasMalformedSecretReference(value) ? [path || '(root)'] : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => malformedReferences(item, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([key, inner]) => malformedReferences(inner, path === '' ? key : `${path}.${key}`));
  return [];
}
