import { describe, expect, it } from 'vitest';
import { checkGitAccess, hostMatches, LOCAL_PATH_REFUSED, repoLocation, type GitAccessPolicy } from './git-access';

describe('repoLocation', () => {
  it.each([
    { case: 'an absolute path is local', url: '/srv/git/fleet', location: { kind: 'local', path: '/srv/git/fleet' } },
    { case: 'a path with .. is normalised', url: '/srv/git/../../etc/repo', location: { kind: 'local', path: '/etc/repo' } },
    { case: 'file:/// is local', url: 'file:///srv/git/fleet.git', location: { kind: 'local', path: '/srv/git/fleet.git' } },
    { case: 'file://localhost/ is local', url: 'file://localhost/srv/git/fleet.git', location: { kind: 'local', path: '/srv/git/fleet.git' } },
    { case: 'https names its host, without user or port', url: 'https://ci:tok@Git.Example.com:8443/fleet.git', location: { kind: 'remote', host: 'git.example.com' } },
    { case: 'an IPv6 literal loses its brackets', url: 'https://[::1]:8443/fleet.git', location: { kind: 'remote', host: '::1' } },
    { case: 'ssh names its host', url: 'ssh://git@127.0.0.1:2222/x', location: { kind: 'remote', host: '127.0.0.1' } },
    { case: 'scp-like names its host', url: 'git@github.com:acme/fleet.git', location: { kind: 'remote', host: 'github.com' } },
  ])('$case', ({ url, location }) => {
    expect(repoLocation(url)).toEqual(location);
  });

  it.each([
    { case: 'a file:// URL of another host', url: 'file://fileserver/srv/git/fleet' },
    { case: 'a percent-encoded file:// URL (git decodes %2e%2e)', url: 'file:///srv/git/%2e%2e/%2e%2e/etc' },
  ])('refuses $case', ({ url }) => {
    expect(repoLocation(url)).toMatchObject({ code: 'GIT_REPO_NOT_ALLOWED' });
  });
});

describe('checkGitAccess', () => {
  const policy: GitAccessPolicy = { localPaths: ['/srv/git', '/home/ci/repos/'], forbiddenPaths: ['/srv/git/hub-data'], allowedHosts: ['git.example.com', '*.corp.example', '127.0.0.1'] };

  it.each([
    { case: 'a repository inside an allowed folder', path: '/srv/git/fleet' },
    { case: 'an allowed folder itself', path: '/srv/git' },
    { case: 'a folder allowed with a trailing slash', path: '/home/ci/repos/app' },
  ])('allows $case', ({ path }) => {
    expect(checkGitAccess({ kind: 'local', path }, policy)).toBeUndefined();
  });

  it.each([
    { case: 'a path outside every allowed folder', path: '/etc' },
    { case: 'a sibling whose name starts like an allowed folder', path: '/srv/gitx/fleet' },
    { case: "the hub's data folder under an allowed folder", path: '/srv/git/hub-data' },
    { case: "a repository in the hub's Git cache", path: '/srv/git/hub-data/git-cache/0123abcd.git' },
  ])('refuses $case with the one local-path message', ({ path }) => {
    expect(checkGitAccess({ kind: 'local', path }, policy)).toEqual({ code: 'GIT_REPO_NOT_ALLOWED', message: LOCAL_PATH_REFUSED });
  });

  it('refuses every local path when no folder is allowed', () => {
    expect(checkGitAccess({ kind: 'local', path: '/srv/git/fleet' }, { ...policy, localPaths: [] })).toMatchObject({ code: 'GIT_REPO_NOT_ALLOWED' });
  });

  it.each([
    { host: 'git.example.com', allowed: true },
    { host: 'build.corp.example', allowed: true },
    { host: 'corp.example', allowed: false },
    { host: '127.0.0.1', allowed: true },
    { host: '127.0.0.2', allowed: false },
    { host: 'git.example.com.evil.test', allowed: false },
  ])('host $host is allowed: $allowed', ({ host, allowed }) => {
    const refused = checkGitAccess({ kind: 'remote', host }, policy);
    if (allowed) expect(refused).toBeUndefined();
    else expect(refused?.message).toContain('FLOTILLA_GIT_ALLOWED_HOSTS');
  });

  it('allows any host when no host list is configured', () => {
    expect(checkGitAccess({ kind: 'remote', host: '10.0.0.1' }, { ...policy, allowedHosts: undefined })).toBeUndefined();
  });
});

describe('hostMatches', () => {
  it.each([
    ['GitHub.com', 'github.com', true],
    ['github.com.', 'github.com', true],
    ['a.b.example.com', '*.example.com', true],
    ['example.com', '*.example.com', false],
    ['badexample.com', '*.example.com', false],
  ])('%s against %s is %s', (host, pattern, matches) => {
    expect(hostMatches(host, pattern)).toBe(matches);
  });
});
