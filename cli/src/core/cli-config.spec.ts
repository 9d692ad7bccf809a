import { describe, expect, it } from 'vitest';
import {
  deleteContext,
  defaultContextName,
  EMPTY_CONFIG,
  isAccessTokenExpiring,
  parseCliConfig,
  resolveTarget,
  upsertContext,
  useContext,
  type CliConfig,
} from './cli-config.js';

const PROD = 'https://fleet.example.com/graphql';
const DEMO = 'http://127.0.0.1:4000/graphql';
const config: CliConfig = {
  currentContext: 'demo',
  contexts: [
    { name: 'demo', server: DEMO, token: 'flt_api_demo' },
    { name: 'prod', server: PROD, oidc: { issuer: 'https://id.example.com', clientId: 'flotilla', accessToken: 'jwt', refreshToken: 'r', expiresAt: '2026-12-06T12:00:00.000Z' } },
  ],
};
const normalise = (server: string) => (server.endsWith('/graphql') ? server : `${server.replace(/\/$/, '')}/graphql`);

describe('parseCliConfig', () => {
  it('reads an empty file as no contexts', () => {
    expect(parseCliConfig(undefined, 'c.yaml')).toEqual(EMPTY_CONFIG);
    expect(parseCliConfig(null, 'c.yaml')).toEqual(EMPTY_CONFIG);
  });

  it('reads what it is given back unchanged', () => {
    expect(parseCliConfig(JSON.parse(JSON.stringify(config)), 'c.yaml')).toEqual(config);
  });

  it.each([
    ['a list', [], 'expected a mapping'],
    ['contexts not a list', { contexts: {} }, 'contexts must be a list'],
    ['a context without server', { contexts: [{ name: 'a' }] }, 'contexts[0].server'],
    ['a token that is a number', { contexts: [{ name: 'a', server: DEMO, token: 5 }] }, 'contexts[0].token'],
    ['an OIDC session without access token', { contexts: [{ name: 'a', server: DEMO, oidc: { issuer: 'i', clientId: 'c' } }] }, 'contexts[0].oidc.accessToken'],
    ['two contexts of one name', { contexts: [{ name: 'a', server: DEMO }, { name: 'a', server: PROD }] }, 'two contexts are named "a"'],
  ])('refuses %s, naming the file and the field', (_what, value, message) => {
    expect(() => parseCliConfig(value, '/home/me/.config/flotilla/config.yaml')).toThrow(message);
    expect(() => parseCliConfig(value, '/home/me/.config/flotilla/config.yaml')).toThrow('/home/me/.config/flotilla/config.yaml');
  });
});

describe('resolveTarget', () => {
  const resolve = (flags: { server?: string; token?: string; context?: string }, env: { FLOTILLA_SERVER?: string; FLOTILLA_TOKEN?: string } = {}) =>
    resolveTarget(config, { flags, env }, normalise);

  it.each([
    { what: '--token over FLOTILLA_TOKEN over the context', flags: { token: 'flag' }, env: { FLOTILLA_TOKEN: 'env' }, token: 'flag', source: '--token' },
    { what: 'FLOTILLA_TOKEN over the context', flags: {}, env: { FLOTILLA_TOKEN: 'env' }, token: 'env', source: 'FLOTILLA_TOKEN' },
    { what: "the context's token", flags: {}, env: {}, token: 'flt_api_demo', source: 'context' },
  ])('takes $what', ({ flags, env, token, source }) => {
    expect(resolve(flags, env)).toMatchObject({ server: DEMO, credential: { kind: 'token', token, source } });
  });

  it('takes the server from --server, then FLOTILLA_SERVER, then the context', () => {
    expect(resolve({ server: 'http://other:1' }, { FLOTILLA_SERVER: 'http://env:2' }).server).toBe('http://other:1/graphql');
    expect(resolve({}, { FLOTILLA_SERVER: 'http://env:2' }).server).toBe('http://env:2/graphql');
    expect(resolve({}).server).toBe(DEMO);
  });

  it("never sends a context's token to another server", () => {
    expect(resolve({ server: 'http://elsewhere:4000' }).credential).toBeUndefined();
  });

  it('uses the context whose server --server names, with its credentials', () => {
    expect(resolve({ server: PROD })).toMatchObject({ server: PROD, context: { name: 'prod' }, credential: { kind: 'oidc', context: 'prod' } });
  });

  it('uses --context over the current context', () => {
    expect(resolve({ context: 'prod' })).toMatchObject({ server: PROD, credential: { kind: 'oidc' } });
  });

  it('says to log in when there is no hub at all, and names an unknown context', () => {
    expect(() => resolveTarget(EMPTY_CONFIG, { flags: {}, env: {} }, normalise)).toThrow('flotilla login --server URL');
    expect(() => resolve({ context: 'nope' })).toThrow('no context named "nope"');
  });
});

describe('contexts', () => {
  it('login adds a context and makes it current; a second login of the same name replaces it', () => {
    const once = upsertContext(EMPTY_CONFIG, { name: 'a', server: DEMO, token: 't1' });
    const twice = upsertContext(once, { name: 'a', server: DEMO, token: 't2' });
    expect(twice).toEqual({ currentContext: 'a', contexts: [{ name: 'a', server: DEMO, token: 't2' }] });
  });

  it('use switches the current context; delete of the current one leaves none current', () => {
    expect(useContext(config, 'prod').currentContext).toBe('prod');
    expect(deleteContext(config, 'demo')).toMatchObject({ currentContext: null, contexts: [{ name: 'prod' }] });
    expect(deleteContext(config, 'prod')).toMatchObject({ currentContext: 'demo', contexts: [{ name: 'demo' }] });
  });

  it('refuses to use or delete a context that does not exist', () => {
    expect(() => useContext(config, 'x')).toThrow('no context named "x"');
    expect(() => deleteContext(config, 'x')).toThrow('no context named "x"');
  });

  it('names a context after the host and port of its server', () => {
    expect(defaultContextName(DEMO)).toBe('127.0.0.1-4000');
    expect(defaultContextName(PROD)).toBe('fleet.example.com');
  });
});

describe('isAccessTokenExpiring', () => {
  const now = new Date('2026-12-06T12:00:00Z');
  it.each([
    ['2026-12-06T11:00:00Z', true],
    ['2026-12-06T12:00:20Z', true],
    ['2026-12-06T12:05:00Z', false],
    [undefined, false],
  ])('an access token expiring at %s is expiring: %s', (expiresAt, want) => {
    expect(isAccessTokenExpiring(expiresAt ? { expiresAt } : {}, now)).toBe(want);
  });
});
