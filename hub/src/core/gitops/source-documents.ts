import type { AppSetDocument } from '../app-set/app-set-spec';
import { parseAppSet } from '../app-set/parse-app-set';
import { checkRepoUrl, checkRevision } from '../generators/git-refs';
import { issue, type Issue } from '../issues';
import { parseDuration } from '../rollout/duration';
import { urlCredentials } from '../safety/mask-credentials';
import { LineCounter, parseAllDocuments } from 'yaml';

/**
 * Git sources, the pure half: what a source's settings may be, which files of its tree are read, and
 * how those files become AppSet documents (all valid, or issues that each name file, line and column).
 */

/** Bounds on what one sync reads. */
export interface SourceFileLimits {
  /** Most YAML files read under the path. */
  readonly maxFiles: number;
  /** Largest single file, bytes. */
  readonly maxFileBytes: number;
  /** Most bytes read in all. */
  readonly maxTotalBytes: number;
}

export const DEFAULT_SOURCE_FILE_LIMITS: SourceFileLimits = { maxFiles: 500, maxFileBytes: 1024 * 1024, maxTotalBytes: 16 * 1024 * 1024 };

/** Most AppSets one source may hold. */
export const MAX_SOURCE_APP_SETS = 500;

export const DEFAULT_SOURCE_INTERVAL = '3m';
const MIN_INTERVAL_MS = 5_000;
const MAX_INTERVAL_MS = 24 * 3_600_000;
const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A source's settings as the API receives them. */
export interface SourceSettings {
  readonly name: string;
  readonly repoURL: string;
  readonly revision: string;
  readonly path: string;
  readonly interval: string;
}

/** The settings' issues (path is the input field), and the normalised path and interval when there are none. */
export function checkSourceSettings(settings: SourceSettings): { issues: Issue[]; path: string; intervalSeconds: number } {
  const issues: Issue[] = [];
  if (!NAME.test(settings.name)) issues.push(issue('INVALID_NAME', 'name', 'A Git source name is 1 to 63 lowercase letters, digits and dashes, starting and ending with a letter or digit.'));
  const url = checkRepoUrl(settings.repoURL);
  if (url) issues.push(issue('INVALID_REPO_URL', 'repoURL', `The repository URL ${url}.`));
  else if (urlCredentials(settings.repoURL).length > 0) {
    issues.push(issue('CREDENTIALS_IN_URL', 'repoURL', "The repository URL may not hold credentials: they would be stored and shown. Configure them in the hub's Git setup (a credential helper or an SSH key of the hub's user)."));
  }
  const revision = checkRevision(settings.revision);
  if (revision) issues.push(issue('INVALID_REVISION', 'revision', `The revision ${revision}.`));
  const path = normaliseSourcePath(settings.path);
  if (path === undefined) issues.push(issue('INVALID_PATH', 'path', 'The path is a folder inside the repository: relative, without "..", at most 1024 characters.'));
  const intervalMs = parseDuration(settings.interval);
  if (intervalMs === undefined || intervalMs < MIN_INTERVAL_MS || intervalMs > MAX_INTERVAL_MS) {
    issues.push(issue('INVALID_INTERVAL', 'interval', `The interval is a duration from 5s to 24h (such as "3m" or "1h"); got "${settings.interval.slice(0, 40)}".`));
  }
  return { issues, path: path ?? '', intervalSeconds: Math.round((intervalMs ?? 0) / 1000) };
}

/** A folder of the repository written as stored ('' for the root, no leading or trailing slash), or undefined when it is not one. */
export function normaliseSourcePath(path: string): string | undefined {
  if (path.length > 1024 || path.includes('\0') || path.startsWith('/')) return undefined;
  const segments = path.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.some((segment) => segment === '..')) return undefined;
  return segments.join('/');
}

