import { describe, expect, it } from 'vitest';
import { HubConfigError, loadHubConfig } from './hub-config';
import { loadOidcWebConfig } from './oidc-web-config';

const ISSUER = { FLOTILLA_OIDC_ISSUER: 'https://login.example.com/realms/ops' };

describe('loadOidcWebConfig', () => {
  it.each([
    ['no web client: the dashboard offers API tokens only', {}, undefined],
    ['a blank web client counts as none', { ...ISSUER, FLOTILLA_OIDC_WEB_CLIENT_ID: '  ' }, undefined],
    ['a web client asks for openid by default', { ...ISSUER, FLOTILLA_OIDC_WEB_CLIENT_ID: 'flotilla-web' }, { clientId: 'flotilla-web', scopes: ['openid'] }],
    [
      'scopes separated by blanks or commas, duplicates dropped',
      { ...ISSUER, FLOTILLA_OIDC_WEB_CLIENT_ID: ' flotilla-web ', FLOTILLA_OIDC_WEB_SCOPES: 'openid, profile email  openid' },
      { clientId: 'flotilla-web', scopes: ['openid', 'profile', 'email'] },
    ],
  ])('%s', (_case, env, expected) => {
    const problems: string[] = [];
    expect(loadOidcWebConfig(env, problems)).toEqual(expected);
    expect(problems).toEqual([]);
  });

  it.each([
    ['a web client without an issuer', { FLOTILLA_OIDC_WEB_CLIENT_ID: 'flotilla-web' }, 'FLOTILLA_OIDC_WEB_CLIENT_ID needs FLOTILLA_OIDC_ISSUER'],
    ['scopes without a web client', { ...ISSUER, FLOTILLA_OIDC_WEB_SCOPES: 'openid' }, 'FLOTILLA_OIDC_WEB_SCOPES needs FLOTILLA_OIDC_WEB_CLIENT_ID'],
    ['a client id with a blank inside', { ...ISSUER, FLOTILLA_OIDC_WEB_CLIENT_ID: 'flotilla web' }, 'FLOTILLA_OIDC_WEB_CLIENT_ID must be 1 to 256 printable ASCII characters'],
    ['a client id of 257 characters', { ...ISSUER, FLOTILLA_OIDC_WEB_CLIENT_ID: 'c'.repeat(257) }, 'FLOTILLA_OIDC_WEB_CLIENT_ID must be 1 to 256'],
    ['scopes without openid', { ...ISSUER, FLOTILLA_OIDC_WEB_CLIENT_ID: 'w', FLOTILLA_OIDC_WEB_SCOPES: 'profile email' }, 'FLOTILLA_OIDC_WEB_SCOPES must include openid (got "profile email")'],
    ['a scope with a quote', { ...ISSUER, FLOTILLA_OIDC_WEB_CLIENT_ID: 'w', FLOTILLA_OIDC_WEB_SCOPES: 'openid "x"' }, 'FLOTILLA_OIDC_WEB_SCOPES must list scopes separated by blanks or commas; refused: "\\"x\\""'],
    ['offline_access (no refresh tokens in a browser tab)', { ...ISSUER, FLOTILLA_OIDC_WEB_CLIENT_ID: 'w', FLOTILLA_OIDC_WEB_SCOPES: 'openid offline_access' }, 'FLOTILLA_OIDC_WEB_SCOPES must not include offline_access'],
  ])('refuses %s, naming the variable', (_case, env, problem) => {
    const problems: string[] = [];
    expect(loadOidcWebConfig(env, problems)).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });
});

describe('the dashboard sign-in in the hub configuration', () => {
  const oidc = {
    ...ISSUER,
    FLOTILLA_OIDC_AUDIENCE: 'https://hub.example.com',
    FLOTILLA_OIDC_ROLE_BINDINGS: '[{"group":"platform","role":"ADMIN"}]',
  };

  it('is read beside the OIDC settings the hub verifies tokens with', () => {
    const config = loadHubConfig({ ...oidc, FLOTILLA_OIDC_WEB_CLIENT_ID: 'flotilla-web' });
    expect(config.oidcWeb).toEqual({ clientId: 'flotilla-web', scopes: ['openid'] });
    expect(config.auth.oidc?.issuer).toBe(ISSUER.FLOTILLA_OIDC_ISSUER);
  });

  it('is absent without FLOTILLA_OIDC_WEB_CLIENT_ID', () => {
    expect(loadHubConfig(oidc).oidcWeb).toBeUndefined();
  });

  it('stops the hub when the web client has no issuer', () => {
    expect(() => loadHubConfig({ FLOTILLA_OIDC_WEB_CLIENT_ID: 'flotilla-web' })).toThrow(HubConfigError);
    expect(() => loadHubConfig({ FLOTILLA_OIDC_WEB_CLIENT_ID: 'flotilla-web' })).toThrow('FLOTILLA_OIDC_WEB_CLIENT_ID needs FLOTILLA_OIDC_ISSUER');
  });
});
