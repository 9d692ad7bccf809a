import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { checkRepoUrl, checkRevision, isFullCommitSha } from '../core/generators/git-refs';
import { gitFileKey, gitSourceKey, GIT_NOT_REACHABLE, type GitFailure, type GitNeed, type GitSnapshot, type GitTree } from '../core/generators/git-snapshot';
import { maskUrlCredentials, urlCredentials } from '../core/safety/mask-credentials';
import { GitAccess, type GitTarget } from './git-access';
import { GitCommandError, runGit, type GitRunOptions } from './git-command';
import { KeyedQueue } from './keyed-queue';

/** Bounds on the work one read may do (fetches are bounded by FLOTILLA_GIT_TIMEOUT_SECONDS). */
const LOCAL_TIMEOUT_MS = 20_000;
const SMALL_OUTPUT = 64 * 1024;
const LISTING_BYTES = 64 * 1024 * 1024;
const MAX_ENTRIES = 200_000;
/** cat-file output: the core caps what it asks for (32 MiB by default); this is the backstop. */
const CONTENT_BYTES = 96 * 1024 * 1024;

/**
 * The Git side of resolve-then-evaluate: reads repositories into {@link GitSnapshot}s with the `git`
 * binary. Each repository gets a bare clone under `<dataDir>/git-cache`, fetched on every resolve of a
 * branch, tag or `HEAD` (shallow: only the commit is needed), and read at the resolved commit with
 * `ls-tree` and `cat-file` without a worktree. A commit SHA already in the cache is not fetched again
 * (commits never change). Operations on one repository are serialised. Failures never throw: they
 * become {@link GitFailure}s, which the expansion turns into issues (and so stages nothing).
 */
@Injectable()
export class GitRepositories {
  private readonly log = new Logger('Git');
  private readonly root: string;
  private readonly queue = new KeyedQueue();
  private readonly access: GitAccess;
  private readonly fetchTimeoutMs: number;
  private readonly connectTimeoutSeconds: number;
  /** With an allow-list of hosts, an http redirect must not lead elsewhere. */
  private readonly followRedirects: boolean;

  constructor(@Inject(HUB_CONFIG) config: HubConfig) {
    this.root = resolve(config.dataDir, 'git-cache');
    this.access = new GitAccess(config.localAccess, config.dataDir);
    this.fetchTimeoutMs = config.localAccess.gitTimeoutSeconds * 1000;
    this.connectTimeoutSeconds = config.localAccess.gitConnectTimeoutSeconds;
    this.followRedirects = config.localAccess.gitAllowedHosts === undefined;
  }

  /** A new snapshot holding `snapshot` plus everything `needs` ask for (or the failure to read it). */
  async read(snapshot: GitSnapshot, needs: readonly GitNeed[]): Promise<GitSnapshot> {
    const trees = new Map(snapshot.trees);
    const files = new Map(snapshot.files);
    for (const need of needs) {
      if (need.kind !== 'tree') continue;
      const key = gitSourceKey(need.repoURL, need.revision);
      if (!trees.has(key)) trees.set(key, await this.tree(need.repoURL, need.revision));
    }
    const wanted = new Map<string, { repoURL: string; commit: string; paths: string[] }>();
    for (const need of needs) {
      if (need.kind !== 'file' || files.has(gitFileKey(need.commit, need.path))) continue;
      const group = wanted.get(`${need.repoURL}\u0000${need.commit}`) ?? { repoURL: need.repoURL, commit: need.commit, paths: [] };
      group.paths.push(need.path);
      wanted.set(`${need.repoURL}\u0000${need.commit}`, group);
    }
    for (const { repoURL, commit, paths } of wanted.values()) {
      const read = await this.contents(repoURL, commit, paths);
      if (typeof read === 'string') {
        // The files of a commit we listed could not be read: every tree at that commit fails.
        for (const [key, tree] of trees) if ('commit' in tree && tree.commit === commit) trees.set(key, { repoURL: tree.repoURL, revision: tree.revision, error: read });
        continue;
      }
      for (const [path, text] of read) files.set(gitFileKey(commit, path), text);
    }
    return { trees, files };
  }

