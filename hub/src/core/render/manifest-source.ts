import { isMap, parseAllDocuments, type Document } from 'yaml';
import type { ManifestSourceSpec } from '../app-set/app-set-spec';
import { checkRepoUrl, checkRevision, normalizeRepoPath, redactRepoUrl } from '../generators/git-refs';
import type { GitInputs, GitTree } from '../generators/git-snapshot';
import type { GitRef } from '../generators/param-set';
import { childPath, issue, type Issue } from '../issues';

/** One manifest read from Git, with the path its issues are reported at (`spec.template.source[web.yaml#0]`). */
export interface SourcedManifest {
  readonly manifest: Readonly<Record<string, unknown>>;
  readonly path: string;
}

export interface LoadedSource {
  readonly manifests: readonly SourcedManifest[];
  readonly git: GitRef;
}

const MAX_ALIAS_COUNT = 100;
const YAML_FILE = /\.ya?ml$/;

/**
 * Manifests from Git for `spec.template.source` (given with its parameters already rendered): a file,
 * or a directory's `*.yaml`/`*.yml` files (sorted by path; subdirectories only with `recurse`; names
 * starting with `.` skipped), every non-empty document of each an object. Parsed once per (commit,
 * path) for the whole expansion. Missing Git input yields `pending` (recorded in `git`).
 */
export class ManifestSources {
  private readonly parsed = new Map<string, SourcedManifest[] | Issue>();

  constructor(
    private readonly git: GitInputs,
    private readonly at = 'spec.template.source',
  ) {}

  load(source: ManifestSourceSpec): LoadedSource | Issue | 'pending' {
    const urlProblem = checkRepoUrl(source.repoURL);
    if (urlProblem) return issue('INVALID_REPO_URL', childPath(this.at, 'repoURL'), `repoURL ${urlProblem}.`);
    const revision = source.revision ?? 'HEAD';
    const revisionProblem = checkRevision(revision);
    if (revisionProblem) return issue('INVALID_REVISION', childPath(this.at, 'revision'), `revision "${revision.slice(0, 80)}" ${revisionProblem}.`);
    const path = normalizeRepoPath(source.path);
    if (path === undefined) return issue('INVALID_GIT_PATH', childPath(this.at, 'path'), `"${source.path.slice(0, 120)}" must stay inside the repository (no '..').`);
    const tree = this.git.tree(source.repoURL, revision, this.at);
    if (tree === 'pending' || 'code' in tree) return tree;
    const key = `${tree.commit}\u0000${path}\u0000${source.recurse === true}`;
    let manifests = this.parsed.get(key);
    if (manifests === undefined) {
      const read = this.read(tree, path, source.recurse === true);
      if (read === 'pending') return read;
      manifests = read;
      this.parsed.set(key, manifests);
    }
    if ('code' in manifests) return manifests;
    return { manifests, git: { repoURL: redactRepoUrl(tree.repoURL), revision, commit: tree.commit } };
  }

  private read(tree: GitTree, path: string, recurse: boolean): SourcedManifest[] | Issue | 'pending' {
    const files = this.filesAt(tree, path, recurse);
    if ('code' in files) return files;
    const out: SourcedManifest[] = [];
    let pending = false;
    for (const file of files) {
      const text = this.git.file(tree, file, this.at);
      if (text === 'pending') {
        // Keep going so that every missing file is asked for in one round.
        pending = true;
        continue;
      }
      if (typeof text !== 'string') return text;
      const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false }) as Document[] | { empty: true };
      if (!Array.isArray(docs)) continue;
      for (const [index, doc] of docs.entries()) {
        const at = `${this.at}[${file}#${index}]`;
        const error = doc.errors[0];
        if (error) return issue('GIT_FILE_INVALID', at, `${file} is not valid YAML (document ${index}): ${error.message.split('\n')[0]}`);
        let value: unknown;
        try {
          value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
        } catch {
          return issue('GIT_FILE_INVALID', at, `${file} document ${index} expands too many YAML aliases.`);
        }
        // An empty document (a leading or trailing `---`) holds nothing.
        if (value === null || value === undefined) continue;
        if (!isMap(doc.contents)) return issue('GIT_FILE_INVALID', at, `${file} document ${index} must be a Kubernetes object (a mapping).`);
        out.push({ manifest: value as Record<string, unknown>, path: at });
      }
    }
    if (pending) return 'pending';
    if (out.length === 0) return issue('MANIFEST_SOURCE_EMPTY', childPath(this.at, 'path'), `${path} at ${tree.commit.slice(0, 12)} holds no manifests.`);
    return out;
  }

  private filesAt(tree: GitTree, path: string, recurse: boolean): string[] | Issue {
    if (tree.files.has(path)) return [path];
    if (path !== '.' && !tree.directories.includes(path)) {
      return issue('MANIFEST_SOURCE_NOT_FOUND', childPath(this.at, 'path'), `${path} is neither a file nor a directory at ${tree.commit.slice(0, 12)} (revision ${tree.revision}).`);
    }
    const prefix = path === '.' ? '' : `${path}/`;
    return [...tree.files.keys()]
      .filter((file) => {
        if (!file.startsWith(prefix) || !YAML_FILE.test(file)) return false;
        const rest = file.slice(prefix.length).split('/');
        return (recurse || rest.length === 1) && rest.every((segment) => !segment.startsWith('.'));
      })
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}
