/**
 * Secret references: `((secret:<namespace>/<name>/<key>))` inside any string of a manifest, resolved by
 * the agent at apply time from a Secret in the target cluster. The hub stores, sends and shows only the
 * reference. The syntax is neither a template (`{{ }}`, `{% %}`) nor Kubernetes' `$(VAR)` expansion, and
 * its grammar is strict (DNS names, a Secret data key), so ordinary manifest text does not match it.
 *
 * The agent keeps its own copy of this grammar (agent/src/core/secret-references.ts): hub and agent
 * share only the wire package, and the two are checked by the same table of cases.
 */

/** One reference found in a string. */
export interface SecretReference {
  /** The reference as written, `((secret:ns/name/key))`. */
  readonly text: string;
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
}

const NAMESPACE = '[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?';
const NAME = '[a-z0-9](?:[-.a-z0-9]{0,251}[a-z0-9])?';
const KEY = '[-._a-zA-Z0-9]{1,253}';

/** Every well-formed reference (global: use through {@link findSecretReferences}). */
const REFERENCE = new RegExp(`\\(\\(secret:(${NAMESPACE})/(${NAME})/(${KEY})\\)\\)`, 'g');
const WHOLE = new RegExp(`^\\(\\(secret:(${NAMESPACE})/(${NAME})/(${KEY})\\)\\)$`);
/** What a reference starts with: text holding this but no well-formed reference is a typo. */
const OPENING = '((secret:';

/** The references in `text`, in order of appearance. */
export function findSecretReferences(text: string): SecretReference[] {
  if (!text.includes(OPENING)) return [];
  return [...text.matchAll(REFERENCE)].map((m) => ({ text: m[0], namespace: m[1]!, name: m[2]!, key: m[3]! }));
}

/** True when `text` holds at least one well-formed reference. */
export function hasSecretReference(text: string): boolean {
  return findSecretReferences(text).length > 0;
}

/** True when `text` is exactly one reference and nothing else. */
export function isWholeSecretReference(text: string): boolean {
  return WHOLE.test(text);
}

/**
 * True when `text` opens a reference (`((secret:`) that is not well formed, once the well-formed ones
 * are taken out: a misspelt reference would otherwise be applied as literal text.
 */
export function hasMalformedSecretReference(text: string): boolean {
  if (!text.includes(OPENING)) return false;
  return text.replace(REFERENCE, '').includes(OPENING);
}
