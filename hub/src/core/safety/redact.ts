import { isWholeSecretReference } from '../secrets/secret-reference';

/** What a redacted value reads as. */
export const REDACTED = '[redacted]';

/**
 * The last word of a key that names a secret: `password`, `dbPassword`, `db_password`, `api-token`,
 * `clientSecret`, `awsCredentials`. Matched on the key's last word only, so `secret-type`,
 * `tokenTtl`, `passwordPolicy` or a selector's `key` are ordinary keys (Argo CD's own label
 * `argocd.argoproj.io/secret-type` is one).
 */
const SECRET_WORDS = new Set(['password', 'passwd', 'passphrase', 'secret', 'secrets', 'token', 'tokens', 'credential', 'credentials', 'apikey']);
/** Two last words that name a key material: `apiKey`, `privateKey`, `ssh_key`, `accessKey`, `secretKey`. */
const SECRET_KEY_PREFIXES = new Set(['api', 'private', 'ssh', 'access', 'secret', 'signing', 'encryption']);

/** Whether the value under `key` is secret, by the key's last word (see {@link SECRET_WORDS}). */
export function isSecretKey(key: string): boolean {
  const lastSegment = key.split(/[/.]/).pop() ?? key;
  const words = lastSegment
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word.length > 0)
    .map((word) => word.toLowerCase());
  const last = words[words.length - 1];
  if (last === undefined) return false;
  if (SECRET_WORDS.has(last)) return true;
  return last === 'key' && words.length >= 2 && SECRET_KEY_PREFIXES.has(words[words.length - 2]!);
}

/** A reference to a Secret the agent resolves (`((secret:ns/name/key))`) is not secret: it is shown as written. */
function isReference(value: unknown): boolean {
  return typeof value === 'string' && isWholeSecretReference(value);
}

/** Secret formats the hub issues itself (agent bootstrap tokens and credentials). */
const HUB_SECRET = /flt_(boot|agent)_[A-Za-z0-9_-]+/g;

/**
 * Values shorter than this are redacted only where they are a whole value: replacing every `42` inside
 * every string would mangle the output without protecting anything.
 */
const MIN_SUBSTRING_SECRET = 6;

/**
 * A copy of `params` safe to show: the value of every key that names a secret ({@link isSecretKey}; a
 * whole subtree for an object) becomes `"[redacted]"`, and so does every other occurrence of those
 * values or of `knownSecrets` (parameters an AppSet marks secret), whole or inside a longer string (a
 * password copied into a URL by `values`), as does anything shaped like a hub-issued token. Only
 * values of secret keys count: a label such as Argo CD's `argocd.argoproj.io/secret-type: cluster` is
 * not one, so `cluster-addons` stays readable. Never mutates its input.
 */
export function redactParameters(params: Readonly<Record<string, unknown>>, knownSecrets: readonly string[] = []): Record<string, unknown> {
  const secrets = new Set(knownSecrets.filter((s) => s.length > 0));
  collectSecrets(params, false, secrets);
  const long = [...secrets].filter((s) => s.length >= MIN_SUBSTRING_SECRET).sort((a, b) => b.length - a.length);
  const redactString = (text: string): string => {
    if (secrets.has(text)) return REDACTED;
    let out = text.replace(HUB_SECRET, REDACTED);
    for (const secret of long) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  };
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return redactString(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, isSecretKey(key) && !isReference(inner) ? REDACTED : walk(inner)]));
    }
    return value;
  };
  return walk(params) as Record<string, unknown>;
}

function collectSecrets(value: unknown, secret: boolean, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectSecrets(item, secret, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) collectSecrets(inner, secret || isSecretKey(key), out);
  } else if (secret && value !== null && value !== undefined && String(value) !== '' && !isReference(value)) {
    out.add(String(value));
  }
}
