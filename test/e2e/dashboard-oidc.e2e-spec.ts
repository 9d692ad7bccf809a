import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openBrowserPage, SHOWN_MS, type BrowserPage } from '../harness/browser.js';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { startInteractiveOidcProvider, type InteractiveOidcProvider } from '../harness/oidc-interactive.js';
import { freePort } from '../harness/ports.js';
import { startHub, type HubProcess } from '../harness/processes.js';

const AUDIENCE = 'https://hub.flotilla.test';
const WEB_CLIENT_ID = 'flotilla-web';
/** A short-lived user: the session must end by itself (the access token lives 20 s). */
const BRIEF_USER = 'brief';
/** A user whose only group is bound to no role on the hub. */
const OUTSIDER = 'outsider';

/** The value of one directive of a Content-Security-Policy header. */
const directive = (policy: string | null, name: string) => policy?.split(';').map((d) => d.trim()).find((d) => d.startsWith(`${name} `));

describe('single sign-on on the dashboard (authorization code + PKCE) against a real OpenID provider', () => {
  let db: TestDatabase;
  let provider: InteractiveOidcProvider;
  let hub: HubProcess;
  let origin: string;
  let browser: BrowserPage;
  let page: Page;
  const shown = (locator: Locator) => browser.shown(locator);

  /** Clicks single sign-on and goes through the provider's login form and consent as `user`. */
  const signInAs = async (user: string) => {
    // The provider remembers who signed in with a cookie: forget it, so that each sign-in shows the form.
    await browser.context.clearCookies();
    await page.getByRole('button', { name: 'Sign in with single sign-on' }).click();
    await page.getByPlaceholder('Enter any login').waitFor({ timeout: SHOWN_MS });
    await page.getByPlaceholder('Enter any login').fill(user);
    await page.getByPlaceholder('and password').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    // The provider must know the hub's redirect URI and the hub the provider's issuer: the port comes first.
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    provider = await startInteractiveOidcProvider({
      audience: AUDIENCE,
      clients: [{ clientId: WEB_CLIENT_ID, applicationType: 'web', grantTypes: ['authorization_code'], redirectUris: [`${origin}/auth/callback`] }],
      users: { '*': { groups: ['platform'] }, [BRIEF_USER]: { groups: ['platform'], accessTokenTtlSeconds: 20 }, [OUTSIDER]: { groups: ['contractors'] } },
    });
    hub = await startHub({
      databaseUrl: db.url,
      port,
      env: {
        FLOTILLA_OIDC_ISSUER: provider.issuer,
        FLOTILLA_OIDC_AUDIENCE: AUDIENCE,
        FLOTILLA_OIDC_ROLE_BINDINGS: JSON.stringify([{ group: 'platform', role: 'ADMIN' }]),
        FLOTILLA_OIDC_WEB_CLIENT_ID: WEB_CLIENT_ID,
      },
    });
    browser = await openBrowserPage();
    page = browser.page;
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && page) {
      console.error(`page at ${page.url()}:\n${(await page.locator('body').textContent().catch(() => '')) ?? ''}\nerrors: ${browser.pageErrors.join('\n')}`);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
    await provider?.stop();
    await db?.drop();
  });

  it('publishes how to sign in without a credential, and lets the dashboard reach the identity provider', async () => {
    const response = await fetch(`${origin}/api/auth/config`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ oidc: { issuer: provider.issuer, clientId: WEB_CLIENT_ID, scopes: 'openid', audience: AUDIENCE } });
    const policy = (await fetch(`${origin}/`)).headers.get('content-security-policy');
    expect(directive(policy, 'connect-src')).toBe(`connect-src 'self' ${provider.issuer}`);
    expect(directive(policy, 'form-action')).toBe("form-action 'none'");
  });

  it('a hub without a web client publishes no single sign-on and keeps the dashboard policy to itself', async () => {
    const plain = await startHub({ databaseUrl: db.url, env: { FLOTILLA_OIDC_ISSUER: provider.issuer, FLOTILLA_OIDC_AUDIENCE: AUDIENCE, FLOTILLA_OIDC_ROLE_BINDINGS: '[]' } });
    try {
      const plainOrigin = new URL(plain.graphqlUrl).origin;
      const response = await fetch(`${plainOrigin}/api/auth/config`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ oidc: null });
      const policy = (await fetch(`${plainOrigin}/`)).headers.get('content-security-policy');
      expect(directive(policy, 'connect-src')).toBe("connect-src 'self'");
      expect(policy).not.toContain(provider.issuer);
    } finally {
      await plain.stop();
    }
  });

  it('signs in through the identity provider, lands on the fleet as the OIDC user, and stays signed in across a reload', async () => {
    await page.goto(`${origin}/`);
    await shown(page.getByRole('button', { name: 'Sign in with single sign-on' }));
    await shown(page.getByLabel('API token'));
    await browser.shot('oidc-login');

    await signInAs('alice');
    await page.waitForURL(`${origin}/fleet`, { timeout: SHOWN_MS });
    await shown(page.getByText('Signed in as alice (admin)'));
    // The authorization code and state left the address bar; the round trip's secrets left the tab's storage.
    expect(page.url()).not.toContain('code=');
    const stored = (await page.evaluate('Object.keys(sessionStorage)')) as string[];
    expect(stored).toContain('flotilla.token');
    expect(stored).not.toContain('flotilla.sso.pending');

    await page.reload();
    await shown(page.getByText('Signed in as alice (admin)'));
    expect(page.url()).toBe(`${origin}/fleet`);
  });

  it('names the OIDC actor in the audit log', async () => {
    const token = (await page.evaluate("sessionStorage.getItem('flotilla.token')")) as string;
    await graphqlClient(`${origin}/graphql`, token).must(`mutation { registerCluster(input: { name: "sso-made" }) { bootstrapToken } }`);
    await page.getByRole('link', { name: 'Audit', exact: true }).click();
    await page.getByLabel('Kind').fill('registerCluster');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await eventually(async () => JSON.stringify(await page.getByRole('rowheader').allTextContents()) === JSON.stringify(['registerCluster']), { what: 'the registration listed' });
    const row = (await page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'registerCluster' }) }).textContent()) ?? '';
    expect(row).toContain('oidc:alice');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await shown(page.getByRole('status').filter({ hasText: 'You signed out.' }));
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });

  it('shows the hub’s refusal when none of the user’s groups is bound to a role', async () => {
    await signInAs(OUTSIDER);
    await shown(page.getByRole('alert').filter({ hasText: `OIDC subject "${OUTSIDER}" has no role on this hub` }));
    await page.getByRole('link', { name: 'Back to the sign-in page' }).click();
    await shown(page.getByRole('button', { name: 'Sign in with single sign-on' }));
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });

  it.each([
    ['an error from the identity provider', '?error=access_denied&error_description=The+user+declined&state=x', 'The identity provider did not sign you in (access_denied: The user declined)'],
    ['an answer to a sign-in this tab never started', '?code=forged&state=forged', 'This sign-in was not started in this tab'],
  ])('explains %s at the callback', async (_case, query, message) => {
    await page.goto(`${origin}/auth/callback${query}`);
    await shown(page.getByRole('alert').filter({ hasText: message }));
    expect(page.url()).toBe(`${origin}/`);
  });

  it('ends the session when the access token expires, and says to sign in again', async () => {
    await page.goto(`${origin}/`);
    await signInAs(BRIEF_USER);
    await shown(page.getByText(`Signed in as ${BRIEF_USER} (admin)`));
    // The token lives 20 s; the page ends the session at its expiry, without being asked to.
    await page.getByRole('status').filter({ hasText: 'Your session ended' }).waitFor({ timeout: 60_000 });
    expect(await page.getByRole('status').textContent()).toContain('Sign in again');
    await shown(page.getByRole('button', { name: 'Sign in with single sign-on' }));
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });

  it('asked no host but the hub and the identity provider, and the pages broke no Content-Security-Policy rule', () => {
    const allowed = new Set([new URL(origin).host, new URL(provider.issuer).host]);
    const elsewhere = browser.requested.filter((url) => !url.startsWith('data:') && !allowed.has(new URL(url).host));
    expect(elsewhere).toEqual([]);
    expect(browser.requested.some((url) => url.startsWith(`${provider.issuer}/token`))).toBe(true);
    expect(browser.pageErrors.filter((text) => /Content Security Policy|Refused to/i.test(text))).toEqual([]);
  });
});
