import { SECRET_REFERENCE_OPENING, findSecretReferences, isWholeSecretReference, replaceSecretReferences, type SecretReference } from '@flotilla/proto';
import type { ScopeSpec } from '../desired-state.js';
import { isRecord, type KubeObject } from './object-ref.js';
import { isNamespaceAllowed } from './scope.js';

/**
 * Secret references: `((secret:<namespace>/<name>/<key>))` inside any string of a manifest, replaced at
 * apply time by a value of a Secret in this cluster, so that the hub never holds it. The grammar is the
 * wire contract's (@flotilla/proto).
 *
 * - In a core Secret's `data` (base64), a value must be exactly one reference and becomes the source's
 *   base64 value unchanged (binary data survives).
 * - Anywhere else (`stringData`, a ConfigMap, an env value, part of a URL) each reference becomes the
 *   source value decoded as UTF-8.
 * - The source Secret must be in a namespace the App may use (its own scope and its project's, as for
 *   the objects it applies; with neither scope, only the App's namespace).
 * Problems are value-free: they name the reference, never what it resolves to.
 */

/** `namespace/name` of a referenced Secret: the key of a {@link SecretSources} map. */
export function sourceKey(reference: Pick<SecretReference, 'namespace' | 'name'>): string {
  return `${reference.namespace}/${reference.name}`;
}

/**
 * The Secrets the objects reference, one entry per Secret, sorted by `namespace/name`. Objects are
 * read, never changed.
 */
export function referencedSecrets(bodies: readonly KubeObject[]): SecretReference[] {
  const found = new Map<string, SecretReference>();
  for (const body of bodies) forEachString(body, (text) => findSecretReferences(text).forEach((r) => found.set(sourceKey(r), r)));
  return [...found.values()].sort((a, b) => (sourceKey(a) < sourceKey(b) ? -1 : sourceKey(a) > sourceKey(b) ? 1 : 0));
}

/**
 * The references whose Secret lies outside the namespaces the App may use, each as a value-free
 * problem. `scopes` are the App's own and its project's (either may be absent); with neither, only
 * `appNamespace` is allowed.
 */
export function referencesOutsideScope(references: readonly SecretReference[], scopes: { readonly app?: ScopeSpec | undefined; readonly project?: ScopeSpec | undefined }, appNamespace: string): string[] {
  const problems: string[] = [];
  for (const reference of references) {
    const owners = [scopes.app, scopes.project].filter((s): s is ScopeSpec => s !== undefined);
    const allowed = owners.length === 0 ? reference.namespace === appNamespace : owners.every((s) => isNamespaceAllowed(reference.namespace, s.namespaces, appNamespace));
    if (!allowed) problems.push(`secret reference ${reference.text}: namespace "${reference.namespace}" is outside the App's namespaces`);
  }
  return problems;
}

/** The `data` of each referenced Secret (base64 values) by `namespace/name`; undefined: the Secret does not exist. */
export type SecretSources = ReadonlyMap<string, Readonly<Record<string, string>> | undefined>;

/** The outcome of {@link resolveSecretReferences}. */
export type ResolvedBodies =
  | {
      readonly ok: true;
      /** The bodies with every reference replaced (the same objects where nothing was referenced). */
      readonly bodies: readonly KubeObject[];
      /** Every value put in place (base64 and decoded), to keep out of messages. */
      readonly values: readonly string[];
    }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Replaces every reference in `bodies` with its value from `sources` (see the rules above). Every
 * problem is reported at once and nothing is resolved then: a missing Secret or key, a reference among
 * other text in a Secret's `data`. Never mutates its inputs.
 */
export function resolveSecretReferences(bodies: readonly KubeObject[], sources: SecretSources): ResolvedBodies {
  const problems = new Set<string>();
  const values = new Set<string>();
  const valueOf = (reference: SecretReference, encoded: boolean): string => {
    const data = sources.get(sourceKey(reference));
    if (data === undefined) {
      problems.add(`secret reference ${reference.text}: Secret ${sourceKey(reference)} not found`);
      return '';
    }
    const value = Object.prototype.hasOwnProperty.call(data, reference.key) ? data[reference.key] : undefined;
    if (typeof value !== 'string') {
      problems.add(`secret reference ${reference.text}: Secret ${sourceKey(reference)} has no key "${reference.key}"`);
      return '';
    }
    const shown = encoded ? value : Buffer.from(value, 'base64').toString('utf8');
    values.add(value);
    values.add(shown);
    return shown;
  };
  const replaceIn = (text: string): string => replaceSecretReferences(text, (reference) => valueOf(reference, false));
  const out = bodies.map((body) => {
    if (!hasReference(body)) return body;
    const resolved = mapStrings(body, replaceIn) as Record<string, unknown>;
    if (isCoreSecret(body) && isRecord(body['data'])) {
      const data: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(body['data'])) {
        if (typeof value !== 'string' || !value.includes(SECRET_REFERENCE_OPENING)) data[key] = value;
        else if (isWholeSecretReference(value)) data[key] = valueOf(findSecretReferences(value)[0]!, true);
        else problems.add(`Secret ${String((body['metadata'] as Record<string, unknown> | undefined)?.['name'])} data.${key}: a secret reference in data must be the whole value`);
      }
      resolved['data'] = data;
    }
    return resolved;
  });
  if (problems.size > 0) return { ok: false, problems: [...problems].sort() };
  return { ok: true, bodies: out, values: [...values].filter((v) => v !== '') };
}

/**
 * `message` with every value of `values` replaced by `<redacted>`: a message from the API server
 * about an applied object may echo a field, and a resolved value must not travel to the hub.
 */
export function redactValues(message: string, values: readonly string[]): string {
  let out = message;
  for (const value of [...values].sort((a, b) => b.length - a.length)) if (value.length >= 4 && out.includes(value)) out = out.split(value).join('<redacted>');
  return out;
}

function isCoreSecret(body: KubeObject): boolean {
  return body['kind'] === 'Secret' && body['apiVersion'] === 'v1';
}

function hasReference(body: KubeObject): boolean {
  let found = false;
  forEachString(body, (text) => {
    found ||= text.includes(SECRET_REFERENCE_OPENING);
  });
  return found;
}

function forEachString(node: unknown, visit: (text: string) => void): void {
  if (typeof node === 'string') visit(node);
  else if (Array.isArray(node)) node.forEach((item) => forEachString(item, visit));
  else if (isRecord(node)) Object.values(node).forEach((item) => forEachString(item, visit));
}

function mapStrings(node: unknown, map: (text: string) => string): unknown {
  if (typeof node === 'string') return map(node);
  if (Array.isArray(node)) return node.map((item) => mapStrings(item, map));
  if (isRecord(node)) return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, mapStrings(item, map)]));
  return node;
}
