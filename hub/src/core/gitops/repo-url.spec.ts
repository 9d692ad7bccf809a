import { describe, expect, it } from 'vitest';
import { normaliseRepoURL } from './repo-url';

describe('normaliseRepoURL', () => {
  it.each([
    ['https://github.com/acme/fleet', 'github.com/acme/fleet'],
    ['https://github.com/acme/fleet.git', 'github.com/acme/fleet'],
    ['https://github.com/acme/fleet/', 'github.com/acme/fleet'],
    ['http://github.com/acme/fleet', 'github.com/acme/fleet'],
    ['https://GitHub.COM/Acme/Fleet.git', 'github.com/acme/fleet'],
    ['https://user:token@github.com/acme/fleet.git', 'github.com/acme/fleet'],
    ['https://github.com:443/acme/fleet', 'github.com/acme/fleet'],
    ['git@github.com:acme/fleet.git', 'github.com/acme/fleet'],
    ['github.com:acme/fleet', 'github.com/acme/fleet'],
    ['ssh://git@github.com/acme/fleet.git', 'github.com/acme/fleet'],
    ['ssh://git@github.com:22/acme/fleet', 'github.com/acme/fleet'],
    ['git+ssh://git@github.com/acme/fleet', 'github.com/acme/fleet'],
    ['git://github.com/acme/fleet.git', 'github.com/acme/fleet'],
    ['  https://github.com/acme/fleet  ', 'github.com/acme/fleet'],
    ['https://gitlab.example.com/group/sub/fleet.git', 'gitlab.example.com/group/sub/fleet'],
    ['ssh://git@bitbucket.example.com:7999/ops/fleet.git', 'bitbucket.example.com:7999/ops/fleet'],
    ['https://bitbucket.example.com/scm/ops/fleet.git', 'bitbucket.example.com/scm/ops/fleet'],
    ['http://127.0.0.1:3000/acme/fleet.git', '127.0.0.1:3000/acme/fleet'],
    ['git://127.0.0.1:9418/fleet', '127.0.0.1/fleet'],
    ['https://[::1]:8443/acme/fleet', '[::1]:8443/acme/fleet'],
  ])('reads %s as %s', (url, expected) => {
    expect(normaliseRepoURL(url)).toBe(expected);
  });

  it('keeps a non-default port apart from the default one', () => {
    expect(normaliseRepoURL('https://git.example.com:8443/acme/fleet')).not.toBe(normaliseRepoURL('https://git.example.com/acme/fleet'));
  });

  it.each([
    ['an empty string', ''],
    ['a local path', '/srv/git/fleet.git'],
    ['a file URL', 'file:///srv/git/fleet.git'],
    ['an ftp URL', 'ftp://example.com/fleet'],
    ['a host without a path', 'https://github.com/'],
    ['an scp-like address without a path', 'git@github.com:'],
    ['a URL with a space inside', 'https://github.com/acme/my fleet'],
    ['a URL with a newline inside', 'https://github.com/acme/fleet\nhttps://evil.example.com/x'],
    ['a word', 'fleet'],
    ['an over-long URL', `https://github.com/${'a'.repeat(2100)}`],
  ])('refuses %s', (_name, url) => {
    expect(normaliseRepoURL(url)).toBeUndefined();
  });
});
