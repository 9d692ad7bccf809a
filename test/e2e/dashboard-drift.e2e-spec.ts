import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openBrowserPage, SHOWN_MS, type BrowserPage } from '../harness/browser.js';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { startAgent, startHub, type HubProcess, type ManagedProcess } from '../harness/processes.js';

// Drift seen for real, agent → hub → API → page: sim agents edit live fields out of band (FLOTILLA_SIM_DRIFT).

/** The value the simulated hand edit writes into the Secret: it must never leave the agent. */
const TYPED_SECRET = 'typed-by-hand-4f1c';
/** The Secret's applied value (inline, allowed for this test). */
const APPLIED_SECRET = 'applied-pa55-9d2e';

const webAppSet = `apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: web }
spec:
  secrets: { allowInline: true }
  generators:
    - clusters: { selector: { matchLabels: { role: web } } }
  template:
    namespace: shop
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: web }
        data: { color: blue, size: m }
      - apiVersion: v1
        kind: Secret
        metadata: { name: web-credentials }
        type: Opaque
        stringData: { password: ${APPLIED_SECRET} }
  syncPolicy: { drift: report }
  strategy:
    waves: [{ name: all, soak: 0s }]
`;

const healerAppSet = `apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: healer }
spec:
  generators:
    - clusters: { selector: { matchLabels: { role: healer } } }
  template:
    namespace: shop
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: healer }
        data: { replicas: "2" }
  syncPolicy: { drift: heal }
  strategy:
    waves: [{ name: all, soak: 0s }]
`;

interface DriftedField {
  path: string;
  expected: string | null;
  live: string | null;
  redacted: boolean;
  valuesKnown: boolean;
}
interface AppResources {
  name: string;
  syncStatus: string;
  drifted: boolean;
  resources: { kind: string; name: string; drifted: boolean; drift: DriftedField[] }[];
}
const APPS = `query($c: String!) { cluster(name: $c) { apps { name syncStatus drifted resources { kind name drifted drift { path expected live redacted valuesKnown } } } } }`;