  /**
   * Resolves `revision` of `repoURL` to a commit and lists its tree. Whether the repository may be read
   * is decided first, from the URL and the configuration alone. A fetch that fails for any reason
   * (refused, unreachable, timed out, missing, denied, unknown revision) fails with one message, so
   * that an AppSet cannot probe hosts, ports or paths; the reason goes to the hub's log, credentials masked.
   */
  private async tree(repoURL: string, revision: string): Promise<GitTree | GitFailure> {
    const refused = checkRepoUrl(repoURL) ?? checkRevision(revision);
    if (refused) return { repoURL, revision, error: refused };
    const shown = maskUrlCredentials(repoURL, urlCredentials(repoURL));
    const target = await this.access.check(repoURL);
    if ('code' in target) {
      this.log.warn(`git: ${shown} refused: ${target.message}`);
      return { repoURL, revision, error: target.message, code: target.code };
    }
    const dir = this.cacheDir(repoURL);
    try {
      return await this.queue.run(dir, async () => {
        await this.ensureCache(dir);
        let commit: string;
        try {
          commit = await this.resolveCommit(dir, target, revision);
        } catch (error) {
          throw new NotReachable(error instanceof GitCommandError ? error.message : 'fetching failed');
        }
        return { repoURL, revision, commit, ...(await listTree(dir, commit)) };
      });
    } catch (error) {
      const message = error instanceof GitCommandError || error instanceof NotReachable ? error.message : 'reading the repository failed';
      this.log.warn(`git: ${shown} at ${revision}: ${message}`);
      return { repoURL, revision, error: error instanceof NotReachable ? GIT_NOT_REACHABLE : message };
    }
  }

  private async resolveCommit(dir: string, target: GitTarget, revision: string): Promise<string> {
    const local = { cwd: dir, timeoutMs: LOCAL_TIMEOUT_MS, maxBytes: SMALL_OUTPUT };
    const fetch: GitRunOptions = {
      cwd: dir,
      timeoutMs: this.fetchTimeoutMs,
      maxBytes: SMALL_OUTPUT,
      protocols: target.local ? ['file'] : ['git', 'http', 'https', 'ssh'],
      connectTimeoutSeconds: this.connectTimeoutSeconds,
      secrets: urlCredentials(target.url),
    };
    const repoURL = target.url;
    const transport = ['-c', 'http.lowSpeedLimit=1024', '-c', `http.lowSpeedTime=${this.connectTimeoutSeconds}`, ...(this.followRedirects ? [] : ['-c', 'http.followRedirects=false'])];
    const fetchArgs = [...transport, '-c', 'protocol.version=2', 'fetch', '--quiet', '--no-tags', '--no-recurse-submodules', '--no-write-fetch-head'];
    if (isFullCommitSha(revision)) {
      if (await this.hasCommit(dir, revision)) return revision;
      try {
        // Most servers (and every local repository) serve a reachable commit asked for by SHA.
        await runGit([...fetchArgs, '--depth=1', '--', repoURL, revision], fetch);
      } catch {
        await runGit([...fetchArgs, '--', repoURL, '+refs/heads/*:refs/flotilla/heads/*', '+refs/tags/*:refs/flotilla/tags/*'], fetch);
      }
      if (!(await this.hasCommit(dir, revision))) throw new GitCommandError(`commit ${revision} is not in the repository`);
      return revision;
    }
    // Fetch into one private ref: a refspec with a destination never touches FETCH_HEAD or other refs.
    const ref = 'refs/flotilla/resolved';
    await runGit([...fetchArgs, '--depth=1', '--', repoURL, `+${revision}:${ref}`], fetch);
    const out = await runGit(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], local);
    return out.toString('utf8').trim();
  }

  private async hasCommit(dir: string, sha: string): Promise<boolean> {
    try {
      await runGit(['cat-file', '-e', '--end-of-options', `${sha}^{commit}`], { cwd: dir, timeoutMs: LOCAL_TIMEOUT_MS, maxBytes: SMALL_OUTPUT });
      return true;
    } catch {
      return false;
    }
  }

  /** The texts of `paths` at `commit`, or why they could not be read. */
  private async contents(repoURL: string, commit: string, paths: readonly string[]): Promise<Map<string, string> | string> {
    const dir = this.cacheDir(repoURL);
    try {
      const out = await this.queue.run(dir, () =>
        runGit(['cat-file', '--batch'], { cwd: dir, timeoutMs: LOCAL_TIMEOUT_MS, maxBytes: CONTENT_BYTES, input: paths.map((p) => `${commit}:${p}\n`).join('') }),
      );
      return parseBatch(out, paths);
    } catch (error) {
      const message = error instanceof GitCommandError ? error.message : 'reading files failed';
      this.log.warn(`git: reading files of ${maskUrlCredentials(repoURL, urlCredentials(repoURL))} at ${commit.slice(0, 12)}: ${message}`);
      return message;
    }
  }

  private async ensureCache(dir: string): Promise<void> {
    if (existsSync(join(dir, 'HEAD'))) return;
    // Private to the hub's user: other AppSets' repositories live here.
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await chmod(this.root, 0o700);
    // No templates: a cache repository has no hooks to run.
    await runGit(['init', '--bare', '--quiet', '--template=', dir], { timeoutMs: LOCAL_TIMEOUT_MS, maxBytes: SMALL_OUTPUT });
  }

  /** One bare clone per repository URL, named by its hash (the URL itself may hold credentials). */
  private cacheDir(repoURL: string): string {
    return join(this.root, `${createHash('sha256').update(repoURL).digest('hex').slice(0, 32)}.git`);
  }
}

