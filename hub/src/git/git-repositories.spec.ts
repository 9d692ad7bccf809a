import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../config/hub-config';
import { gitFileKey, gitSourceKey, GIT_NOT_REACHABLE, type GitNeed, type GitSnapshot, type GitTree } from '../core/generators/git-snapshot';
import { GitRepositories } from './git-repositories';
import { commit, git } from '../../test/support/git-repo';

describe('GitRepositories (real repositories, git binary)', () => {
  let scratch: string;
  let repo: string;
  let first: string;
  let second: string;
  let repositories: GitRepositories;

  const empty: GitSnapshot = { trees: new Map(), files: new Map() };
  const treeOf = async (revision: string, url = repo): Promise<GitTree | { error: string }> => {
    const snapshot = await repositories.read(empty, [{ kind: 'tree', repoURL: url, revision }]);
    return snapshot.trees.get(gitSourceKey(url, revision))!;
  };

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'flotilla-git-'));
    repo = join(scratch, 'fleet');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    first = commit(repo, { 'envs/eu/config.yaml': 'cluster: eu-1\n', 'README.md': '# fleet\n' }, 'one');
    git(repo, 'tag', '-a', 'v1', '-m', 'v1');
    second = commit(repo, { 'envs/us/config.yaml': 'cluster: us-1\n' }, 'two');
    git(repo, 'checkout', '-q', '-b', 'dev', first);
    commit(repo, { 'envs/dev/config.yaml': 'cluster: dev-1\n' }, 'dev');
    git(repo, 'checkout', '-q', 'main');
    repositories = new GitRepositories(loadHubConfig({ FLOTILLA_DATA_DIR: join(scratch, 'data'), FLOTILLA_GIT_LOCAL_PATHS: scratch }));
  });

  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it.each([
    ['a branch resolves to its tip', 'main', () => second],
    ['HEAD resolves to the default branch', 'HEAD', () => second],
    ['an annotated tag resolves to its commit', 'v1', () => first],
    ['a full commit SHA resolves to itself', '__first__', () => first],
  ])('%s', async (_name, revision, want) => {
    const asked = revision === '__first__' ? first : revision;
    const tree = await treeOf(asked);
    expect(tree).toMatchObject({ commit: want() });
  });

  it('lists files with their sizes and directories at the resolved commit', async () => {
    const tree = (await treeOf('dev')) as GitTree;
    expect([...tree.files.keys()].sort()).toEqual(['README.md', 'envs/dev/config.yaml', 'envs/eu/config.yaml']);
    expect(tree.files.get('envs/eu/config.yaml')).toBe('cluster: eu-1\n'.length);
    expect(tree.directories).toEqual(['envs', 'envs/dev', 'envs/eu']);
  });

  it('reads the files asked for at a commit', async () => {
    const needs: GitNeed[] = [
      { kind: 'file', repoURL: repo, commit: first, path: 'envs/eu/config.yaml' },
      { kind: 'file', repoURL: repo, commit: first, path: 'README.md' },
    ];
    await treeOf(first);
    const snapshot = await repositories.read(empty, needs);
    expect(snapshot.files.get(gitFileKey(first, 'envs/eu/config.yaml'))).toBe('cluster: eu-1\n');
    expect(snapshot.files.get(gitFileKey(first, 'README.md'))).toBe('# fleet\n');
  });

  it('a branch that moved is fetched again: the next read sees the new commit', async () => {
    expect(await treeOf('main')).toMatchObject({ commit: second });
    const third = commit(repo, { 'envs/ap/config.yaml': 'cluster: ap-1\n' }, 'three');
    expect(await treeOf('main')).toMatchObject({ commit: third });
  });

  it.each([
    ['an unknown revision (told apart from nothing else)', () => treeOf('no-such-branch'), GIT_NOT_REACHABLE],
    ['a missing repository (told apart from nothing else)', () => treeOf('main', join(scratch, 'nowhere')), GIT_NOT_REACHABLE],
    ['a repository outside FLOTILLA_GIT_LOCAL_PATHS', () => treeOf('main', tmpdir()), /FLOTILLA_GIT_LOCAL_PATHS/],
    ['an ext:: URL, refused before git runs', () => treeOf('main', 'ext::sh'), /ext::/],
    ['an option as a revision, refused before git runs', () => treeOf('--upload-pack=touch'), /not starting with '-'/],
  ])('%s is a failure in the snapshot, not a throw', async (_name, read, message) => {
    const tree = await read();
    expect(tree).toMatchObject({ error: typeof message === 'string' ? message : expect.stringMatching(message) });
    expect(existsSync(join(scratch, 'pwned'))).toBe(false);
  });

  it('a commit that is in no branch of the repository is a failure', async () => {
    expect(await treeOf('0'.repeat(40))).toMatchObject({ error: GIT_NOT_REACHABLE });
  });

  it('reads of one repository run one at a time and all succeed', async () => {
    const trees = await Promise.all(['main', 'dev', 'v1', 'HEAD'].map((r) => treeOf(r)));
    expect(trees.every((t) => 'commit' in t)).toBe(true);
  });
});
