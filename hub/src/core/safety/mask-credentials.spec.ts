import { describe, expect, it } from 'vitest';
import { maskUrlCredentials, urlCredentials } from './mask-credentials';

describe('maskUrlCredentials', () => {
  it.each([
    { case: 'a password becomes *** and the user stays', text: 'https://ci:ghp_s3cretT0ken@git.example.com/fleet.git', masked: 'https://ci:***@git.example.com/fleet.git' },
    { case: 'a bare https user is a token: it becomes ***', text: 'https://ghp_s3cretT0ken@github.com/acme/fleet.git', masked: 'https://***@github.com/acme/fleet.git' },
    { case: 'an ssh account name stays', text: 'ssh://git@git.example.com:2222/acme/fleet.git', masked: 'ssh://git@git.example.com:2222/acme/fleet.git' },
    { case: 'an ssh password is masked', text: 'ssh://deploy:hunter22@git.example.com/fleet.git', masked: 'ssh://deploy:***@git.example.com/fleet.git' },
    { case: 'every query value is masked, names stay', text: 'https://git.example.com/fleet.git?access_token=abc&ref=main#top', masked: 'https://git.example.com/fleet.git?access_token=***&ref=***#top' },
    { case: 'an empty password is still marked', text: 'http://user:@127.0.0.1:9/x', masked: 'http://user:***@127.0.0.1:9/x' },
    { case: 'an @ in the path is not a user', text: 'https://registry.example.com/@scope/pkg', masked: 'https://registry.example.com/@scope/pkg' },
    {
      case: 'URLs inside a sentence are each masked, the sentence stays',
      text: "fatal: unable to access 'https://bot:tok3n-value@git.example.com/a.git/': and https://x:y@h/b",
      masked: "fatal: unable to access 'https://bot:***@git.example.com/a.git/': and https://x:***@h/b",
    },
    { case: 'text without URLs is unchanged', text: 'repository not reachable or not found', masked: 'repository not reachable or not found' },
    { case: 'a local path is unchanged', text: '/srv/git/fleet', masked: '/srv/git/fleet' },
  ])('$case', ({ text, masked }) => {
    expect(maskUrlCredentials(text)).toBe(masked);
  });

  it('masks known secrets outside URLs too, as written and decoded', () => {
    const url = 'https://ci:p%40ss-w0rd!@git.example.com/fleet.git';
    const text = "remote: Invalid password 'p@ss-w0rd!' for ci; URL https://ci:p%40ss-w0rd!@git.example.com/fleet.git";
    const masked = maskUrlCredentials(text, urlCredentials(url));
    expect(masked).toBe("remote: Invalid password '***' for ci; URL https://ci:***@git.example.com/fleet.git");
  });

  it('does not search for short known secrets inside other words', () => {
    expect(maskUrlCredentials('the main branch', ['main'])).toBe('the main branch');
  });
});

describe('urlCredentials', () => {
  it.each([
    { case: 'the password of https, not its user', url: 'https://ci-bot:tok%2Fen@h/x', credentials: ['tok%2Fen', 'tok/en'] },
    { case: 'a bare https user', url: 'https://ghp_abcdef@h/x', credentials: ['ghp_abcdef'] },
    { case: 'only the password of ssh', url: 'ssh://git:pw123456@h/x', credentials: ['pw123456'] },
    { case: 'query values', url: 'https://h/x?token=abc123&a=b', credentials: ['abc123', 'b'] },
    { case: 'nothing in a plain URL', url: 'https://h/x', credentials: [] },
    { case: 'nothing in a local path', url: '/srv/git/x', credentials: [] },
  ])('$case', ({ url, credentials }) => {
    expect(urlCredentials(url).sort()).toEqual([...credentials].sort());
  });
});
