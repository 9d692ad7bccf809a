import picomatch from 'picomatch';
import { isMap, isScalar, isSeq, parseAllDocuments, type Document } from 'yaml';
import type { GitGeneratorSpec, GitPathSpec } from '../app-set/app-set-spec';
import { childPath, issue, type Issue } from '../issues';
import { normalizeName } from '../render/filters';
import type { TemplateRenderer } from '../render/template-renderer';
import { checkRepoUrl, checkRevision, normalizeRepoPath, redactRepoUrl } from './git-refs';
import type { GitInputs, GitTree } from './git-snapshot';
import { targetOf } from './list';
import type { ClusterSnapshot, Evaluated, GitRef, ParamSet } from './param-set';

/** Most YAML alias expansions in one file read from Git (guards against "billion laughs"). */
const MAX_ALIAS_COUNT = 100;

/** What the git generator needs besides its spec. */
export interface GitContext {
  readonly clusters: ReadonlyMap<string, ClusterSnapshot>;
  readonly renderer: TemplateRenderer;
  readonly git: GitInputs;
}

/**
 * `git` generator (Argo CD semantics, with a template language that has objects): over the repository
 * at `revision` (default `HEAD`),
 * - `directories`: one set per directory matching an include glob and no exclude glob, sorted by path.
 *   Parameters: `path.path`, `path.basename`, `path.basenameNormalized`, `path.segments`, `path[n]`.
 * - `files`: one set per object in each matching file (JSON or YAML; a document may be an object or a
 *   list of objects; several documents are allowed), files sorted by path. The object's keys are the
 *   parameters (nested objects stay objects, so `{{ a.b.c }}` and the post-selector's `a.b.c` both
 *   work), plus the path parameters of the file's directory and `path.filename`,
 *   `path.filenameNormalized`. A `cluster` key names the target cluster, as in a `list` element.
 * `pathParamPrefix: p` moves the path parameters to `p.path`; `values` are rendered over each set.
 * Globs use picomatch: `*` stays in one segment, `**` crosses segments, names starting with `.` only
 * match when the glob spells the dot. Excludes win over includes whatever their order.
 *
 * Missing Git input is recorded in `context.git` and yields no sets: the caller reads it and evaluates
 * again. `inherited` (inside a matrix) renders `revision` and the globs, never `repoURL`.
 */
export function evaluateGit(spec: GitGeneratorSpec, path: string, inherited: Readonly<Record<string, unknown>> | undefined, context: GitContext): Evaluated {
  const urlProblem = checkRepoUrl(spec.repoURL);
  if (urlProblem) return failed(issue('INVALID_REPO_URL', childPath(path, 'repoURL'), `repoURL ${urlProblem}.`));
  let effective = spec;
  if (inherited) {
    const { revision, files, directories } = spec;
    const rendered = context.renderer.renderTree({ revision, files, directories }, inherited, path);
    if (rendered.issues.length > 0) return { sets: [], issues: rendered.issues };
    effective = { ...spec, ...(rendered.value as Pick<GitGeneratorSpec, 'revision' | 'files' | 'directories'>) };
  }
  const revision = effective.revision ?? 'HEAD';
  const revisionProblem = checkRevision(revision);
  if (revisionProblem) return failed(issue('INVALID_REVISION', childPath(path, 'revision'), `revision "${revision.slice(0, 80)}" ${revisionProblem}.`));
  const kind = effective.files ? 'files' : 'directories';
  const globs = compileGlobs(effective.files ?? effective.directories ?? [], childPath(path, kind), kind, spec.globbing ?? 'standard');
  if ('issues' in globs) return { sets: [], issues: globs.issues };

  const tree = context.git.tree(spec.repoURL, revision, path);
  if (tree === 'pending') return { sets: [], issues: [] };
  if ('code' in tree) return failed(tree);
  const ref: GitRef = { repoURL: redactRepoUrl(tree.repoURL), revision, commit: tree.commit };
  const selected = (candidates: Iterable<string>) => [...candidates].filter((p) => globs.include(p) && !globs.exclude(p)).sort(compare);
  // Argo CD lists no hidden directory (nor anything under one) to its directory generator.
  const directories = spec.globbing === 'legacy' ? tree.directories.filter((d) => !d.split('/').some((s) => s.startsWith('.'))) : tree.directories;
  return kind === 'files'
    ? evaluateFiles(effective, selected(tree.files.keys()), tree, ref, path, inherited, context)
    : evaluateDirectories(effective, selected(directories), ref, path, inherited, context);
}

