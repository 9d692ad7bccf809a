import { formatPath, type PathSegment } from './field-diff.js';
import { isRecord } from './object-ref.js';

/**
 * Reading and writing one field of an object by its path (the segments of core/kube/field-diff.ts),
 * and reading a path back from its display form. Pure: inputs are never changed.
 */

/** The value at a path: `found` false when a step of the path does not exist. */
export type FieldValue = { readonly found: true; readonly value: unknown } | { readonly found: false };

/**
 * The value at `segments` in `object`. A key step reads a map key (not found on anything but a map
 * holding that key); an item step picks the list item whose `name` equals it (not found on anything
 * but a list holding such an item). The empty path is the object itself.
 */
export function valueAt(object: unknown, segments: readonly PathSegment[]): FieldValue {
  let node: unknown = object;
  for (const segment of segments) {
    if (segment.kind === 'key') {
      if (!isRecord(node) || !Object.prototype.hasOwnProperty.call(node, segment.key)) return { found: false };
      node = node[segment.key];
    } else {
      if (!Array.isArray(node)) return { found: false };
      const item: unknown = node.find((entry) => isRecord(entry) && entry['name'] === segment.name);
      if (item === undefined) return { found: false };
      node = item;
    }
  }
  return { found: true, value: node };
}

/**
 * A copy of `object` with `value` at `segments`, making the maps and named list items on the way
 * (`{}` for a missing map, `{ name }` appended for a missing item; a step through a value of another
 * shape replaces it). Shares the unchanged parts with `object`; `object` is not changed. The empty
 * path gives `value`.
 */
export function withValueAt(object: unknown, segments: readonly PathSegment[], value: unknown): unknown {
  const [first, ...rest] = segments;
  if (first === undefined) return value;
  if (first.kind === 'key') {
    const map = isRecord(object) ? object : {};
    return { ...map, [first.key]: withValueAt(map[first.key], rest, value) };
  }
  const list: unknown[] = Array.isArray(object) ? object : [];
  const index = list.findIndex((entry) => isRecord(entry) && entry['name'] === first.name);
  const item = index >= 0 ? list[index] : { name: first.name };
  const changed = withValueAt(item, rest, value);
  return index >= 0 ? list.map((entry, i) => (i === index ? changed : entry)) : [...list, changed];
}

/**
 * The segments of a path in its display form ({@link formatPath}): keys separated by `.`, a quoted
 * key as `["app.conf"]`, a named list item as `[name=web]`. Undefined when the text is not such a
 * path (empty, an empty key, an unclosed bracket, a bad quoted key). `formatPath(parseFieldPath(p))`
 * gives `p` back for every path formatPath writes.
 */
export function parseFieldPath(text: string): PathSegment[] | undefined {
  const segments: PathSegment[] = [];
  let at = 0;
  while (at < text.length) {
    if (text[at] === '[') {
      const close = text.startsWith('["', at) ? closingOfQuoted(text, at + 1) : text.indexOf(']', at);
      if (close < 0) return undefined;
      const inner = text.slice(at + 1, close);
      if (inner.startsWith('"')) {
        const key = parseQuoted(inner);
        if (key === undefined) return undefined;
        segments.push({ kind: 'key', key });
      } else if (inner.startsWith('name=') && inner.length > 'name='.length) {
        segments.push({ kind: 'item', name: inner.slice('name='.length) });
      } else {
        return undefined;
      }
      at = close + 1;
      if (text[at] === '.') {
        at += 1;
        if (at >= text.length) return undefined;
      }
      continue;
    }
    let end = at;
    while (end < text.length && text[end] !== '.' && text[end] !== '[') end += 1;
    if (end === at) return undefined;
    segments.push({ kind: 'key', key: text.slice(at, end) });
    at = end;
    if (text[at] === '.') {
      at += 1;
      if (at >= text.length) return undefined;
    }
  }
  return segments.length > 0 ? segments : undefined;
}

/** True when `text` reads as a path and writes back the same (so it is the canonical display form). */
export function isCanonicalFieldPath(text: string): boolean {
  const segments = parseFieldPath(text);
  return segments !== undefined && formatPath(segments) === text;
}

// Index of the `]` closing a quoted key that starts at `quoteAt` (the opening `"`), or -1.
function closingOfQuoted(text: string, quoteAt: number): number {
  let at = quoteAt + 1;
  while (at < text.length) {
    if (text[at] === '\\') at += 2;
    else if (text[at] === '"') return text[at + 1] === ']' ? at + 1 : -1;
    else at += 1;
  }
  return -1;
}

function parseQuoted(inner: string): string | undefined {
  try {
    const key: unknown = JSON.parse(inner);
    return typeof key === 'string' ? key : undefined;
  } catch {
    return undefined;
  }
}
