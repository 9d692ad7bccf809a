import { describe, expect, it } from 'vitest';
import { checkCallback, isLoopbackHttp, MAX_ROUND_TRIP_MS, readPendingSignIn, readSsoConfig, type PendingSignIn, type SsoConfig } from './sso-callback';

const now = Date.parse('2026-01-01T12:00:00Z');
const config: SsoConfig = { issuer: 'https://login.example.com', clientId: 'flotilla-web', scopes: 'openid', audience: 'https://hub.example.com' };
const pending: PendingSignIn = { issuer: config.issuer, clientId: config.clientId, state: 'st4te', nonce: 'n0nce', verifier: 'v3rifier', startedAt: now - 30_000 };
const query = (text: string) => new URLSearchParams(text);

describe('checkCallback', () => {
  it.each([
    ['a code with the state this tab sent is exchanged', 'code=abc&state=st4te', pending, config, { kind: 'exchange' }],
    [
      'an error from the identity provider is shown with its description',
      'error=access_denied&error_description=The+user+said+no&state=st4te',
      pending,
      config,
      { kind: 'refused', message: 'The identity provider did not sign you in (access_denied: The user said no). Try again, or sign in with an API token.' },
    ],
    ['an error without a description', 'error=login_required', undefined, config, { kind: 'refused', message: 'The identity provider did not sign you in (login_required). Try again, or sign in with an API token.' }],
    ['a state this tab did not send is refused', 'code=abc&state=other', pending, config, { kind: 'refused', message: expect.stringContaining('(state mismatch)') }],
    ['a missing state is refused', 'code=abc', pending, config, { kind: 'refused', message: expect.stringContaining('(state mismatch)') }],
    ['a callback no sign-in of this tab started is refused', 'code=abc&state=st4te', undefined, config, { kind: 'refused', message: expect.stringContaining('was not started in this tab') }],
    ['a round trip over 10 minutes is refused', 'code=abc&state=st4te', { ...pending, startedAt: now - MAX_ROUND_TRIP_MS - 1 }, config, { kind: 'refused', message: expect.stringContaining('longer than 10 minutes') }],
    ['a round trip started in the future (a clock set back) is refused', 'code=abc&state=st4te', { ...pending, startedAt: now + 60_000 }, config, { kind: 'refused', message: expect.stringContaining('longer than 10 minutes') }],
    ['a hub that stopped offering single sign-on', 'code=abc&state=st4te', pending, undefined, { kind: 'refused', message: expect.stringContaining('no longer offers single sign-on') }],
    ['a hub whose client changed meanwhile', 'code=abc&state=st4te', pending, { ...config, clientId: 'other' }, { kind: 'refused', message: expect.stringContaining('settings changed') }],
    ['a state but no code', 'state=st4te', pending, config, { kind: 'refused', message: expect.stringContaining('no authorization code') }],
  ])('%s', (_case, text, started, settings, expected) => {
    expect(checkCallback(query(text), started, settings, now)).toEqual(expected);
  });
});

describe('readSsoConfig', () => {
  it.each([
    ['single sign-on configured', { oidc: config }, config],
    ['API tokens only', { oidc: null }, undefined],
    ['an empty client id', { oidc: { ...config, clientId: '' } }, undefined],
    ['an issuer that is not http(s)', { oidc: { ...config, issuer: 'javascript:alert(1)' } }, undefined],
    ['not an object', 'oops', undefined],
  ])('%s', (_case, body, expected) => {
    expect(readSsoConfig(body)).toEqual(expected);
  });
});

describe('readPendingSignIn', () => {
  it.each([
    ['what was stored', JSON.stringify(pending), pending],
    ['nothing stored', null, undefined],
    ['not JSON', '{', undefined],
    ['a verifier missing', JSON.stringify({ ...pending, verifier: undefined }), undefined],
    ['a start time that is not a number', JSON.stringify({ ...pending, startedAt: 'now' }), undefined],
  ])('%s', (_case, text, expected) => {
    expect(readPendingSignIn(text)).toEqual(expected);
  });
});

describe('isLoopbackHttp', () => {
  it.each([
    ['http://127.0.0.1:8080', true],
    ['http://localhost:8080/realms/x', true],
    ['http://[::1]:9000', true],
    ['https://127.0.0.1', false],
    ['http://login.example.com', false],
    ['https://login.example.com', false],
  ])('%s: %s', (issuer, expected) => {
    expect(isLoopbackHttp(issuer)).toBe(expected);
  });
});
