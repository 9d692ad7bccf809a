import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowserPage, SHOWN_MS, type BrowserPage } from '../harness/browser.js';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { startHub, type HubProcess } from '../harness/processes.js';

/**
 * GraphiQL at /graphiql is a page of the built dashboard, bundled with the hub: a person opens it,
 * gives the Authorization header in its headers editor (or has it prefilled from the dashboard's
 * session), runs operations over HTTP and WebSocket, and reads the answers in the result pane. The
 * page asks no host but the hub and breaks no rule of its Content-Security-Policy.
 */

// Named: GraphiQL shows an operation's name on its tab once it has read the edited text (100 ms after
// typing stops), and only then does Execute pick HTTP or WebSocket by the operation's kind.
const ME = 'query Me { me { actor kind admin } }';
/** Another selection, so that its answer cannot be mistaken for a result GraphiQL kept from before a reload. */
const ME_NAMED = 'query MeNamed { me { name actor } }';
/** Introspection on (as with `npm start`), under the hub's default depth and cost limits. */
const INTROSPECTION_ENV = { FLOTILLA_GRAPHQL_INTROSPECTION: 'true' };
const PROGRESS = 'subscription Progress { rolloutProgress(id: "00000000-0000-0000-0000-000000000000") { id phase } }';

/**
 * The JSON a Monaco editor shows, as one line: Monaco lays out spaces as no-break spaces and wraps long
 * lines (a line break is never inside a JSON token but where it wraps, so dropping them keeps the JSON).
 */
async function shownJson(editor: Locator): Promise<unknown> {
  // Monaco shows its text only as laid-out lines, beside the line numbers: read those lines.
  return JSON.parse((await editor.locator('.view-lines').innerText()).replace(/\u00a0/g, ' ').replace(/\n/g, ''));
}