function evaluateDirectories(
  spec: GitGeneratorSpec,
  directories: readonly string[],
  ref: GitRef,
  path: string,
  inherited: Readonly<Record<string, unknown>> | undefined,
  context: GitContext,
): Evaluated {
  const sets: ParamSet[] = [];
  const issues: Issue[] = [];
  for (const directory of directories) {
    const params = withPathParams({}, spec.pathParamPrefix, pathParams(directory));
    const set = finish(spec, params, {}, directory, ref, path, inherited, context);
    if ('code' in set) issues.push(set);
    else sets.push(set);
  }
  return { sets, issues };
}

function evaluateFiles(
  spec: GitGeneratorSpec,
  files: readonly string[],
  tree: GitTree,
  ref: GitRef,
  path: string,
  inherited: Readonly<Record<string, unknown>> | undefined,
  context: GitContext,
): Evaluated {
  const sets: ParamSet[] = [];
  const issues: Issue[] = [];
  const reserved = spec.pathParamPrefix ?? 'path';
  for (const file of files) {
    const at = `${path}[${file}]`;
    const text = context.git.file(tree, file, at);
    if (text === 'pending') continue;
    if (typeof text !== 'string') {
      issues.push(text);
      continue;
    }
    const objects = parseObjects(text, file, at);
    if ('code' in objects) {
      issues.push(objects);
      continue;
    }
    // As in Argo CD, a file with nothing in it (empty, comments, empty documents) is one set holding
    // only the path parameters. An empty list (`[]`) is no set.
    if (objects.length === 0 && isBlank(text)) objects.push({});
    const slash = file.lastIndexOf('/');
    const directory = slash === -1 ? '.' : file.slice(0, slash);
    const filename = file.slice(slash + 1);
    objects.forEach((object, index) => {
      const element = objects.length === 1 ? file : `${file}#${index}`;
      const elementPath = `${path}[${element}]`;
      const clash = [reserved, ...(spec.values ? ['values'] : [])].find((key) => Object.prototype.hasOwnProperty.call(object, key));
      if (clash !== undefined) {
        const hint = clash === 'values' ? 'drop the generator values or rename the key' : 'set pathParamPrefix or rename the key';
        issues.push(issue('RESERVED_PARAMETER', elementPath, `${element} defines "${clash}", which the git generator sets (${hint}).`));
        return;
      }
      const target = targetOf(object, context.clusters, childPath(elementPath, 'cluster'));
      if ('code' in target) {
        issues.push(target);
        return;
      }
      const pathObject = { ...pathParams(directory), filename, filenameNormalized: normalizeName(filename) };
      const params = withPathParams(target.params, spec.pathParamPrefix, pathObject);
      const set = finish(spec, params, target.clusterName === undefined ? {} : { clusterName: target.clusterName }, element, ref, path, inherited, context);
      if ('code' in set) issues.push(set);
      else sets.push(set);
    });
  }
  return { sets, issues };
}

/** Adds the rendered `values` and the origin to a set's parameters. */
function finish(
  spec: GitGeneratorSpec,
  params: Record<string, unknown>,
  target: { clusterName?: string },
  element: string,
  ref: GitRef,
  path: string,
  inherited: Readonly<Record<string, unknown>> | undefined,
  context: GitContext,
): ParamSet | Issue {
  const source = `${path}[${element}]`;
  if (spec.values) {
    const rendered = context.renderer.renderTree(spec.values, { ...inherited, ...params }, childPath(path, 'values'));
    const first = rendered.issues[0];
    if (first) return { ...first, message: `${first.message} (${element})` };
    params['values'] = rendered.value;
  }
  return { ...target, params, source, origins: [{ generator: path, element, git: ref }] };
}

/** The Argo CD path parameters of a directory: `path`, `basename`, `basenameNormalized`, `segments`, and `path[n]`. */
function pathParams(directory: string): Record<string, unknown> {
  const segments = directory.split('/');
  const basename = segments[segments.length - 1] ?? directory;
  const out: Record<string, unknown> = { path: directory, basename, basenameNormalized: normalizeName(basename), segments };
  // `{{ path[0] }}` reads key "0" of the object: Argo's flat `path[n]` parameters keep working.
  segments.forEach((segment, index) => (out[String(index)] = segment));
  return out;
}

