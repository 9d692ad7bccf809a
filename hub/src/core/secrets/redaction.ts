import { createHmac } from 'node:crypto';
import { hasSecretReference } from './secret-reference';

/**
 * Turns a secret value into what the hub shows instead. Deterministic for one key, so that a changed
 * value still shows as a changed line in a diff while an unchanged one does not.
 */
export type Marker = (value: string) => string;

/** Shortest key accepted by {@link keyedMarker}, in bytes. */
const MIN_KEY_BYTES = 16;

/**
 * `<redacted:hmac:1a2b3c4d>`: 8 hex digits of HMAC-SHA256 of the value under a per-hub key. Without
 * the key the hash cannot be brute-forced offline (a plain sha256 of a short password could), and
 * 32 bits are plenty to tell two values of one field apart. Throws on a key shorter than 16 bytes.
 */
export function keyedMarker(key: Uint8Array): Marker {
  if (key.length < MIN_KEY_BYTES) throw new Error(`the redaction key must be at least ${MIN_KEY_BYTES} bytes`);
  const copy = Buffer.from(key);
  return (value) => `<redacted:hmac:${createHmac('sha256', copy).update(value, 'utf8').digest('hex').slice(0, 8)}>`;
}

/** `<redacted>`: for messages (issues, conditions), where no diff needs to tell values apart. */
export const PLAIN_MARKER: Marker = () => '<redacted>';

/**
 * Secret values shorter than this are replaced only where they are a whole string: replacing every
 * `42` inside every string would mangle ordinary text without protecting anything.
 */
export const MIN_SUBSTRING_SECRET = 6;

/**
 * `text` with every occurrence of a value of `secrets` replaced by its marker: a whole-string match
 * always, a match inside a longer string for values of {@link MIN_SUBSTRING_SECRET} characters or
 * more (longest first, so a value containing another is replaced whole). Never changes anything else.
 */
export function redactText(text: string, secrets: readonly string[], mark: Marker): string {
  if (secrets.length === 0 || text === '') return text;
  if (secrets.includes(text)) return mark(text);
  let out = text;
  for (const secret of substringSecrets(secrets)) if (out.includes(secret)) out = out.split(secret).join(mark(secret));
  return out;
}

/** A copy of `value` with {@link redactText} applied to every string leaf (keys are left alone). */
export function redactStrings(value: unknown, secrets: readonly string[], mark: Marker): unknown {
  if (secrets.length === 0) return value;
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return redactText(node, secrets, mark);
    if (Array.isArray(node)) return node.map(walk);
    if (node !== null && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([key, inner]) => [key, walk(inner)]));
    return node;
  };
  return walk(value);
}

/** True for a core `v1` `Secret` object (what Kubernetes stores base64 `data` and `stringData` of). */
export function isSecretManifest(manifest: unknown): boolean {
  if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)) return false;
  const { apiVersion, kind } = manifest as Record<string, unknown>;
  return kind === 'Secret' && (apiVersion === 'v1' || apiVersion === undefined);
}

/** The fields of a Secret that hold secret values. */
export const SECRET_DATA_FIELDS = ['data', 'stringData'] as const;

/**
 * A copy of one manifest safe to show: when it is a Secret, every `data` and `stringData` value that is
 * not a secret reference becomes its marker (a reference stays: it is not secret); then every string
 * leaf has the values of `secrets` replaced ({@link redactText}). Other objects keep every other value.
 */
export function redactManifest(manifest: unknown, secrets: readonly string[], mark: Marker): unknown {
  const walked = redactStrings(manifest, secrets, mark);
  if (!isSecretManifest(manifest)) return walked;
  const out = { ...(walked as Record<string, unknown>) };
  const original = manifest as Record<string, unknown>;
  for (const field of SECRET_DATA_FIELDS) {
    const entries = original[field];
    if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) continue;
    out[field] = Object.fromEntries(Object.entries(entries).map(([key, value]) => [key, redactDataValue(value, secrets, mark)]));
  }
  return out;
}

/** A copy of each manifest with {@link redactManifest} applied. */
export function redactManifests(manifests: readonly unknown[], secrets: readonly string[], mark: Marker): unknown[] {
  return manifests.map((manifest) => redactManifest(manifest, secrets, mark));
}

/** True when a Secret `data`/`stringData` value is a literal secret (not empty, no reference in it). */
export function isLiteralSecretValue(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text !== '' && !hasSecretReference(text);
}

function redactDataValue(value: unknown, secrets: readonly string[], mark: Marker): unknown {
  if (!isLiteralSecretValue(value)) return typeof value === 'string' ? redactText(value, secrets, mark) : value;
  return mark(typeof value === 'string' ? value : JSON.stringify(value));
}

function substringSecrets(secrets: readonly string[]): string[] {
  return [...new Set(secrets.filter((s) => s.length >= MIN_SUBSTRING_SECRET))].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
}

/**
 * The staged side of a diff, for values of secret parameters that changed: the old values are not
 * known any more (only the new expansion's are), so every string leaf of `before` whose counterpart in
 * `after` (same object, same path) holds a value of `secrets` and differs from it is shown as the
 * marker of the whole old leaf. A changed secret then reads as a changed line of markers. Objects are
 * matched by apiVersion, kind, namespace and name.
 */
export function redactCounterparts(before: readonly unknown[], after: readonly unknown[], secrets: readonly string[], mark: Marker): unknown[] {
  if (secrets.length === 0) return [...before];
  const holds = (text: string) => secrets.some((s) => text === s || (s.length >= MIN_SUBSTRING_SECRET && text.includes(s)));
  const secretLeaves = new Map<string, string>();
  for (const manifest of after) {
    const id = identityOf(manifest);
    forEachLeaf(manifest, '', (path, text) => {
      if (holds(text)) secretLeaves.set(`${id}\u0000${path}`, text);
    });
  }
  if (secretLeaves.size === 0) return [...before];
  return before.map((manifest) => {
    const id = identityOf(manifest);
    // A Secret's data is marked whole by redactManifest anyway: marking it here would mark it twice.
    const structural = isSecretManifest(manifest) ? SECRET_DATA_FIELDS.map((field) => `.${field}.`) : [];
    return mapLeaves(manifest, '', (path, text) => {
      if (structural.some((prefix) => path.startsWith(prefix))) return text;
      const counterpart = secretLeaves.get(`${id}\u0000${path}`);
      return counterpart !== undefined && counterpart !== text ? mark(text) : text;
    });
  });
}

function identityOf(manifest: unknown): string {
  const m = (manifest ?? {}) as Record<string, unknown>;
  const metadata = (m['metadata'] ?? {}) as Record<string, unknown>;
  return [m['apiVersion'], m['kind'], metadata['namespace'], metadata['name']].map((part) => String(part ?? '')).join('/');
}

function forEachLeaf(node: unknown, path: string, visit: (path: string, text: string) => void): void {
  if (typeof node === 'string') visit(path, node);
  else if (Array.isArray(node)) node.forEach((item, i) => forEachLeaf(item, `${path}[${i}]`, visit));
  else if (node !== null && typeof node === 'object') for (const [key, inner] of Object.entries(node)) forEachLeaf(inner, `${path}.${key}`, visit);
}

function mapLeaves(node: unknown, path: string, map: (path: string, text: string) => string): unknown {
  if (typeof node === 'string') return map(path, node);
  if (Array.isArray(node)) return node.map((item, i) => mapLeaves(item, `${path}[${i}]`, map));
  if (node !== null && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([key, inner]) => [key, mapLeaves(inner, `${path}.${key}`, map)]));
  return node;
}
