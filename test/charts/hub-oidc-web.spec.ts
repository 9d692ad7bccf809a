import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../../hub/src/config/hub-config.js';
import { CHARTS, ensureHelm, helm, render } from './helm.js';
import { containerOf, resolveEnv } from './rendered.js';

// The dashboard's single sign-on in the hub chart: auth.oidc.webClientId and webScopes become
// FLOTILLA_OIDC_WEB_CLIENT_ID and FLOTILLA_OIDC_WEB_SCOPES, which the hub's own loader accepts.

beforeAll(() => ensureHelm(), 300_000);

const WEB_VARIABLES = ['FLOTILLA_OIDC_WEB_CLIENT_ID', 'FLOTILLA_OIDC_WEB_SCOPES'];
const DB = ['--set', 'database.url=postgres://db/f'];
const OIDC = ['--set', 'auth.oidc.issuer=https://idp.example.com', '--set', 'auth.oidc.audience=flotilla', '--set-json', 'auth.oidc.roleBindings=[{"group":"ops","role":"ADMIN"}]'];

describe('flotilla-hub: single sign-on on the dashboard', () => {
  it.each([
    { what: 'OIDC without a web client sets no FLOTILLA_OIDC_WEB_* variable', args: OIDC, env: {}, oidcWeb: undefined },
    {
      what: 'a web client alone keeps the hub’s default scope',
      args: [...OIDC, '--set', 'auth.oidc.webClientId=flotilla-web'],
      env: { FLOTILLA_OIDC_WEB_CLIENT_ID: 'flotilla-web' },
      oidcWeb: { clientId: 'flotilla-web', scopes: ['openid'] },
    },
    {
      what: 'a web client and its scopes, joined with spaces',
      args: [...OIDC, '--set', 'auth.oidc.webClientId=flotilla-web', '--set-json', 'auth.oidc.webScopes=["openid","profile","email"]'],
      env: { FLOTILLA_OIDC_WEB_CLIENT_ID: 'flotilla-web', FLOTILLA_OIDC_WEB_SCOPES: 'openid profile email' },
      oidcWeb: { clientId: 'flotilla-web', scopes: ['openid', 'profile', 'email'] },
    },
  ])('$what', ({ args, env, oidcWeb }) => {
    const rendered = resolveEnv(containerOf(render('flotilla-hub', ['hub-minimal'], args)), { 'flotilla-db': 'postgresql://from-secret', 'flotilla-flotilla-hub-database': 'postgresql://from-secret' });
    expect(Object.fromEntries(Object.entries(rendered).filter(([name]) => WEB_VARIABLES.includes(name)))).toEqual(env);
    expect(loadHubConfig(rendered).oidcWeb).toEqual(oidcWeb);
  });

  it.each([
    { what: 'a web client without an issuer', args: [...DB, '--set', 'auth.oidc.webClientId=flotilla-web'], message: /auth.oidc.issuer is required with .*webClientId/ },
    { what: 'scopes without a web client', args: [...DB, ...OIDC, '--set-json', 'auth.oidc.webScopes=["openid"]'], message: /auth.oidc.webScopes needs auth.oidc.webClientId/ },
    { what: 'scopes without openid', args: [...DB, ...OIDC, '--set', 'auth.oidc.webClientId=w', '--set-json', 'auth.oidc.webScopes=["profile"]'], message: /at '\/auth\/oidc\/webScopes'/ },
    { what: 'offline_access among the scopes', args: [...DB, ...OIDC, '--set', 'auth.oidc.webClientId=w', '--set-json', 'auth.oidc.webScopes=["openid","offline_access"]'], message: /at '\/auth\/oidc\/webScopes\/1'/ },
    { what: 'a client id with a blank inside', args: [...DB, ...OIDC, '--set', 'auth.oidc.webClientId=flotilla web'], message: /at '\/auth\/oidc\/webClientId'/ },
  ])('refuses $what', ({ args, message }) => {
    const run = helm(['template', 'flotilla', join(CHARTS, 'flotilla-hub'), ...args]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(message);
  });
});
