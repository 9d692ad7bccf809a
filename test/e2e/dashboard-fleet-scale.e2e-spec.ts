import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openBrowserPage, SHOWN_MS, type BrowserPage } from '../harness/browser.js';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { startHub, type HubProcess } from '../harness/processes.js';

const REGIONS = ['ap', 'eu', 'us'];
/** 1 500 clusters over three regions and two teams; every tenth one has a GPU. */
const CLUSTERS = Array.from({ length: 1500 }, (_, i) => ({
  name: `c-${String(i).padStart(4, '0')}`,
  labels: { region: REGIONS[i % 3]!, team: i % 2 === 0 ? 'a' : 'b', ...(i % 10 === 0 ? { gpu: 'true' } : {}) },
}));
/** Registrations per GraphQL document (under the hub's alias limit), and documents in flight. */
const PER_DOCUMENT = 25;
const IN_FLIGHT = 6;

describe('the fleet view with 1 500 clusters: virtualised, paged and filtered on the hub', () => {
  let db: TestDatabase;
  let hub: HubProcess;
  let browser: BrowserPage;
  let page: Page;
  let origin: string;

  const shown = (locator: Parameters<BrowserPage['shown']>[0]) => browser.shown(locator);
  const rowheaders = () => page.getByRole('rowheader').allTextContents();

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startHub({ databaseUrl: db.url });
    origin = new URL(hub.graphqlUrl).origin;
    const api = graphqlClient(hub.graphqlUrl, hub.adminToken);
    await api.must(`mutation { createProject(input: { name: "team-gpu", clusterSelector: { matchExpressions: [{ key: "gpu", operator: "Exists" }] }, namespaces: ["gpu"] }) { name } }`);
    await api.must(`mutation { createProject(input: { name: "team-a", clusterSelector: { matchLabels: { team: "a" } }, namespaces: ["team-a"] }) { name } }`);
    const batches: (typeof CLUSTERS)[] = [];
    for (let i = 0; i < CLUSTERS.length; i += PER_DOCUMENT) batches.push(CLUSTERS.slice(i, i + PER_DOCUMENT));
    const register = async (batch: typeof CLUSTERS) => {
      const fields = batch.map((_, i) => `c${i}: registerCluster(input: { name: $n${i}, labels: $l${i} }) { cluster { name } }`);
      const params = batch.map((_, i) => `$n${i}: String!, $l${i}: JSONObject`);
      const variables = Object.fromEntries(batch.flatMap((c, i) => [[`n${i}`, c.name], [`l${i}`, c.labels]]));
      await api.must(`mutation(${params.join(', ')}) { ${fields.join(' ')} }`, variables);
    };
    const queue = [...batches];
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      for (let batch = queue.shift(); batch; batch = queue.shift()) await register(batch);
    }));
    const { clusterPage } = await api.must<{ clusterPage: { totalCount: number } }>(`{ clusterPage(first: 0) { totalCount } }`);
    expect(clusterPage.totalCount).toBe(CLUSTERS.length);

    browser = await openBrowserPage();
    page = browser.page;
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && page) {
      await browser.shot(`fleet-scale-failed-${context.task.name.slice(0, 40).replace(/[^a-z0-9]+/gi, '-')}`);
      console.error(`the page when "${context.task.name}" failed:\n${(await page.locator('body').innerText()).slice(0, 4000)}`);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
    await db?.drop();
  });

  it('signs in and shows the total, the groups with their counts, and far fewer rows in the page than clusters', async () => {
    await page.goto(`${origin}/`);
    await page.getByLabel('API token').fill(hub.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await shown(page.getByRole('heading', { name: 'Fleet', level: 1 }));
    await shown(page.getByText(`${CLUSTERS.length} clusters, 0 connected, ${CLUSTERS.length} offline.`));
    const ap = page.getByRole('region', { name: 'region=ap', exact: true });
    await shown(ap.getByRole('heading', { name: 'region=ap (500)' }));
    const firstAp = CLUSTERS.filter((c) => c.labels.region === 'ap').map((c) => c.name).sort()[0]!;
    await shown(ap.getByRole('rowheader', { name: firstAp, exact: true }));
    expect(await ap.getByRole('table').getAttribute('aria-rowcount')).toBe('501');

    const rows = await page.getByRole('row').count();
    expect(rows).toBeGreaterThan(5);
    expect(rows).toBeLessThan(CLUSTERS.length / 10);
    await browser.shot('fleet-scale');
  });

  it('scrolls by keyboard to the end of the list and shows the last cluster of the last group', async () => {
    const last = CLUSTERS.filter((c) => c.labels.region === 'us').map((c) => c.name).sort().at(-1)!;
    const list = page.getByRole('region', { name: /^Clusters, 1500 in 3 groups$/ });
    await list.focus();
    await page.keyboard.press('End');
    const us = page.getByRole('region', { name: 'region=us', exact: true });
    const lastRow = us.getByRole('row').filter({ has: page.getByRole('rowheader', { name: last, exact: true }) });
    await shown(lastRow);
    expect(await lastRow.getAttribute('aria-rowindex')).toBe('501');
    expect(await page.getByRole('row').count()).toBeLessThan(CLUSTERS.length / 10);
    await browser.shot('fleet-scale-end');
  });

  it('narrows to one project\'s clusters with the Project filter', async () => {
    const gpu = CLUSTERS.filter((c) => 'gpu' in c.labels).map((c) => c.name);
    await page.getByLabel('Project').selectOption('team-gpu');
    await shown(page.getByText(`${gpu.length} of ${CLUSTERS.length} clusters match`));
    await shown(page.getByRole('heading', { name: `region=ap (${CLUSTERS.filter((c) => 'gpu' in c.labels && c.labels.region === 'ap').length})` }));
    const listed = await rowheaders();
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.filter((name) => !gpu.includes(name))).toEqual([]);
    await browser.shot('fleet-scale-project');
    await page.getByLabel('Project').selectOption('');
  });

  it('narrows with a label selector and with the name or label words', async () => {
    const euB = CLUSTERS.filter((c) => c.labels.region === 'eu' && c.labels.team === 'b').map((c) => c.name);
    await page.getByLabel('Label selector').fill('region=eu,team notin (a)');
    await shown(page.getByText(`${euB.length} of ${CLUSTERS.length} clusters match`));
    await eventually(async () => (await page.getByRole('heading', { level: 2 }).allTextContents()).join() === `region=eu (${euB.length})`, { what: 'only the eu group' });
    const listed = await rowheaders();
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.filter((name) => !euB.includes(name))).toEqual([]);

    await page.getByLabel('Label selector').fill('region in (eu');
    await shown(page.getByRole('alert').filter({ hasText: 'Label selector: A parenthesis is not closed.' }));
    await page.getByLabel('Label selector').fill('');

    const named = CLUSTERS[1234]!.name;
    await page.getByLabel('Filter by name or label').fill(named);
    await shown(page.getByText(`1 of ${CLUSTERS.length} clusters match`));
    expect(await rowheaders()).toEqual([named]);
    await page.getByLabel('Filter by name or label').fill('');
    await page.getByText(`of ${CLUSTERS.length} clusters match`).waitFor({ state: 'detached', timeout: SHOWN_MS });
  });

  it('asked no host but the hub, and the page broke no Content-Security-Policy rule', () => {
    const hubHost = new URL(origin).host;
    const elsewhere = browser.requested.filter((url) => !url.startsWith('data:') && new URL(url).host !== hubHost);
    expect(elsewhere).toEqual([]);
    expect(browser.pageErrors.filter((text) => /Content Security Policy|Refused to/i.test(text))).toEqual([]);
  });
});