function withPathParams(params: Readonly<Record<string, unknown>>, prefix: string | undefined, pathObject: Record<string, unknown>): Record<string, unknown> {
  return prefix ? { ...params, [prefix]: { path: pathObject } } : { ...params, path: pathObject };
}

/** The objects of a JSON/YAML file: every document, a list document contributing each of its items. */
function parseObjects(text: string, file: string, at: string): Record<string, unknown>[] | Issue {
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false }) as Document[] | { empty: true };
  const out: Record<string, unknown>[] = [];
  if (!Array.isArray(docs)) return out;
  for (const [index, doc] of docs.entries()) {
    const error = doc.errors[0];
    if (error) return issue('GIT_FILE_INVALID', at, `${file} is not valid YAML or JSON (document ${index}): ${error.message.split('\n')[0]}`);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch {
      return issue('GIT_FILE_INVALID', at, `${file} document ${index} expands too many YAML aliases.`);
    }
    // An empty document (a trailing `---`) holds nothing.
    if (value === null || value === undefined) continue;
    if (!isMap(doc.contents) && !isSeq(doc.contents)) return issue('GIT_FILE_INVALID', at, `${file} document ${index} must be an object or a list of objects.`);
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        return issue('GIT_FILE_INVALID', at, `${file} document ${index} must be an object or a list of objects.`);
      }
      out.push(item as Record<string, unknown>);
    }
  }
  return out;
}

/** True when the YAML text holds no value at all: empty, blank, comments or empty documents only. */
function isBlank(text: string): boolean {
  const docs = parseAllDocuments(text) as Document[] | { empty: true };
  return !Array.isArray(docs) || docs.every((doc) => doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null));
}

interface CompiledGlobs {
  include: (path: string) => boolean;
  exclude: (path: string) => boolean;
}

/**
 * The include and exclude matchers of a generator's globs.
 * - `standard`: picomatch; `*` stays within one segment, `**` crosses, `{a,b}` alternatives, names
 *   starting with `.` only when the glob spells the dot (Argo CD's "new" doublestar globbing, except dots).
 * - `legacy`, files: Argo CD's default, a git pathspec (`git ls-files -- <glob>`): `*` and `**` cross
 *   `/`, no `{a,b}`, dots match, and a glob without wildcards also matches every file under it.
 * - `legacy`, directories: Argo CD's Go `path.Match`: `*` stays within one segment, `**` is `*`, no
 *   `{a,b}` (hidden directories are dropped by the caller, as Argo CD never lists them).
 */
function compileGlobs(entries: readonly GitPathSpec[], path: string, kind: 'files' | 'directories', globbing: 'standard' | 'legacy'): CompiledGlobs | { issues: Issue[] } {
  const include: string[] = [];
  const exclude: string[] = [];
  const issues: Issue[] = [];
  entries.forEach((entry, index) => {
    const normalized = normalizeRepoPath(entry.path);
    if (normalized === undefined) {
      issues.push(issue('INVALID_GIT_PATH', childPath(childPath(path, index), 'path'), `"${entry.path.slice(0, 120)}" must stay inside the repository (no '..').`));
      return;
    }
    (entry.exclude ? exclude : include).push(normalized);
  });
  if (issues.length > 0) return { issues };
  const matcher = (globs: string[]): ((p: string) => boolean) => {
    if (globs.length === 0) return () => false;
    if (globbing === 'standard') return picomatch(globs, { dot: false });
    if (kind === 'directories') return picomatch(globs, { dot: true, noglobstar: true, nobrace: true, noextglob: true });
    const wild = picomatch(globs, { dot: true, bash: true, nobrace: true, noextglob: true });
    const prefixes = globs.filter((g) => !/[*?[]/.test(g)).map((g) => (g === '.' ? '' : `${g}/`));
    return (p) => wild(p) || prefixes.some((prefix) => p.startsWith(prefix));
  };
  return { include: matcher(include), exclude: matcher(exclude) };
}

function failed(one: Issue): Evaluated {
  return { sets: [], issues: [one] };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
