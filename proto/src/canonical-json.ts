/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no insignificant whitespace, arrays in order.
 * Two values that are deep-equal as JSON always give the same string, so the string can be hashed.
 *
 * Throws `TypeError` for values JSON cannot represent faithfully (undefined, functions, symbols, bigint,
 * non-finite numbers) instead of silently dropping them as `JSON.stringify` would.
 */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  write(value, parts, '$');
  return parts.join('');
}

function write(value: unknown, out: string[], path: string): void {
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      out.push(JSON.stringify(value));
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${path}: non-finite number has no JSON form`);
      out.push(JSON.stringify(value));
      return;
    case 'object': {
      if (Array.isArray(value)) {
        out.push('[');
        value.forEach((item, i) => {
          if (i > 0) out.push(',');
          write(item, out, `${path}[${i}]`);
        });
        out.push(']');
        return;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      out.push('{');
      let first = true;
      for (const key of keys) {
        if (record[key] === undefined) continue; // absent and undefined are the same document
        if (!first) out.push(',');
        first = false;
        out.push(JSON.stringify(key), ':');
        write(record[key], out, `${path}.${key}`);
      }
      out.push('}');
      return;
    }
    default:
      throw new TypeError(`${path}: ${typeof value} has no JSON form`);
  }
}
