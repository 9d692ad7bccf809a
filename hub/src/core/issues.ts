/**
 * A user-facing problem found while checking or evaluating input: returned as data, never thrown.
 * `path` points into the input document (`spec.generators[0].list.elements[2]`), `code` is stable and
 * SCREAMING_CASE, `message` is one sentence for a human and never contains secret values.
 */
export interface Issue {
  readonly code: string;
  readonly path: string;
  readonly message: string;
  /** The file of a Git source the problem is in (lines and columns are then the file's). */
  readonly file?: string;
  /** 1-based line in the submitted document where the problem is, when it has one place there. */
  readonly line?: number;
  /** 1-based column of `line`. */
  readonly column?: number;
  /**
   * How many identical problems this issue stands for (same code and message on several clusters or
   * paths, see `groupIssues`); absent means one.
   */
  readonly count?: number;
  /** For a grouped issue: the first few distinct paths it was found at (`path` is the first). */
  readonly paths?: readonly string[];
  /** For a grouped issue: the first few distinct clusters it was found on. */
  readonly clusters?: readonly string[];
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