describe('drifted fields on the dashboard, from sim agents that drift', () => {
  let db: TestDatabase;
  let hub: HubProcess;
  const agents: ManagedProcess[] = [];
  let browser: BrowserPage;
  let page: Page;
  let origin: string;
  let api: ReturnType<typeof graphqlClient>;

  const shown = (locator: Locator) => browser.shown(locator);
  const appsOn = async (cluster: string) => (await api.must<{ cluster: { apps: AppResources[] } }>(APPS, { c: cluster })).cluster.apps;

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startHub({ databaseUrl: db.url });
    origin = new URL(hub.graphqlUrl).origin;
    api = graphqlClient(hub.graphqlUrl, hub.adminToken);
    const clusters: { name: string; role: string; env: Record<string, string> }[] = [
      // The edit of a Secret field and of a ConfigMap field, after the App settles; kept (drift: report).
      { name: 'eu-1', role: 'web', env: { FLOTILLA_SIM_DRIFT: `web:ConfigMap/web:data.color=red,web:Secret/web-credentials:stringData.password=${TYPED_SECRET}` } },
      // Healed (drift: heal) a settle delay after the edit: long enough to be seen drifted first.
      { name: 'eu-2', role: 'healer', env: { FLOTILLA_SIM_DRIFT: 'healer:ConfigMap/healer:data.replicas=5', FLOTILLA_SIM_HEALTHY_AFTER_MS: '4000' } },
    ];
    for (const cluster of clusters) {
      const { registerCluster } = await api.must<{ registerCluster: { bootstrapToken: string } }>(
        `mutation($name: String!, $labels: JSONObject) { registerCluster(input: { name: $name, labels: $labels }) { bootstrapToken } }`,
        { name: cluster.name, labels: { role: cluster.role } },
      );
      agents.push(startAgent({ hubAddress: hub.grpcAddress, hubCa: hub.caBundle, cluster: cluster.name, bootstrapToken: registerCluster.bootstrapToken, env: cluster.env }));
    }
    await eventually(async () => (await api.must<{ clusters: { connected: boolean }[] }>(`{ clusters { connected } }`)).clusters.every((c) => c.connected), {
      what: 'both agents connected',
    });
    for (const yaml of [webAppSet, healerAppSet]) {
      const applied = await api.must<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code message } } }`, { y: yaml });
      expect(applied.applyAppSet.issues).toEqual([]);
    }
    browser = await openBrowserPage();
    page = browser.page;
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && page) {
      await browser.shot(`drift-failed-${context.task.name.slice(0, 40).replace(/[^a-z0-9]+/gi, '-')}`);
      console.error(`the page when "${context.task.name}" failed:\n${(await page.locator('body').innerText()).slice(0, 4000)}`);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all(agents.map((agent) => agent.stop()));
    await hub?.stop();
    await db?.drop();
  });

  it('signs in with the admin token and starts a rollout of web from the page', async () => {
    await page.goto(`${origin}/`);
    await page.getByLabel('API token').fill(hub.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await shown(page.getByRole('heading', { name: 'Fleet', level: 1 }));

    await page.getByRole('link', { name: 'Rollouts', exact: true }).click();
    await page.getByRole('button', { name: 'Start a rollout of web', exact: true }).click();
    const modal = page.getByRole('alertdialog', { name: 'Start a rollout of web?' });
    await shown(modal);
    await modal.getByLabel(/Reason|Message/).fill('drift test');
    await modal.getByRole('button', { name: 'Start rollout', exact: true }).click();
    await modal.waitFor({ state: 'hidden', timeout: SHOWN_MS });
    await shown(page.getByRole('heading', { name: /^Rollout \S+ of web$/ }));
  });

  it('stores the drift the agent found: the ConfigMap field with both values, the Secret field redacted', async () => {
    const web = await eventually(async () => (await appsOn('eu-1')).find((app) => app.name === 'web' && app.drifted && app.resources.every((r) => r.drifted)), {
      what: 'web drifted on eu-1',
    });
    expect(web.syncStatus).toBe('OUT_OF_SYNC');
    const byKind = new Map(web.resources.map((resource) => [resource.kind, resource.drift]));
    expect(byKind.get('ConfigMap')).toEqual([{ path: 'data.color', expected: '"blue"', live: '"red"', redacted: false, valuesKnown: true }]);
    expect(byKind.get('Secret')).toEqual([{ path: 'stringData.password', expected: null, live: null, redacted: true, valuesKnown: true }]);
    const response = JSON.stringify(await api.must(APPS, { c: 'eu-1' }));
    expect(response).not.toContain(TYPED_SECRET);
    expect(response).not.toContain(APPLIED_SECRET);
  });

  it('opens the App on its cluster and sees the drifted field as a diff of its applied and live values', async () => {
    await page.getByRole('link', { name: 'AppSets', exact: true }).click();
    await page.getByRole('link', { name: 'web', exact: true }).click();
    await page.getByRole('link', { name: 'web on eu-1' }).click();
    await shown(page.getByRole('heading', { name: 'App web on eu-1' }));

    const objects = page.getByRole('table', { name: 'Objects' });
    const configMap = objects.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /^ConfigMap (\S+\/)?web$/ }) });
    const fields = configMap.getByRole('list', { name: 'Drifted fields of ConfigMap web' });
    await shown(fields);
    expect(await configMap.textContent()).toContain('Drifted');
    expect(await fields.getByRole('listitem').count()).toBe(1);
    expect(await fields.getByRole('code').first().textContent()).toBe('data.color');
    const diff = (await fields.getByLabel('data.color: applied value (-), live value (+)').textContent()) ?? '';
    expect(diff.split('\n').filter((line) => line !== '')).toEqual(['- "blue"', '+ "red"']);
    await shown(page.getByText('In a drifted field, “-” is the value as applied and “+” the live value.'));
    await browser.shot('drift-app');
  });

  it('shows a drifted Secret field as hidden, never its value', async () => {
    const secret = page
      .getByRole('table', { name: 'Objects' })
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: /^Secret (\S+\/)?web-credentials$/ }) });
    const fields = secret.getByRole('list', { name: 'Drifted fields of Secret web-credentials' });
    await shown(fields);
    expect(await fields.textContent()).toContain('stringData.password');
    expect(await fields.textContent()).toContain('value hidden (secret)');
    const text = await page.locator('body').innerText();
    expect(text).not.toContain(TYPED_SECRET);
    expect(text).not.toContain(APPLIED_SECRET);
    expect(await page.content()).not.toContain(TYPED_SECRET);
  });

  it('heals drift under the heal policy: seen drifted with its values, then back in sync', async () => {
    await api.must(`mutation { startRollout(appSet: "healer") { id } }`);
    const drifted = await eventually(async () => (await appsOn('eu-2')).find((app) => app.name === 'healer' && app.drifted), { what: 'healer drifted on eu-2', intervalMs: 100 });
    expect(drifted.resources[0]?.drift).toEqual([{ path: 'data.replicas', expected: '"2"', live: '5', redacted: false, valuesKnown: true }]);
    const healed = await eventually(async () => (await appsOn('eu-2')).find((app) => app.name === 'healer' && !app.drifted && app.syncStatus === 'SYNCED'), { what: 'healer healed on eu-2' });
    expect(healed.resources[0]).toMatchObject({ drifted: false, drift: [] });
  });

  it('asked no host but the hub, and the page broke no Content-Security-Policy rule', () => {
    const hubHost = new URL(origin).host;
    const elsewhere = browser.requested.filter((url) => !url.startsWith('data:') && new URL(url).host !== hubHost);
    expect(elsewhere).toEqual([]);
    expect(browser.pageErrors.filter((text) => /Content Security Policy|Refused to/i.test(text))).toEqual([]);
  });
});
