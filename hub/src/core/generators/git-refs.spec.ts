import { describe, expect, it } from 'vitest';
import { checkRepoUrl, checkRevision, isFullCommitSha, normalizeRepoPath, redactRepoUrl } from './git-refs';

describe('checkRepoUrl', () => {
  it.each([
    ['an https URL', 'https://github.com/acme/fleet.git'],
    ['an https URL with a token', 'https://x-access-token:abc@github.com/acme/fleet.git'],
    ['an IPv6 https URL', 'https://[::1]:8443/fleet.git'],
    ['an ssh URL', 'ssh://git@git.example.com:2222/acme/fleet.git'],
    ['a git URL', 'git://git.example.com/fleet.git'],
    ['a file URL', 'file:///srv/git/fleet.git'],
    ['an scp-like address', 'git@github.com:acme/fleet.git'],
    ['an absolute local path', '/srv/git/fleet'],
  ])('accepts %s', (_name, url) => {
    expect(checkRepoUrl(url)).toBeUndefined();
  });

  it.each([
    ['the ext transport, which runs a command', 'ext::sh -c touch% pwned'],
    ['another <transport>:: form', 'fd::17'],
    ['an option', '--upload-pack=touch pwned'],
    ['an ssh host that is an option', 'ssh://-oProxyCommand=touch%20pwned/x'],
    ['an scp-like host that is an option', 'git@-oProxyCommand=x:repo'],
    ['a relative path', 'repos/fleet'],
    ['whitespace', 'https://github.com/acme/fleet .git'],
    ['a newline', 'https://github.com/acme/fleet.git\n--upload-pack=x'],
    ['a template', 'https://{{ cluster.name }}.example.com/fleet.git'],
    ['an unknown scheme', 'ftp://example.com/fleet.git'],
    ['an https URL without a host', 'https:///fleet.git'],
    ['nothing', ''],
  ])('refuses %s', (_name, url) => {
    expect(checkRepoUrl(url)).toEqual(expect.any(String));
  });
});

describe('checkRevision', () => {
  it.each(['HEAD', 'main', 'release/1.2', 'v1.2.0', 'v1.2.0+build.7', 'feature_x', '0123456789abcdef0123456789abcdef01234567'])('accepts %s', (revision) => {
    expect(checkRevision(revision)).toBeUndefined();
  });

  it.each([
    ['an option', '--upload-pack=touch x'],
    ['a refspec that would write a ref', 'main:refs/heads/evil'],
    ['a forced refspec', '+main'],
    ['a range', 'main..dev'],
    ['a reflog expression', 'main@{1}'],
    ['a parent expression', 'main~1'],
    ['a glob', 'refs/heads/*'],
    ['a leading dot', '.hidden'],
    ['a trailing slash', 'release/'],
    ['a lock file name', 'main.lock'],
    ['whitespace', 'main branch'],
    ['nothing', ''],
  ])('refuses %s', (_name, revision) => {
    expect(checkRevision(revision)).toEqual(expect.any(String));
  });
});

describe('isFullCommitSha', () => {
  it.each([
    ['a SHA-1', 'a'.repeat(40), true],
    ['a SHA-256', 'b'.repeat(64), true],
    ['a short SHA', 'abc1234', false],
    ['uppercase hex', 'A'.repeat(40), false],
    ['a branch', 'main', false],
  ])('%s → %s', (_name, revision, want) => {
    expect(isFullCommitSha(revision)).toBe(want);
  });
});

describe('normalizeRepoPath', () => {
  it.each([
    ['/apps/web/', 'apps/web'],
    ['./apps//web', 'apps/web'],
    ['', '.'],
    ['/', '.'],
    ['apps/my app', 'apps/my app'],
  ])('%j → %j', (path, want) => {
    expect(normalizeRepoPath(path)).toBe(want);
  });

  it.each(['../etc/passwd', 'apps/../../etc', 'apps/\u0000x'])('refuses %j', (path) => {
    expect(normalizeRepoPath(path)).toBeUndefined();
  });
});

describe('redactRepoUrl', () => {
  it('masks the password of a URL and keeps the user', () => {
    expect(redactRepoUrl('https://bot:s3cr3t@git.example.com/fleet.git')).toBe('https://bot:***@git.example.com/fleet.git');
  });

  it('masks a token given as the user, and query values', () => {
    expect(redactRepoUrl('https://ghp_t0ken@git.example.com/fleet.git?private_token=abc')).toBe('https://***@git.example.com/fleet.git?private_token=***');
  });

  it('leaves a URL without credentials alone', () => {
    expect(redactRepoUrl('https://git.example.com/fleet.git')).toBe('https://git.example.com/fleet.git');
  });
});
