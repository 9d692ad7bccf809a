import { describe, expect, it } from 'vitest';
import { chooseOidcFlow, isLoopbackUrl, sessionFromTokens } from './oidc-flow.js';

describe('chooseOidcFlow', () => {
  const withDevice = { device_authorization_endpoint: 'https://id.example.com/device' };
  it.each([
    { what: 'device code when the issuer offers it', discovery: withDevice, forced: undefined, want: 'device' },
    { what: 'PKCE when it does not', discovery: {}, forced: undefined, want: 'pkce' },
    { what: 'PKCE when told to, even with a device endpoint', discovery: withDevice, forced: 'pkce' as const, want: 'pkce' },
    { what: 'device code when told to and offered', discovery: withDevice, forced: 'device' as const, want: 'device' },
  ])('picks $what', ({ discovery, forced, want }) => {
    expect(chooseOidcFlow(discovery, forced)).toBe(want);
  });

  it('refuses the device flow an issuer does not offer, saying why', () => {
    expect(() => chooseOidcFlow({}, 'device')).toThrow('no device_authorization_endpoint');
  });
});

describe('sessionFromTokens', () => {
  const base = { issuer: 'https://id.example.com', clientId: 'cli' };
  const now = new Date('2026-12-06T12:00:00Z');

  it('keeps the tokens and when the access token expires', () => {
    expect(sessionFromTokens(base, { access_token: 'a', refresh_token: 'r', expires_in: 300 }, now)).toEqual({
      ...base,
      accessToken: 'a',
      refreshToken: 'r',
      expiresAt: '2026-12-06T12:05:00.000Z',
    });
  });

  it('keeps the previous refresh token when a refresh answers none', () => {
    expect(sessionFromTokens(base, { access_token: 'a2' }, now, 'r1')).toEqual({ ...base, accessToken: 'a2', refreshToken: 'r1' });
  });
});

describe('isLoopbackUrl', () => {
  it.each([
    ['http://127.0.0.1:8080', true],
    ['http://localhost:9000/realms/x', true],
    ['http://[::1]:1', true],
    ['http://id.example.com', false],
    ['http://127.0.0.1.nip.io', false],
  ])('%s is on this machine: %s', (url, want) => expect(isLoopbackUrl(new URL(url))).toBe(want));
});