/** The YAML files of a tree (path → size) under `folder`, in path order, and the ones the limits refuse. */
export function selectSourceFiles(files: ReadonlyMap<string, number>, folder: string, limits: SourceFileLimits): { paths: string[]; refused: string[] } {
  const prefix = folder === '' ? '' : `${folder}/`;
  const yaml = [...files.keys()].filter((file) => file.startsWith(prefix) && /\.ya?ml$/i.test(file)).sort();
  const refused: string[] = [];
  if (yaml.length > limits.maxFiles) refused.push(`The path holds ${yaml.length} YAML files; a source reads at most ${limits.maxFiles}.`);
  const paths: string[] = [];
  let total = 0;
  for (const file of yaml.slice(0, limits.maxFiles)) {
    const size = files.get(file) ?? 0;
    if (size > limits.maxFileBytes) {
      refused.push(`${file} is ${size} bytes; a source file may be at most ${limits.maxFileBytes}.`);
      continue;
    }
    total += size;
    paths.push(file);
  }
  if (total > limits.maxTotalBytes) refused.push(`The YAML files under the path are ${total} bytes in all; a source reads at most ${limits.maxTotalBytes}.`);
  return { paths, refused };
}

/** One AppSet document of a source, and the file it came from. */
export interface SourceDocument {
  readonly file: string;
  readonly document: AppSetDocument;
}

/**
 * The AppSet documents of a source's files. A file may hold several YAML documents (`---`);
 * documents that are not AppSets (no `kind: AppSet`) are left alone, since the same folder often holds
 * the files a `git` generator reads. Every AppSet belongs to the source's project (a document naming
 * another is an issue; one naming none is put in it). Issues carry the file and the line and column
 * within it.
 */
export function collectSourceDocuments(files: readonly { path: string; text: string }[], project: string): { documents: SourceDocument[]; issues: Issue[] } {
  const documents: SourceDocument[] = [];
  const issues: Issue[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    for (const { text, start } of splitDocuments(file.text)) {
      if (!looksLikeAppSet(text)) continue;
      const parsed = parseAppSet(text);
      if (!parsed.ok) {
        issues.push(...parsed.issues.map((found) => ({ ...found, file: file.path })));
        continue;
      }
      const document = parsed.value;
      const named = document.metadata.project;
      if (named !== undefined && named !== project) {
        issues.push({ ...issue('PROJECT_MISMATCH', 'metadata.project', `AppSet "${document.metadata.name}" names project "${named}"; this source applies to project "${project}" only.`), file: file.path, ...start });
        continue;
      }
      const earlier = seen.get(document.metadata.name);
      if (earlier !== undefined) {
        issues.push({ ...issue('DUPLICATE_APPSET', 'metadata.name', `AppSet "${document.metadata.name}" is also defined in ${earlier}.`), file: file.path, ...start });
        continue;
      }
      seen.set(document.metadata.name, file.path);
      documents.push({ file: file.path, document: { ...document, metadata: { ...document.metadata, project } } });
    }
  }
  if (documents.length > MAX_SOURCE_APP_SETS) issues.push(issue('TOO_MANY_APPSETS', '', `The source holds ${documents.length} AppSets; at most ${MAX_SOURCE_APP_SETS}.`));
  return { documents, issues };
}

/**
 * Each YAML document of `text` as a text of its own, in which everything outside the document is
 * blanked (newlines kept), so that lines and columns found in it are those of the file.
 */
function splitDocuments(text: string): { text: string; start: { line: number; column: number } }[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  if (!Array.isArray(docs) || docs.length <= 1) return [{ text, start: { line: 1, column: 1 } }];
  const blank = (part: string) => part.replace(/[^\n]/g, ' ');
  return docs.map((doc, index) => {
    const begin = index === 0 ? 0 : (doc.range?.[0] ?? 0);
    const end = index === docs.length - 1 ? text.length : (docs[index + 1]!.range?.[0] ?? text.length);
    const at = lines.linePos((doc.contents as { range?: readonly number[] } | null)?.range?.[0] ?? begin);
    return { text: blank(text.slice(0, begin)) + text.slice(begin, end) + blank(text.slice(end)), start: { line: at.line, column: at.col } };
  });
}

/** True when the document says it is an AppSet (or cannot be read: its errors are then reported). */
function looksLikeAppSet(text: string): boolean {
  const docs = parseAllDocuments(text, { prettyErrors: false });
  const doc = Array.isArray(docs) ? docs.find((d) => d.contents !== null) : undefined;
  if (!doc) return false;
  if (doc.errors.length > 0) return true;
  try {
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'AppSet';
  } catch {
    return true;
  }
}
