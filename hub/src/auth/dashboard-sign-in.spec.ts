import { describe, expect, it } from 'vitest';
import { dashboardContentSecurityPolicy } from '../http/security-headers';
import { dashboardAuthConfig, signInOrigins } from './dashboard-sign-in';

const ISSUER = 'https://login.example.com/realms/ops';

describe('signInOrigins', () => {
  it.each([
    ['no discovery document: the issuer alone', undefined, ['https://login.example.com']],
    ['a token endpoint at the issuer', { issuer: ISSUER, token_endpoint: `${ISSUER}/protocol/openid-connect/token` }, ['https://login.example.com']],
    ['a token endpoint elsewhere', { issuer: ISSUER, token_endpoint: 'https://tokens.example.com:8443/token' }, ['https://login.example.com', 'https://tokens.example.com:8443']],
    ['a document of another issuer adds nothing', { issuer: 'https://evil.example', token_endpoint: 'https://evil.example/token' }, ['https://login.example.com']],
    ['a token endpoint that is not http(s) adds nothing', { issuer: ISSUER, token_endpoint: 'javascript:alert(1)' }, ['https://login.example.com']],
    ['a document that is not an object adds nothing', 'oops', ['https://login.example.com']],
  ])('%s', (_case, discovery, expected) => {
    expect(signInOrigins(ISSUER, discovery)).toEqual(expected);
  });
});

describe('dashboardAuthConfig', () => {
  const oidc = { issuer: ISSUER, audience: 'https://hub.example.com' };
  it.each([
    ['no OIDC at all', { auth: { oidc: undefined }, oidcWeb: undefined }, { oidc: null }],
    ['an issuer for bearer tokens but no web client', { auth: { oidc }, oidcWeb: undefined }, { oidc: null }],
    [
      'an issuer and a web client',
      { auth: { oidc }, oidcWeb: { clientId: 'flotilla-web', scopes: ['openid', 'profile'] } },
      { oidc: { issuer: ISSUER, clientId: 'flotilla-web', scopes: 'openid profile', audience: 'https://hub.example.com' } },
    ],
  ])('%s', (_case, config, expected) => {
    expect(dashboardAuthConfig(config as Parameters<typeof dashboardAuthConfig>[0])).toEqual(expected);
  });
});

describe('dashboardContentSecurityPolicy', () => {
  const connectSrc = (policy: string) => policy.split('; ').find((d) => d.startsWith('connect-src '));
  it('lets the page reach the hub only without single sign-on', () => {
    expect(connectSrc(dashboardContentSecurityPolicy())).toBe("connect-src 'self'");
  });
  it('adds the sign-in origins to connect-src and nothing else', () => {
    const policy = dashboardContentSecurityPolicy(['https://login.example.com', 'https://tokens.example.com']);
    expect(connectSrc(policy)).toBe("connect-src 'self' https://login.example.com https://tokens.example.com");
    expect(policy.replace(connectSrc(policy)!, '')).toBe(dashboardContentSecurityPolicy().replace("connect-src 'self'", ''));
  });
});
