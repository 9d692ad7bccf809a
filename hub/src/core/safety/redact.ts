/** What a redacted value reads as. */
export const REDACTED = '[redacted]';

/** Parameter names whose values are treated as secret, at any depth. */
export const SECRET_KEY = /password|secret|token|key|credential/i;

/** Secret formats the hub issues itself (agent bootstrap tokens and credentials). */
const HUB_SECRET = /flt_(boot|agent)_[A-Za-z0-9_-]+/g;

/**
 * Values shorter than this are redacted only where they are a whole value: replacing every `42` inside
 * every string would mangle the output without protecting anything.
 */
const MIN_SUBSTRING_SECRET = 6;

/**
 * A copy of `params` safe to show: the value of every key matching {@link SECRET_KEY} (a whole subtree
 * for an object) becomes `"[redacted]"`, and so does every other occurrence of those values or of
 * `knownSecrets`, whole or inside a longer string (a password copied into a URL by `values`), as does
 * anything shaped like a hub-issued token. Never mutates its input.
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
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, SECRET_KEY.test(key) ? REDACTED : walk(inner)]));
    }
    return value;
  };
  return walk(params) as Record<string, unknown>;
}

function collectSecrets(value: unknown, secret: boolean, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectSecrets(item, secret, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) collectSecrets(inner, secret || SECRET_KEY.test(key), out);
  } else if (secret && value !== null && value !== undefined && String(value) !== '') {
    out.add(String(value));
  }
}
