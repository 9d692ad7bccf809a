/**
 * Secret references in desired state: `((secret:<namespace>/<name>/<key>))` inside any string of a
 * manifest. The hub stores, sends and shows only the reference; the agent resolves it at apply time
 * from a Secret in its own cluster. The grammar is part of the wire contract, so both sides read it
 * from here. It is neither a template (`{{ }}`, `{% %}`) nor Kubernetes' `$(VAR)` expansion, and it is
 * strict (DNS names, a Secret data key), so ordinary manifest text does not match it.
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
const BODY = `\\(\\(secret:(${NAMESPACE})/(${NAME})/(${KEY})\\)\\)`;
/** Every well-formed reference (global: use through the functions below). */
const REFERENCE = new RegExp(BODY, 'g');
const WHOLE = new RegExp(`^${BODY}$`);

/** What a reference starts with: text holding this but no well-formed reference is a typo. */
export const SECRET_REFERENCE_OPENING = '((secret:';

/** The references in `text`, in order of appearance. */
export function findSecretReferences(text: string): SecretReference[] {
  if (!text.includes(SECRET_REFERENCE_OPENING)) return [];
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
  if (!text.includes(SECRET_REFERENCE_OPENING)) return false;
  return text.replace(REFERENCE, '').includes(SECRET_REFERENCE_OPENING);
}

/** `text` with every well-formed reference replaced by what `replace` returns for it. */
export function replaceSecretReferences(text: string, replace: (reference: SecretReference) => string): string {
  if (!text.includes(SECRET_REFERENCE_OPENING)) return text;
  return text.replace(REFERENCE, (...m: string[]) => replace({ text: m[0]!, namespace: m[1]!, name: m[2]!, key: m[3]! }));
}
