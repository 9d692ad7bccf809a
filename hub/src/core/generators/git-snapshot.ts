import type { AppSetSpec, GeneratorSpec } from '../app-set/app-set-spec';
import { issue, type Issue } from '../issues';
import { maskUrlCredentials, urlCredentials } from '../safety/mask-credentials';
import type { GitRef } from './param-set';
import type { KustomizeNeed, KustomizeOutput } from '../kustomize/kustomize-render';
import type { HelmChartNeed, HelmRenderNeed, HelmSnapshot } from '../helm/helm-render';

/**
 * What a service read from Git for one expansion (the resolve half of resolve-then-evaluate). Trees
 * are keyed by {@link gitSourceKey}; file contents by {@link gitFileKey}. Plain data: tests build it by hand.
 */
export interface GitSnapshot {
  readonly trees: ReadonlyMap<string, GitTree | GitFailure>;
  readonly files: ReadonlyMap<string, string>;
  /** Kustomize renders by request key (see core/kustomize): inputs of the expansion like Git reads. */
  readonly kustomize?: ReadonlyMap<string, KustomizeOutput>;
  /** Helm chart pins and renders (see core/helm/helm-render): resolved once per expansion, like Git reads. */
  readonly helm?: HelmSnapshot;
}

/** One repository at one resolved commit: its file and directory listing. */
export interface GitTree extends GitRef {
  /** Every regular file at the commit (symlinks and submodules left out) → its size in bytes. */
  readonly files: ReadonlyMap<string, number>;
  /** Every directory at the commit, relative to the root, without a trailing `/`. */
  readonly directories: readonly string[];
}

/** A repository or revision that could not be read; `error` is already free of credentials. */
export interface GitFailure {
  readonly repoURL: string;
  readonly revision: string;
  readonly error: string;
  /** The issue code: `GIT_REPO_NOT_ALLOWED` when the hub's configuration refuses the repository; default `GIT_UNAVAILABLE`. */
  readonly code?: string;
}

/**
 * Why a fetch failed, as an AppSet author reads it, whatever the reason: a refused connection, an
 * unreachable or unknown host, a timeout, a missing repository, denied credentials and an unknown
 * revision all read the same, so that AppSets cannot be used to probe hosts, ports or paths. The
 * reason is in the hub's log.
 */
export const GIT_NOT_REACHABLE = "the repository is not reachable or not found, access was denied, or the revision is not in it (the reason is in the hub's log)";

/** Something the evaluation needed and the snapshot did not hold: the service reads it and evaluates again. */
export type GitNeed =
  | { readonly kind: 'tree'; readonly repoURL: string; readonly revision: string }
  | { readonly kind: 'file'; readonly repoURL: string; readonly commit: string; readonly path: string }
  | KustomizeNeed
  | HelmChartNeed
  | HelmRenderNeed;

export const EMPTY_GIT_SNAPSHOT: GitSnapshot = { trees: new Map(), files: new Map() };

/** Caps on what one expansion may read from Git. */
export interface GitLimits {
  /** Most distinct (repository, revision) pairs. */
  readonly maxGitSources: number;
  /** Largest file read (generator file or manifest file), in bytes. */
  readonly maxGitFileBytes: number;
  /** Most bytes read from Git in total. */
  readonly maxGitReadBytes: number;
}

export const DEFAULT_GIT_LIMITS: GitLimits = { maxGitSources: 16, maxGitFileBytes: 1024 * 1024, maxGitReadBytes: 32 * 1024 * 1024 };

export function gitSourceKey(repoURL: string, revision: string): string {
  return `${repoURL}\u0000${revision}`;
}

export function gitFileKey(commit: string, path: string): string {
  return `${commit}\u0000${path}`;
}

export function isGitFailure(value: GitTree | GitFailure): value is GitFailure {
  return 'error' in value;
}

/**
 * The Git side of one expansion: looks trees and files up in the snapshot, records what is missing as
 * needs (instead of failing) and enforces the caps. One instance per expansion; it accumulates.
 */
export class GitInputs {
  private readonly missing = new Map<string, GitNeed>();
  private readonly sources = new Set<string>();
  private readonly counted = new Set<string>();
  private bytesRead = 0;

  constructor(
    private readonly snapshot: GitSnapshot,
    private readonly limits: GitLimits,
  ) {}

  /** What the snapshot lacked, in the order first asked for. */
  get needs(): GitNeed[] {
    return [...this.missing.values()];
  }

