import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import type { HubConfig } from '../config/hub-config';
import { GIT_NOT_REACHABLE } from '../core/generators/git-snapshot';
import { isFullCommitSha } from '../core/generators/git-refs';
import { selectSourceFiles, type SourceFileLimits } from '../core/gitops/source-documents';
import { maskUrlCredentials, urlCredentials } from '../core/safety/mask-credentials';
import { GitAccess } from '../git/git-access';
import { GitCommandError, runGit, type GitRunOptions } from '../git/git-command';
import { listTree, parseBatch } from '../git/git-repositories';
import { KeyedQueue } from '../git/keyed-queue';

const LOCAL_TIMEOUT_MS = 20_000;
const SMALL_OUTPUT = 64 * 1024;
const CONTENT_BYTES = 96 * 1024 * 1024;
const RESOLVED_REF = 'refs/flotilla/source';

/** The commit a sync read, as its revisions record it. */
export interface SourceCommit {
  readonly sha: string;
  readonly author: string;
  readonly subject: string;
  readonly time: Date;
}

/** What one read of a source found: the commit, and the YAML files under its path (or why they were not read). */
export interface SourceRead {
  readonly commit: SourceCommit;
  /** The bare repository holding the commit (for signature checks). */
  readonly dir: string;
  readonly files: readonly { path: string; text: string }[];
  /** Files left out by the limits, as issues' messages (the sync refuses them). */
  readonly refused: readonly string[];
}

/**
 * Reads Git sources with the `git` binary: one bare clone per repository under
 * `<dataDir>/git-sources` with the branch's full history (a rewritten history is told from a moved
 * branch by ancestry), apart from the generator's shallow cache. Access is decided as for the Git
 * generator (allowed hosts and local folders, never the data folder). Operations on one repository
 * are serialised; every git run is bounded in time and output.
 */
export class GitSourceReader {
  private readonly log = new Logger('GitSources');
  private readonly root: string;
  private readonly access: GitAccess;
  private readonly queue = new KeyedQueue();

  constructor(
    private readonly config: HubConfig,
    private readonly limits: SourceFileLimits,
  ) {
    this.root = resolve(config.dataDir, 'git-sources');
    this.access = new GitAccess(config.localAccess, config.dataDir);
  }

  /** Fetches `revision` and reads the YAML files under `path` at its commit; a failure is one message with no credentials. */
  async read(repoURL: string, revision: string, path: string): Promise<SourceRead | { error: string }> {
    const target = await this.access.check(repoURL);
    const shown = maskUrlCredentials(repoURL, urlCredentials(repoURL));
    if ('code' in target) return { error: target.message };
    const dir = this.cacheDir(repoURL);
    try {
      return await this.queue.run(dir, async () => {
        await this.ensureCache(dir);
        const sha = await this.fetch(dir, target.url, target.local, revision);
        const commit = await this.commitInfo(dir, sha);
        const tree = await listTree(dir, sha);
        const selected = selectSourceFiles(tree.files, path, this.limits);
        const texts = selected.paths.length === 0 ? new Map<string, string>() : await this.contents(dir, sha, selected.paths);
        return { commit, dir, files: selected.paths.map((file) => ({ path: file, text: texts.get(file) ?? '' })), refused: selected.refused };
      });
    } catch (error) {
      const message = error instanceof GitCommandError || error instanceof NotReachable ? error.message : 'reading the repository failed';
      this.log.warn(`git source ${shown} at ${revision}: ${message}`);
      // As for the generator: one message whatever went wrong, so that a source cannot probe hosts or paths.
      return { error: error instanceof NotReachable ? GIT_NOT_REACHABLE : message };
    }
  }

  /** Whether `commit` descends from `ancestor` (both in the cache; false when either is missing). */
  async descends(repoURL: string, ancestor: string, commit: string): Promise<boolean> {
    const dir = this.cacheDir(repoURL);
    return this.queue.run(dir, async () => {
      try {
        await runGit(['merge-base', '--is-ancestor', '--end-of-options', ancestor, commit], { cwd: dir, timeoutMs: LOCAL_TIMEOUT_MS, maxBytes: SMALL_OUTPUT });
        return true;
      } catch {
        return false;
      }
    });
  }

