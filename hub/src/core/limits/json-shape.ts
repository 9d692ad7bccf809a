/** Limits on a JSON value received from a client (variables, a request body). */
export interface JsonLimits {
  /** The deepest nesting of objects and arrays; the top-level value is depth 1. */
  readonly maxDepth: number;
  /** An estimate of the value's size in bytes as JSON text (strings and keys by length, other scalars 8). */
  readonly maxBytes: number;
}

/** Why a JSON value was refused. */
export type JsonRefusal = { readonly kind: 'too-deep'; readonly limit: number } | { readonly kind: 'too-large'; readonly limit: number };

/**
 * Walks `value` iteratively (no recursion, so no stack to exhaust) and stops at the first limit
 * exceeded. Strings are counted by UTF-16 length, which is close enough for a limit. Returns undefined
 * when `value` is within both limits. Work is bounded by the value's size up to `maxBytes`.
 */
export function checkJson(value: unknown, limits: JsonLimits): JsonRefusal | undefined {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 1 }];
  let bytes = 0;
  while (pending.length > 0) {
    const { value: item, depth } = pending.pop()!;
    if (item !== null && typeof item === 'object') {
      if (depth > limits.maxDepth) return { kind: 'too-deep', limit: limits.maxDepth };
      bytes += 2;
      if (Array.isArray(item)) {
        for (const element of item) pending.push({ value: element, depth: depth + 1 });
        bytes += item.length;
      } else {
        for (const [key, element] of Object.entries(item)) {
          bytes += key.length + 4;
          pending.push({ value: element, depth: depth + 1 });
        }
      }
    } else {
      bytes += typeof item === 'string' ? item.length + 2 : 8;
    }
    if (bytes > limits.maxBytes) return { kind: 'too-large', limit: limits.maxBytes };
  }
  return undefined;
}

/**
 * The deepest nesting of objects and arrays in JSON text, read character by character without
 * parsing (for text that is still to be parsed, e.g. a query string's `variables`). Brackets inside
 * strings do not count. Stops and returns `limit + 1` as soon as the nesting passes `limit`.
 */
export function jsonTextDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i += 1; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      depth += 1;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return limit + 1;
    } else if (c === 0x7d || c === 0x5d) {
      depth = Math.max(0, depth - 1);
    }
  }
  return deepest;
}
