/**
 * A user-facing problem found while checking or evaluating input: returned as data, never thrown.
 * `path` points into the input document (`spec.generators[0].list.elements[2]`), `code` is stable and
 * SCREAMING_CASE, `message` is one sentence for a human and never contains secret values.
 */
export interface Issue {
  readonly code: string;
  readonly path: string;
  readonly message: string;
}

/** A value or the issues that prevented it. */
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly issues: readonly Issue[] };

/** Builds an issue. */
export function issue(code: string, path: string, message: string): Issue {
  return { code, path, message };
}

/** Joins a path and a key the way issue paths are written (`a.b[0].c`). */
export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}
