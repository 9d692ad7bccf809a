import { createHash } from 'node:crypto';
import { gitFileKey, gitSourceKey, isGitFailure } from '../core/generators/git-snapshot';
import { checkGitChart, normaliseChartPath } from '../core/helm/git-chart';
import type { GitRepositories } from '../git/git-repositories';

/** A chart directory read from one commit: its regular files (paths relative to the chart) and their digest. */
export interface GitChartFiles {
  readonly commit: string;
  readonly name: string;
  readonly version: string;
  /** `sha256:<hex>` over the sorted (path, sha256 of content) pairs of the directory's files. */
  readonly digest: string;
  readonly files: ReadonlyMap<string, string>;
}

export type GitChartRead = { readonly ok: true; readonly value: GitChartFiles } | { readonly ok: false; readonly code: string; readonly message: string };

/** One file's text, or why it cannot be read (`code` is the issue code). */
export type GitFileRead = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly code: string; readonly message: string };

/**
 * Reads a chart directory of a Git repository through the hub's Git cache (so the FLOTILLA_GIT_* access
 * rules apply): resolves the revision to a commit, takes the regular files under `path` (symlinks and
 * submodules are never listed), bounded by `maxBytes` in total, and checks the chart (Chart.yaml,
 * vendored dependencies) before helm sees it.
 */
export class GitChartReader {
  constructor(private readonly git: GitRepositories) {}

  async read(repoURL: string, revision: string, path: string, maxBytes: number): Promise<GitChartRead> {
    const dir = normaliseChartPath(path);
    if (dir === undefined) return { ok: false, code: 'HELM_GIT_PATH_INVALID', message: `path "${path.slice(0, 200)}" must be a relative directory inside the repository (no "..").` };
    const listed = await this.git.read({ trees: new Map(), files: new Map() }, [{ kind: 'tree', repoURL, revision }]);
    const tree = listed.trees.get(gitSourceKey(repoURL, revision));
    if (tree === undefined) return { ok: false, code: 'GIT_UNAVAILABLE', message: `revision ${revision.slice(0, 100)} could not be read.` };
    if (isGitFailure(tree)) return { ok: false, code: tree.code ?? 'GIT_UNAVAILABLE', message: tree.error };
    const prefix = dir === '.' ? '' : `${dir}/`;
    const paths = [...tree.files.keys()].filter((file) => file.startsWith(prefix)).sort();
    const total = paths.reduce((sum, file) => sum + (tree.files.get(file) ?? 0), 0);
    if (paths.length === 0) return { ok: false, code: 'HELM_GIT_CHART_NOT_FOUND', message: `${dir} holds no files at ${tree.commit.slice(0, 12)}.` };
    if (total > maxBytes) {
      return { ok: false, code: 'HELM_GIT_CHART_TOO_LARGE', message: `${dir} holds ${total} bytes of files at ${tree.commit.slice(0, 12)}; a chart is at most ${maxBytes} bytes (FLOTILLA_HELM_MAX_CHART_MB).` };
    }
    const read = await this.git.read(listed, paths.map((file) => ({ kind: 'file' as const, repoURL, commit: tree.commit, path: file })));
    const files = new Map<string, string>();
    const hash = createHash('sha256');
    for (const file of paths) {
      const text = read.files.get(gitFileKey(tree.commit, file));
      if (text === undefined) return { ok: false, code: 'GIT_UNAVAILABLE', message: `${file} could not be read at ${tree.commit.slice(0, 12)}.` };
      const relative = file.slice(prefix.length);
      files.set(relative, text);
      hash.update(`${relative}\0${createHash('sha256').update(text, 'utf8').digest('hex')}\n`);
    }
    const chart = checkGitChart(files, dir);
    if (!chart.ok) return chart;
    return { ok: true, value: { commit: tree.commit, name: chart.name, version: chart.version, digest: `sha256:${hash.digest('hex')}`, files } };
  }

  /**
   * A values file elsewhere in the repository than the chart (`path` relative to its root, as
   * placeGitValueFile returns it), read at `commit`, the chart's own, so the pin covers it too. A path
   * that is not a regular file at that commit is `HELM_VALUE_FILE_NOT_FOUND`; over `maxBytes`,
   * `HELM_VALUE_FILE_TOO_LARGE`. Messages name the path in the repository, never the repository's URL.
   */
  async readValueFile(repoURL: string, commit: string, path: string, maxBytes: number): Promise<GitFileRead> {
    const listed = await this.git.read({ trees: new Map(), files: new Map() }, [{ kind: 'tree', repoURL, revision: commit }]);
    const tree = listed.trees.get(gitSourceKey(repoURL, commit));
    if (tree === undefined) return { ok: false, code: 'GIT_UNAVAILABLE', message: `commit ${commit.slice(0, 12)} could not be read.` };
    if (isGitFailure(tree)) return { ok: false, code: tree.code ?? 'GIT_UNAVAILABLE', message: tree.error };
    const size = tree.files.get(path);
    if (size === undefined) return { ok: false, code: 'HELM_VALUE_FILE_NOT_FOUND', message: `values file ${path.slice(0, 200)} is not a file of the repository at ${tree.commit.slice(0, 12)}.` };
    if (size > maxBytes) {
      return { ok: false, code: 'HELM_VALUE_FILE_TOO_LARGE', message: `values file ${path.slice(0, 200)} holds ${size} bytes at ${tree.commit.slice(0, 12)}; a values file is at most ${maxBytes} bytes (FLOTILLA_HELM_MAX_CHART_MB).` };
    }
    const read = await this.git.read(listed, [{ kind: 'file', repoURL, commit: tree.commit, path }]);
    const text = read.files.get(gitFileKey(tree.commit, path));
    if (text === undefined) return { ok: false, code: 'GIT_UNAVAILABLE', message: `${path.slice(0, 200)} could not be read at ${tree.commit.slice(0, 12)}.` };
    return { ok: true, value: text };
  }
}
