import { createHash } from 'node:crypto';
import { parse, stringify } from 'yaml';

/** Most YAML alias expansions `fromYaml` accepts (guards against "billion laughs"). */
const MAX_ALIAS_COUNT = 100;

/**
 * Argo CD's `normalize` (its `SanitizeName`): lowercase, every character outside `[-a-z0-9.]` becomes
 * `-`, at most 253 characters, no leading or trailing `-` or `.` (`Team_B` → `team-b`).
 */
export function normalizeName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^-a-z0-9.]/g, '-')
    .slice(0, 253)
    .replace(/^[-.]+|[-.]+$/g, '');
}

/**
 * Argo CD's `slugify`: `normalize`, then only `[a-z0-9-]` with runs of `-` folded into one, cut to
 * `maxLength` characters (default 50). With `smartTruncate` (default true) the cut falls on the last `-`
 * at or before `maxLength` so that no word is split (a single over-long word is cut at `maxLength`).
 * Never ends with `-`.
 */
export function slugifyName(name: string, maxLength = 50, smartTruncate = true): string {
  const slug = normalizeName(name)
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (maxLength <= 0 || slug.length <= maxLength) return slug;
  let cut = maxLength;
  if (smartTruncate) {
    const dash = slug.lastIndexOf('-', maxLength);
    if (dash > 0) cut = dash;
  }
  return slug.slice(0, cut).replace(/-+$/, '');
}

/**
 * The value at `keys` inside `value` (objects by key, lists by index), or `fallback` when any step is
 * missing or `value` is not an object: Argo CD's (Sprig's) `dig`, written as a filter with the
 * fallback last: `{{ values | dig: 'a', 'b', 'fallback' }}`. Only own properties are read.
 */
export function dig(value: unknown, ...args: unknown[]): unknown {
  if (args.length < 2) throw new Error('dig needs at least one key and a fallback: {{ x | dig: "key", "fallback" }}');
  const fallback = args[args.length - 1];
  let current = value;
  for (const key of args.slice(0, -1)) {
    const name = String(key);
    if (Array.isArray(current) && /^\d+$/.test(name) && Number(name) < current.length) current = current[Number(name)];
    else if (isPlainObject(current) && Object.prototype.hasOwnProperty.call(current, name)) current = current[name];
    else return fallback;
  }
  return current === undefined || current === null ? fallback : current;
}

/** Sprig's `trunc`: the first `length` characters, or with a negative length the last `-length`. */
export function trunc(value: unknown, length: unknown): string {
  const text = asText(value);
  const n = Number(length);
  if (!Number.isInteger(n)) throw new Error(`trunc needs a whole number, not ${JSON.stringify(length)}`);
  if (n >= 0) return text.slice(0, n);
  return text.length > -n ? text.slice(text.length + n) : text;
}

/** Sprig's `b64dec`, except that text that is not base64 is an error rather than an error message in the output. */
export function base64Decode(value: unknown): string {
  const text = asText(value).trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) throw new Error('b64dec: the value is not base64');
  return Buffer.from(text, 'base64').toString('utf8');
}

/** Parses YAML (or JSON) text into a value; an error names the first problem. Aliases are capped. */
export function fromYaml(value: unknown): unknown {
  try {
    return parse(asText(value), { uniqueKeys: true, prettyErrors: false, maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`fromYaml: ${(message.split('\n')[0] ?? message).slice(0, 200)}`);
  }
}

/** YAML text of a value, without a trailing newline (Helm's and Argo CD's `toYaml`). */
export function toYaml(value: unknown): string {
  if (value === undefined) return '';
  return stringify(value, { lineWidth: 0 }).replace(/\n$/, '');
}

/**
 * The filters Flotilla adds to LiquidJS's own, named as Argo CD users know them from Sprig. Pure and
 * deterministic; none reads files, the clock or the environment.
 */
export const ARGO_FILTERS: Readonly<Record<string, (value: unknown, ...args: unknown[]) => unknown>> = {
  normalize: (value) => normalizeName(asText(value)),
  slugify: (value, maxLength, smartTruncate) => slugifyName(asText(value), maxLength === undefined ? 50 : Number(maxLength), smartTruncate === undefined ? true : smartTruncate !== false),
  toYaml: (value) => toYaml(value),
  fromYaml: (value) => fromYaml(value),
  toJson: (value) => JSON.stringify(value ?? null),
  fromJson: (value) => {
    try {
      return JSON.parse(asText(value)) as unknown;
    } catch {
      throw new Error('fromJson: the value is not JSON');
    }
  },
  b64enc: (value) => Buffer.from(asText(value), 'utf8').toString('base64'),
  b64dec: (value) => base64Decode(value),
  trunc: (value, length) => trunc(value, length),
  lower: (value) => asText(value).toLowerCase(),
  upper: (value) => asText(value).toUpperCase(),
  sha256sum: (value) => createHash('sha256').update(asText(value), 'utf8').digest('hex'),
  dig: (value, ...args) => dig(value, ...args),
};

/** A scalar as text; an object or a list is refused rather than printed as `[object Object]`. */
function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') throw new Error(`expected text, got ${Array.isArray(value) ? 'a list' : 'an object'} (use | toJson or | toYaml first)`);
  return String(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