  /**
   * The tree of `repoURL` at `revision`; `pending` when the snapshot lacks it (a need is recorded), or
   * an issue at `path` when it failed or the source cap is exceeded.
   */
  tree(repoURL: string, revision: string, path: string): GitTree | Issue | 'pending' {
    const key = gitSourceKey(repoURL, revision);
    if (!this.sources.has(key)) {
      if (this.sources.size >= this.limits.maxGitSources) {
        return issue('TOO_MANY_GIT_SOURCES', path, `One AppSet may read at most ${this.limits.maxGitSources} (repository, revision) pairs.`);
      }
      this.sources.add(key);
    }
    const found = this.snapshot.trees.get(key);
    if (!found) {
      this.missing.set(`tree\u0000${key}`, { kind: 'tree', repoURL, revision });
      return 'pending';
    }
    if (isGitFailure(found)) {
      const shown = maskUrlCredentials(found.repoURL, urlCredentials(found.repoURL));
      return issue(found.code ?? 'GIT_UNAVAILABLE', path, maskUrlCredentials(`Git revision "${revision}" of ${shown} could not be read: ${found.error}`, urlCredentials(found.repoURL)));
    }
    return found;
  }

  /**
   * The text of `file` in `tree`; `pending` when the snapshot lacks it, or an issue at `path` when the
   * file is over the size caps.
   */
  file(tree: GitTree, file: string, path: string): string | Issue | 'pending' {
    const size = tree.files.get(file) ?? 0;
    if (size > this.limits.maxGitFileBytes) {
      return issue('GIT_FILE_TOO_LARGE', path, `${file} is ${size} bytes at ${tree.commit.slice(0, 12)}; the limit is ${this.limits.maxGitFileBytes}.`);
    }
    const key = gitFileKey(tree.commit, file);
    if (!this.counted.has(key)) {
      this.counted.add(key);
      this.bytesRead += size;
    }
    if (this.bytesRead > this.limits.maxGitReadBytes) {
      return issue('GIT_READ_LIMIT', path, `The AppSet reads more than ${this.limits.maxGitReadBytes} bytes from Git.`);
    }
    const text = this.snapshot.files.get(key);
    if (text === undefined) {
      this.missing.set(`file\u0000${key}`, { kind: 'file', repoURL: tree.repoURL, commit: tree.commit, path: file });
      return 'pending';
    }
    return text;
  }
}

/**
 * True when expanding `spec` reads Git: a `git` generator at any depth, or manifests from a `source`
 * (of `spec.template` or of a generator's own `template`), kustomize, or a Helm chart (pinned and
 * rendered between rounds like Git reads, so an apply pins it before its transaction).
 */
export function readsGit(spec: AppSetSpec): boolean {
  const visit = (generator: GeneratorSpec): boolean =>
    'git' in generator || ('matrix' in generator && generator.matrix.generators.some(visit)) || ('merge' in generator && generator.merge.generators.some(visit));
  const ownSource = (generator: GeneratorSpec): boolean => {
    const own = 'list' in generator ? generator.list : 'clusters' in generator ? generator.clusters : 'matrix' in generator ? generator.matrix : 'merge' in generator ? generator.merge : undefined;
    return own?.template?.source !== undefined;
  };
  return spec.template.source !== undefined || spec.template.kustomize !== undefined || spec.template.helm !== undefined || spec.generators.some((g) => visit(g) || ownSource(g));
}

/** One repository at one revision, with every file's text: input of {@link completeGitSnapshot}. */
export type GitRepoContents =
  | { readonly repoURL: string; readonly revision: string; readonly commit: string; readonly files: Readonly<Record<string, string>> }
  | GitFailure;

/**
 * A snapshot holding everything about `repos` (every file's text; directories derived from file
 * paths, as Git has no empty directories), so that an expansion over it never needs more. For golden
 * fixtures and tests.
 */
export function completeGitSnapshot(repos: readonly GitRepoContents[]): GitSnapshot {
  const trees = new Map<string, GitTree | GitFailure>();
  const files = new Map<string, string>();
  for (const repo of repos) {
    if ('error' in repo) {
      trees.set(gitSourceKey(repo.repoURL, repo.revision), repo);
      continue;
    }
    const directories = new Set<string>();
    const sizes = new Map<string, number>();
    for (const [path, text] of Object.entries(repo.files)) {
      files.set(gitFileKey(repo.commit, path), text);
      sizes.set(path, new TextEncoder().encode(text).length);
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) directories.add(parts.slice(0, i).join('/'));
    }
    trees.set(gitSourceKey(repo.repoURL, repo.revision), { repoURL: repo.repoURL, revision: repo.revision, commit: repo.commit, files: sizes, directories: [...directories].sort() });
  }
  return { trees, files };
}