describe('GraphiQL in a browser, served by the hub at /graphiql', () => {
  let db: TestDatabase;
  let hub: HubProcess;
  let browser: BrowserPage;
  let signedIn: BrowserPage;
  let page: Page;
  let origin: string;
  let me: unknown;
  let meNamed: unknown;

  // GraphiQL's editors are Monaco editors (role "code") in labelled regions; the Headers region also
  // holds the hidden variables editor.
  const operationEditor = () => page.getByRole('region', { name: 'Operation Editor' }).getByRole('code');
  const headersEditor = () => page.getByRole('region', { name: 'Headers' }).getByRole('code').filter({ visible: true });
  const resultWindow = () => page.getByRole('region', { name: 'Result Window' }).getByRole('code');

  /** Replaces what an editor holds, as a person does: click into it, select all, type over it. */
  const replaceText = async (editor: Locator, text: string) => {
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText(text);
    // Monaco closes brackets and quotes as they are typed, after the cursor: drop what it added.
    await page.keyboard.press('Shift+ControlOrMeta+End');
    await page.keyboard.press('Delete');
  };
  /** Types an operation into the operation editor and runs it with the Execute button. */
  const run = async (operation: string) => {
    await replaceText(operationEditor(), operation);
    await browser.shown(page.getByRole('tab', { name: /^(query|subscription) (\w+)/.exec(operation)![2], exact: true }));
    await page.getByRole('button', { name: /^Execute query/ }).click();
  };
  /** The result pane's JSON, once it parses and `ready` accepts it. */
  const result = (ready: (json: Record<string, unknown>) => boolean) =>
    eventually(async () => {
      const json = (await shownJson(resultWindow())) as Record<string, unknown>;
      if (!ready(json)) throw new Error(`not the answer yet: ${JSON.stringify(json)}`);
      return json;
    }, { timeoutMs: SHOWN_MS, what: 'the answer in the result pane' });

  beforeAll(async () => {
    db = await createTestDatabase();
    // Introspection on, with limits that admit GraphiQL's introspection query (15 fields deep, an
    // estimated cost near 110 000), so that its documentation explorer and validation have the schema.
    hub = await startHub({ databaseUrl: db.url, env: INTROSPECTION_ENV });
    origin = new URL(hub.graphqlUrl).origin;
    const api = graphqlClient(hub.graphqlUrl, hub.adminToken);
    me = (await api.must<{ me: unknown }>(ME)).me;
    meNamed = (await api.must<{ me: unknown }>(ME_NAMED)).me;
    browser = await openBrowserPage();
    page = browser.page;
  });

  afterAll(async () => {
    await browser?.close();
    await signedIn?.close();
    await hub?.stop();
    await db?.drop();
  });

  it('opens without a credential, its headers editor waiting for a bearer token', async () => {
    await page.goto(`${origin}/graphiql`);
    await browser.shown(operationEditor());
    await browser.shown(headersEditor());
    expect(await shownJson(headersEditor())).toEqual({ Authorization: 'Bearer ' });
  });

  it('runs a query with the Authorization header the user types and shows the answer in the result pane', async () => {
    await replaceText(headersEditor(), JSON.stringify({ Authorization: `Bearer ${hub.adminToken}` }));
    await run(ME);
    expect(await result((json) => 'data' in json)).toEqual({ data: { me } });
    // The screenshot is kept as an artifact: the token in the headers editor is painted over.
    await browser.shot('graphiql', [headersEditor()]);
  });

  it('with introspection on, shows the schema in its documentation explorer and flags an unknown field', async () => {
    // The schema was first asked for without a token; now that the header is set, ask again.
    await page.getByRole('button', { name: /^Re-fetch GraphQL schema/ }).click();
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    await browser.shown(page.getByText('All Schema Types'));
    await browser.shown(page.getByText('AppSetRevision', { exact: true }));
    // Validation runs in Monaco's GraphQL worker, a file of the build that the page's policy lets start.
    await replaceText(operationEditor(), 'query Bad { me { nosuchfield } }');
    await eventually(async () => {
      await page.keyboard.press('F8');
      return page.getByText('Cannot query field "nosuchfield" on type "Me".').first().isVisible();
    }, { timeoutMs: SHOWN_MS, what: 'the editor to flag the unknown field' });
    await page.keyboard.press('Escape');
  });

  it('runs a subscription over the hub’s WebSocket with the same header', async () => {
    // No rollout has this id: an authenticated socket gets the resolver's NOT_FOUND (a refused one would close instead).
    await run(PROGRESS);
    const answer = await result((json) => 'errors' in json);
    expect((answer['errors'] as { extensions?: { code?: string } }[]).map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(browser.requested.filter((url) => url.startsWith('ws:')).map((url) => new URL(url).pathname)).toContain('/graphql');
  });

  it('prefills the header from the dashboard’s session of the same tab', async () => {
    // A browser that never used GraphiQL (the first one keeps GraphiQL's tabs and last result in localStorage).
    signedIn = await openBrowserPage();
    const tab = signedIn.page;
    await tab.goto(`${origin}/`);
    await tab.getByLabel('API token').fill(hub.adminToken);
    await tab.getByRole('button', { name: 'Sign in' }).click();
    await signedIn.shown(tab.getByRole('button', { name: 'Sign out' }));
    await tab.goto(`${origin}/graphiql`);
    page = tab;
    await browser.shown(headersEditor());
    expect(await shownJson(headersEditor())).toEqual({ Authorization: `Bearer ${hub.adminToken}` });
    await run(ME_NAMED);
    expect(await result((json) => 'data' in json)).toEqual({ data: { me: meNamed } });
    // The token stays in the tab's sessionStorage: GraphiQL keeps no copy of the headers.
    expect(await tab.evaluate("Object.values(localStorage).some((value) => value.includes('Bearer '))")).toBe(false);
  });

  it('sends the built file /graphiql.html on to /graphiql, where its own policy applies', async () => {
    const answer = await fetch(`${origin}/graphiql.html`, { redirect: 'manual' });
    expect(answer.status).toBe(301);
    expect(answer.headers.get('location')).toBe('/graphiql');
  });

  it('asked no host but the hub, and the pages broke no Content-Security-Policy rule', () => {
    const hubHost = new URL(origin).host;
    for (const visited of [browser, signedIn]) {
      const elsewhere = visited.requested.filter((url) => !url.startsWith('data:') && new URL(url).host !== hubHost);
      expect(elsewhere).toEqual([]);
      expect(visited.pageErrors.filter((text) => /Content Security Policy|Refused to/i.test(text))).toEqual([]);
    }
  });
});
