import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openBrowserPage, SHOWN_MS, type BrowserPage } from '../harness/browser.js';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { startAgent, startHub, type HubProcess, type ManagedProcess } from '../harness/processes.js';


const CLUSTERS = [
  { name: 'us-1', region: 'us' },
  { name: 'us-2', region: 'us' },
  { name: 'eu-1', region: 'eu' },
  { name: 'eu-2', region: 'eu' },
];

/** Two waves: us (soaks long enough to be seen as the current wave), then eu (waits for approval). */
const appSet = (greeting: string) => `apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: web }
spec:
  generators:
    - clusters: {}
  template:
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: web }
        data: { greeting: ${greeting}, region: "{{ cluster.labels.region }}" }
  strategy:
    waves:
      - { name: us, selector: { matchLabels: { region: us } }, soak: 8s }
      - { name: eu, selector: { matchLabels: { region: eu } }, approval: true, soak: 1s }
`;

describe('the dashboard in a browser, against a hub with four sim agents in two regions', () => {
  let db: TestDatabase;
  let hub: HubProcess;
  const agents: ManagedProcess[] = [];
  let browser: BrowserPage;
  let page: Page;
  let origin: string;

  const shot = (name: string) => browser.shot(name);
  const shown = (locator: Locator) => browser.shown(locator);
  /** Opens a confirmation from its button, types the reason and confirms. */
  const confirm = async (button: string, dialog: string | RegExp, confirmLabel: string, reason: string) => {
    await page.getByRole('button', { name: button, exact: true }).click();
    const modal = page.getByRole('alertdialog', { name: dialog });
    await shown(modal);
    await modal.getByLabel(/Reason|Message/).fill(reason);
    await modal.getByRole('button', { name: confirmLabel, exact: true }).click();
    await modal.waitFor({ state: 'hidden', timeout: SHOWN_MS });
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startHub({ databaseUrl: db.url });
    origin = new URL(hub.graphqlUrl).origin;
    const api = graphqlClient(hub.graphqlUrl, hub.adminToken);
    for (const cluster of CLUSTERS) {
      const { registerCluster } = await api.must<{ registerCluster: { bootstrapToken: string } }>(
        `mutation($name: String!, $labels: JSONObject) { registerCluster(input: { name: $name, labels: $labels }) { bootstrapToken } }`,
        { name: cluster.name, labels: { region: cluster.region } },
      );
      agents.push(startAgent({ hubAddress: hub.grpcAddress, hubCa: hub.caBundle, cluster: cluster.name, bootstrapToken: registerCluster.bootstrapToken }));
    }
    await eventually(async () => (await api.must<{ clusters: { connected: boolean }[] }>(`{ clusters { connected } }`)).clusters.every((c) => c.connected), {
      what: 'four agents connected',
    });
    const applied = await api.must<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code message } } }`, { y: appSet('hello') });
    expect(applied.applyAppSet.issues).toEqual([]);

    browser = await openBrowserPage();
    page = browser.page;
  });

  afterEach(async (context) => {
    // What the page showed when a step failed, beside the screenshots of each view.
    if (context.task.result?.state === 'fail' && page) {
      await shot(`failed-${context.task.name.slice(0, 40).replace(/[^a-z0-9]+/gi, '-')}`);
      console.error(`the page when "${context.task.name}" failed:\n${(await page.locator('body').innerText()).slice(0, 4000)}`);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all(agents.map((agent) => agent.stop()));
    await hub?.stop();
    await db?.drop();
  });

  it('refuses a wrong token on the sign-in page and signs in with the admin token', async () => {
    await page.goto(`${origin}/`);
    await shown(page.getByLabel('API token'));
    await shot('login');
    await page.getByLabel('API token').fill('flt_api_not-a-real-token-0000000000000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await shown(page.getByRole('alert').filter({ hasText: 'The hub refused this token.' }));

    await page.getByLabel('API token').fill(hub.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await shown(page.getByRole('heading', { name: 'Fleet', level: 1 }));
    expect(new URL(page.url()).pathname).toBe('/fleet');
  });

  it('shows the fleet grouped by region, each cluster connected with its Kubernetes version, and filters by label and state', async () => {
    await shown(page.getByRole('heading', { name: /region=eu/ }));
    const eu = page.getByRole('region', { name: 'region=eu' });
    const us = page.getByRole('region', { name: 'region=us' });
    expect(await eu.getByRole('rowheader').allTextContents()).toEqual(['eu-1', 'eu-2']);
    expect(await us.getByRole('rowheader').allTextContents()).toEqual(['us-1', 'us-2']);
    const versions = await graphqlClient(hub.graphqlUrl, hub.adminToken).must<{ clusters: { name: string; kubernetesVersion: string | null }[] }>(`{ clusters { name kubernetesVersion } }`);
    for (const { name, kubernetesVersion } of versions.clusters) {
      expect(kubernetesVersion).toBeTruthy();
      const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name, exact: true }) });
      await shown(row.getByText('Connected'));
      expect(await row.getByRole('cell').allTextContents()).toContain(kubernetesVersion);
    }
    await shot('fleet');

    await page.getByLabel('Filter by name or label').fill('region=us');
    await eu.waitFor({ state: 'detached', timeout: SHOWN_MS });
    expect(await page.getByRole('rowheader').allTextContents()).toEqual(['us-1', 'us-2']);

    await page.getByLabel('Filter by name or label').fill('');
    await page.getByLabel('Show').selectOption('offline');
    await shown(page.getByText('No cluster matches.'));
    await page.getByLabel('Show').selectOption('all');
    await shown(eu);
  });

  it('survives a reload: the token stays in the tab', async () => {
    await page.reload();
    await shown(page.getByRole('heading', { name: 'Fleet', level: 1 }));
  });

  it('previews an AppSet change with its per-cluster diff, then applies it after a confirmation', async () => {
    await page.getByRole('link', { name: 'AppSets', exact: true }).click();
    await page.getByRole('link', { name: 'web' }).click();
    await shown(page.getByRole('heading', { name: 'AppSet web' }));
    await shown(page.getByRole('table', { name: 'Apps by cluster' }));
    await shot('app-set');

    await page.getByRole('link', { name: 'Edit and preview a change' }).click();
    const document = page.getByLabel('AppSet document (YAML)');
    // Opened from the AppSet, the document starts as its current revision.
    await eventually(async () => (await document.inputValue()).includes('greeting: hello'), { what: 'the current document in the editor' });
    await document.fill(appSet('bonjour'));
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    const result = page.getByRole('region', { name: 'Preview result' });
    await shown(result.getByText('0 Apps added, 4 changed, 0 removed, 0 unchanged.'));
    const onEu1 = result.getByRole('region', { name: 'Cluster eu-1' });
    expect(await onEu1.getByRole('heading').first().textContent()).toBe('Cluster eu-1: 0 added, 1 changed, 0 removed');
    const diff = await onEu1.getByLabel('Diff of App web on eu-1').textContent();
    expect(diff).toMatch(/^-\s+greeting: hello$/m);
    expect(diff).toMatch(/^\+\s+greeting: bonjour$/m);
    await shot('preview');

    // By keyboard: Enter on the button opens the dialog with the focus in its field, Enter confirms.
    await page.getByRole('button', { name: 'Apply', exact: true }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('alertdialog', { name: 'Apply this AppSet document?' });
    await shown(dialog);
    await page.keyboard.type('say bonjour');
    expect(await dialog.getByLabel('Message (kept with the revision)').inputValue()).toBe('say bonjour');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'hidden', timeout: SHOWN_MS });
    await shown(page.getByRole('status').filter({ hasText: 'Applied: web is at revision 2.' }));
  });

  it('starts a rollout and shows its waves advancing live, in order, the current one marked', async () => {
    await page.getByRole('link', { name: 'Rollouts', exact: true }).click();
    await confirm('Start a rollout of web', 'Start a rollout of web?', 'Start rollout', 'dashboard test');
    await shown(page.getByRole('heading', { name: /^Rollout \S+ of web$/ }));
    // Marks this document: a reload would lose the mark, so seeing it later proves the page updated live.
    await page.locator('body').evaluate((body) => body.setAttribute('data-loaded-once', 'yes'));

    const waves = page.getByRole('list', { name: 'Waves' });
    expect(await waves.getByRole('heading', { level: 3 }).allTextContents()).toEqual(['1. us', '2. eu']);
    const us = waves.getByRole('listitem', { name: 'Wave us' });
    const eu = waves.getByRole('listitem', { name: 'Wave eu' });
    await shown(us.getByText('Current wave'));
    expect(await us.getAttribute('aria-current')).toBe('step');
    expect(await eu.getByText('Waiting', { exact: true }).count()).toBe(1);
    await shot('rollout-first-wave');
    // Once both us clusters are healthy, the wave soaks for 8 s and the page counts it down.
    await shown(us.getByText(/Soaking: \d s left of 8 s/));

    await shown(eu.getByText('Current wave'));
    expect(await eu.getAttribute('aria-current')).toBe('step');
    expect(await us.getAttribute('aria-current')).toBeNull();
    await shown(us.getByText('Done', { exact: true }));
    await shown(eu.getByText('Needs approval'));
    await shown(page.getByTestId('rollout-reason').filter({ hasText: 'wave eu awaits approval' }));
    const chart = page.getByRole('figure', { name: 'Targets by state per wave' });
    await shown(chart.getByText('us: 2 of 2 healthy; eu: 0 of 2 healthy'));
    expect(await page.locator('body').getAttribute('data-loaded-once')).toBe('yes');
    await shot('rollout-awaiting-approval');
  });

  it('pauses and resumes the rollout from the page, then approves the last wave and sees it succeed', async () => {
    const phase = page.getByLabel('Phase');
    // Escape cancels a confirmation: nothing happens.
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await shown(page.getByRole('alertdialog'));
    await page.keyboard.press('Escape');
    await page.getByRole('alertdialog').waitFor({ state: 'hidden', timeout: SHOWN_MS });
    expect(await phase.textContent()).toContain('Progressing');

    await confirm('Pause', /^Pause rollout \S+\?$/, 'Pause rollout', 'freeze for the dashboard test');
    await shown(phase.getByText('Paused'));
    await shot('rollout-paused');

    await confirm('Resume', /^Resume rollout \S+\?$/, 'Resume rollout', 'freeze over');
    await shown(phase.getByText('Progressing'));

    await confirm('Approve wave eu', 'Approve wave eu?', 'Approve wave', 'eu looks ready');
    await shown(phase.getByText('Succeeded'));
    const eu = page.getByRole('list', { name: 'Waves' }).getByRole('listitem', { name: 'Wave eu' });
    await shown(eu.getByText('2/2 healthy', { exact: false }));
    expect(await page.locator('body').getAttribute('data-loaded-once')).toBe('yes');
    await shot('rollout-succeeded');
  });

  it('reads the pause in the audit log, filtered by kind', async () => {
    await page.getByRole('link', { name: 'Audit', exact: true }).click();
    await page.getByLabel('Kind').fill('pauseRollout');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    // The table shows every kind until the filtered page arrives.
    await eventually(async () => JSON.stringify(await page.getByRole('rowheader').allTextContents()) === JSON.stringify(['pauseRollout']), { what: 'only the pause listed' });
    const row = (await page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'pauseRollout' }) }).textContent()) ?? '';
    expect(row).toContain('token:bootstrap-admin');
    expect(row).toContain('Success');
    expect(row).toContain('freeze for the dashboard test');
    await shot('audit');
  });

  it('opens an App on a cluster with its objects and parameters, and compares two revisions of its AppSet', async () => {
    await page.getByRole('link', { name: 'AppSets', exact: true }).click();
    await page.getByRole('link', { name: 'web', exact: true }).click();
    await page.getByRole('link', { name: 'web on eu-1' }).click();
    await shown(page.getByRole('heading', { name: 'App web on eu-1' }));
    const objects = page.getByRole('table', { name: 'Objects' });
    const configMap = objects.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /^ConfigMap (\S+\/)?web$/ }) });
    await shown(configMap);
    expect(await configMap.textContent()).toContain('As applied');
    expect(await page.getByLabel('Parameters').textContent()).toContain('"region": "eu"');
    await shot('app');

    await page.getByRole('link', { name: 'AppSet web' }).click();
    await shown(page.getByRole('heading', { name: 'Compare revisions' }));
    const diff = page.getByLabel('Diff from revision 1 to 2');
    await shown(diff);
    expect(await diff.textContent()).toMatch(/^-.*greeting: hello$/m);
    expect(await diff.textContent()).toMatch(/^\+.*greeting: bonjour$/m);
  });

  it('shows a viewer the rollout without its buttons, and ends the session when the token is revoked', async () => {
    const api = graphqlClient(hub.graphqlUrl, hub.adminToken);
    const { createApiToken } = await api.must<{ createApiToken: { token: string; apiToken: { id: string } } }>(
      `mutation { createApiToken(input: { name: "dashboard-viewer", role: VIEWER, project: "default", expiresIn: "1h" }) { token apiToken { id } } }`,
    );
    await page.getByRole('button', { name: 'Sign out' }).click();
    await shown(page.getByRole('status').filter({ hasText: 'You signed out.' }));
    await page.getByLabel('API token').fill(createApiToken.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await shown(page.getByText('Signed in as dashboard-viewer (default: viewer)'));

    await page.getByRole('link', { name: 'Rollouts', exact: true }).click();
    await page.getByRole('link', { name: /^Rollout / }).first().click();
    await shown(page.getByText('You may watch this rollout; changing it needs the OPERATOR role in project default.'));
    for (const name of ['Pause', 'Resume', 'Abort', 'Roll back']) expect(await page.getByRole('button', { name, exact: true }).count()).toBe(0);
    await page.getByRole('link', { name: 'Rollouts', exact: true }).click();
    await shown(page.getByRole('heading', { name: 'Rollouts', level: 1 }));
    await shown(page.getByRole('heading', { name: /^web / }));
    expect(await page.getByRole('button', { name: /^Start a rollout/ }).count()).toBe(0);

    await api.must(`mutation($id: ID!) { revokeApiToken(id: $id) { id } }`, { id: createApiToken.apiToken.id });
    // The list refreshes by itself; its next request is refused and the page returns to the sign-in form.
    await shown(page.getByRole('status').filter({ hasText: 'Your session ended' }));
    await shown(page.getByLabel('API token'));
    expect(await page.evaluate('sessionStorage.length')).toBe(0);

    // A tab reloaded with a token the hub no longer accepts says the session ended, and forgets it.
    await page.evaluate(`sessionStorage.setItem('flotilla.token', ${JSON.stringify(createApiToken.token)})`);
    await page.reload();
    await shown(page.getByRole('status').filter({ hasText: 'Your session ended' }));
    await shown(page.getByLabel('API token'));
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });

  it('asked no host but the hub, and the page broke no Content-Security-Policy rule', () => {
    const hubHost = new URL(origin).host;
    const elsewhere = browser.requested.filter((url) => !url.startsWith('data:') && new URL(url).host !== hubHost);
    expect(elsewhere).toEqual([]);
    expect(browser.requested.some((url) => url.startsWith(`ws://${hubHost}/graphql`))).toBe(true);
    expect(browser.pageErrors.filter((text) => /Content Security Policy|Refused to/i.test(text))).toEqual([]);
  });
});