  private async fetch(dir: string, url: string, local: boolean, revision: string): Promise<string> {
    const fetch: GitRunOptions = {
      cwd: dir,
      timeoutMs: this.config.localAccess.gitTimeoutSeconds * 1000,
      maxBytes: SMALL_OUTPUT,
      protocols: local ? ['file'] : ['git', 'http', 'https', 'ssh'],
      connectTimeoutSeconds: this.config.localAccess.gitConnectTimeoutSeconds,
      secrets: urlCredentials(url),
    };
    const redirects = this.config.localAccess.gitAllowedHosts === undefined ? [] : ['-c', 'http.followRedirects=false'];
    const args = ['-c', 'http.lowSpeedLimit=1024', '-c', `http.lowSpeedTime=${this.config.localAccess.gitConnectTimeoutSeconds}`, ...redirects, '-c', 'protocol.version=2', 'fetch', '--quiet', '--no-tags', '--no-recurse-submodules', '--no-write-fetch-head'];
    try {
      if (isFullCommitSha(revision)) {
        await runGit([...args, '--', url, '+refs/heads/*:refs/flotilla/heads/*', '+refs/tags/*:refs/flotilla/tags/*'], fetch);
        await runGit(['cat-file', '-e', '--end-of-options', `${revision}^{commit}`], { cwd: dir, timeoutMs: LOCAL_TIMEOUT_MS, maxBytes: SMALL_OUTPUT });
        return revision;
      }
      await runGit([...args, '--', url, `+${revision}:${RESOLVED_REF}`], fetch);
    } catch (error) {
      throw new NotReachable(error instanceof Error ? error.message : String(error));
    }
    const out = await runGit(['rev-parse', '--verify', '--quiet', '--end-of-options', `${RESOLVED_REF}^{commit}`], { cwd: dir, timeoutMs: LOCAL_TIMEOUT_MS, maxBytes: SMALL_OUTPUT });
    return out.toString('utf8').trim();
  }

  private async commitInfo(dir: string, sha: string): Promise<SourceCommit> {
    const out = await runGit(['show', '-s', '--no-show-signature', '--format=%an <%ae>%x00%s%x00%cI', '--end-of-options', sha], { cwd: dir, timeoutMs: LOCAL_TIMEOUT_MS, maxBytes: SMALL_OUTPUT });
    const [author = '', subject = '', time = ''] = out.toString('utf8').trim().split('\0');
    return { sha, author: author.slice(0, 256), subject: subject.slice(0, 512), time: new Date(time) };
  }

  private async contents(dir: string, commit: string, paths: readonly string[]): Promise<Map<string, string>> {
    const out = await runGit(['cat-file', '--batch'], { cwd: dir, timeoutMs: LOCAL_TIMEOUT_MS, maxBytes: CONTENT_BYTES, input: paths.map((p) => `${commit}:${p}\n`).join('') });
    return parseBatch(out, paths);
  }

  private async ensureCache(dir: string): Promise<void> {
    if (existsSync(join(dir, 'HEAD'))) return;
    // Private to the hub's user, like the generator's cache.
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await chmod(this.root, 0o700);
    await runGit(['init', '--bare', '--quiet', '--template=', dir], { timeoutMs: LOCAL_TIMEOUT_MS, maxBytes: SMALL_OUTPUT });
  }

  /** One bare clone per repository URL, named by its hash. */
  cacheDir(repoURL: string): string {
    return join(this.root, `${createHash('sha256').update(repoURL).digest('hex').slice(0, 32)}.git`);
  }
}

/** A fetch failed: the reason is logged, the source shows {@link GIT_NOT_REACHABLE}. */
class NotReachable extends Error {}