/** Regular files with their sizes, and directories, at `commit` (symlinks, submodules and names with a newline left out). */
export async function listTree(dir: string, commit: string): Promise<Pick<GitTree, 'files' | 'directories'>> {
  const out = await runGit(['ls-tree', '-r', '-t', '-l', '-z', '--full-tree', '--end-of-options', commit], { cwd: dir, timeoutMs: LOCAL_TIMEOUT_MS, maxBytes: LISTING_BYTES });
  const files = new Map<string, number>();
  const directories: string[] = [];
  const entries = out.toString('utf8').split('\0');
  if (entries.length > MAX_ENTRIES) throw new GitCommandError(`the tree has more than ${MAX_ENTRIES} entries`);
  for (const entry of entries) {
    const tab = entry.indexOf('\t');
    if (tab === -1) continue;
    const [mode, type, , size] = entry.slice(0, tab).split(/\s+/);
    const path = entry.slice(tab + 1);
    if (path.includes('\n')) continue;
    if (type === 'tree') directories.push(path);
    else if (type === 'blob' && mode !== '120000') files.set(path, Number(size));
  }
  return { files, directories: directories.sort() };
}

/** A fetch failed: the reason is logged, the AppSet gets {@link GIT_NOT_REACHABLE}. */
class NotReachable extends Error {}

/** Splits `git cat-file --batch` output (`<oid> blob <size>\n<bytes>\n` or `<name> missing\n` per input line). */
export function parseBatch(out: Buffer, paths: readonly string[]): Map<string, string> {
  const texts = new Map<string, string>();
  let offset = 0;
  for (const path of paths) {
    const newline = out.indexOf(0x0a, offset);
    if (newline === -1) break;
    const header = out.subarray(offset, newline).toString('utf8');
    offset = newline + 1;
    const match = / blob (\d+)$/.exec(header);
    if (!match) continue;
    const size = Number(match[1]);
    texts.set(path, out.subarray(offset, offset + size).toString('utf8'));
    offset += size + 1;
  }
  return texts;
}
