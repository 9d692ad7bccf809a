import { lstat, open, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { LocalAccessConfig } from '../config/local-access-config';
import { checkGitAccess, repoLocation, type GitAccessPolicy, type GitRefusal } from '../core/generators/git-access';

/** What git is pointed at once access is granted: the URL as given for a remote, the real path for a local repository. */
export interface GitTarget {
  readonly url: string;
  readonly local: boolean;
}

/** Longest `.git` file read (`gitdir: <path>`). */
const GITFILE_BYTES = 4096;

/**
 * Decides whether the Git generator may read a repository (see `checkGitAccess`), resolving local
 * paths on disk first: the path as written, its real path (symlinks followed) and, for a worktree whose
 * `.git` is a file, the folder that file points to must all be inside an allowed folder and outside
 * the hub's data folder. git is then given the real path, so a symlink cannot redirect it afterwards
 * to a folder that was not checked.
 */
export class GitAccess {
  private readonly dataDir: string;

  constructor(
    private readonly config: LocalAccessConfig,
    dataDir: string,
  ) {
    this.dataDir = resolve(dataDir);
  }

  /** The target to hand to git, or why `repoURL` may not be read. Never throws. */
  async check(repoURL: string): Promise<GitTarget | GitRefusal> {
    const location = repoLocation(repoURL);
    if ('code' in location) return location;
    const policy: GitAccessPolicy = {
      localPaths: await Promise.all(this.config.gitLocalPaths.map(realPathOf)),
      forbiddenPaths: [this.dataDir, await realPathOf(this.dataDir)],
      allowedHosts: this.config.gitAllowedHosts,
    };
    if (location.kind === 'remote') return checkGitAccess(location, policy) ?? { url: repoURL, local: false };
    const real = await realPathOf(location.path);
    const linked = await gitFileTarget(real);
    for (const path of [location.path, real, ...(linked ? [linked] : [])]) {
      const refused = checkGitAccess({ kind: 'local', path }, policy);
      if (refused) return refused;
    }
    return { url: real, local: true };
  }
}

/**
 * The real path of `path` (absolute): symlinks followed as far as the path exists, the missing rest
 * appended as written. Bounded by the number of segments.
 */
export async function realPathOf(path: string): Promise<string> {
  let existing = resolve(path);
  const missing: string[] = [];
  for (;;) {
    try {
      return join(await realpath(existing), ...missing);
    } catch {
      const parent = dirname(existing);
      if (parent === existing) return resolve(path);
      missing.unshift(basename(existing));
      existing = parent;
    }
  }
}

/** Where `<repo>/.git` leads when it is a `gitdir: <path>` file or a symlink (real path); undefined otherwise. */
async function gitFileTarget(repo: string): Promise<string | undefined> {
  const dotGit = join(repo, '.git');
  try {
    const stat = await lstat(dotGit);
    if (stat.isSymbolicLink()) return await realPathOf(dotGit);
    if (!stat.isFile()) return undefined;
    const file = await open(dotGit, 'r');
    try {
      const buffer = Buffer.alloc(GITFILE_BYTES);
      const { bytesRead } = await file.read(buffer, 0, GITFILE_BYTES, 0);
      const target = /^gitdir:\s*(.+?)\s*$/m.exec(buffer.subarray(0, bytesRead).toString('utf8'))?.[1];
      if (target === undefined) return undefined;
      return await realPathOf(isAbsolute(target) ? target : join(repo, target));
    } finally {
      await file.close();
    }
  } catch {
    return undefined;
  }
}
