import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DriftPolicy, Health, SyncStatus } from '@flotilla/proto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { KubeClient } from '../../src/driver/kube/kube-client.js';
import { ResourceWatch } from '../../src/driver/kube/resource-watch.js';
import { silentLogger } from '../../src/log.js';
import { FAIL_ANNOTATION } from '../kube-api-server/index.js';
import { eventually } from '../support/eventually.js';
import { appSpec, configMap, createNamespace, deploymentObject, patchAs, resourceOf, startDriver, type DriverUnderTest } from './support/harness.js';
import { startTestServerTarget, type KubeTarget } from './support/targets.js';

// Faults that only the in-process API server can inject: the simulator's failure knob, compacted
// history, dropped and silent watch connections, an API server that is down.

const summary = (under: DriverUnderTest, app: string) => `${Health[under.driver.status(app)?.health ?? 0]}/${SyncStatus[under.driver.status(app)?.syncStatus ?? 0]}`;
const quick = { timeoutMs: 8_000, intervalMs: 25 };

describe('the Kubernetes driver under injected faults', () => {
  let target: KubeTarget;
  const drivers: DriverUnderTest[] = [];

  beforeAll(async () => {
    // Rare bookmarks, so that a watch's resourceVersion stays where its last event left it.
    target = await startTestServerTarget({ bookmarkIntervalMs: 60_000 });
  });
  afterEach(async () => {
    target.server?.setUnavailable(false);
    await Promise.all(drivers.splice(0).map((under) => under.close()));
  });
  afterAll(async () => {
    await target?.close();
  });

  async function driver(options: Parameters<typeof startDriver>[1] = {}): Promise<DriverUnderTest> {
    const under = await startDriver(target, options);
    drivers.push(under);
    return under;
  }

  it('judges an object the cluster never makes ready DEGRADED', async () => {
    const under = await driver();
    const ns = target.namespace('failknob');
    await createNamespace(target, ns);

    expect(await under.driver.apply(appSpec('failing', ns, [deploymentObject('stuck', { annotations: { [FAIL_ANNOTATION]: 'true' } })]))).toEqual({ kind: 'done' });

    await eventually(() => expect(summary(under, 'failing')).toBe('DEGRADED/SYNCED'), quick);
    expect(resourceOf(under.driver.status('failing'), 'Deployment', 'stuck')?.health).toBe(Health.DEGRADED);
  });

  it('keeps watching after the history is compacted and every watch is dropped: it re-lists and still sees drift', async () => {
    const under = await driver();
    const ns = target.namespace('compact');
    await createNamespace(target, ns);
    expect(await under.driver.apply(appSpec('compacted', ns, [configMap('c', { v: '1' })], { drift: DriftPolicy.REPORT }))).toEqual({ kind: 'done' });
    await eventually(() => expect(under.driver.watchStats().watches).toBeGreaterThan(0), quick);

    // Something the watch does not see moves the cluster's resourceVersion on; then the history the
    // watch would resume from is compacted away and its connection dropped.
    await createNamespace(target, target.namespace('unrelated'));
    target.server?.compactHistory();
    target.server?.dropWatches();
    await patchAs(target, 'kubectl-edit', `/api/v1/namespaces/${ns}/configmaps/c`, { data: { v: 'edited' } });

    await eventually(() => expect(resourceOf(under.driver.status('compacted'), 'ConfigMap', 'c')).toMatchObject({ drifted: true, driftedFields: ['data.v'] }), quick);
    expect(under.driver.watchStats().goneRelists).toBeGreaterThan(0);
  });

  it('sends a bounded number of requests while the API server is down, and recovers when it is back', async () => {
    const rateLimit = { qps: 4, burst: 4 };
    const under = await driver({ rateLimit });
    const ns = target.namespace('down');
    await createNamespace(target, ns);
    expect(await under.driver.apply(appSpec('outage', ns, [configMap('o', { v: '1' }), deploymentObject('o')], { drift: DriftPolicy.REPORT }))).toEqual({ kind: 'done' });
    await eventually(() => expect(under.driver.watchStats().watches).toBeGreaterThanOrEqual(2), quick);

    const server = target.server!;
    const downAt = Date.now();
    server.setUnavailable(true);
    // Work keeps arriving meanwhile: a new revision to apply, which fails and asks to be retried.
    const result = await under.driver.apply(appSpec('outage', ns, [configMap('o', { v: '2' }), deploymentObject('o')], { drift: DriftPolicy.REPORT }, 2n));
    expect(result).toMatchObject({ kind: 'failed', retryAfterMs: expect.any(Number) });
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const upAt = Date.now();
    const during = server.requestLog().filter((entry) => entry.at >= downAt && entry.at <= upAt);
    server.setUnavailable(false);

    // A token bucket never lets more than burst + qps·t requests through in t seconds.
    expect(during.length).toBeGreaterThan(0);
    expect(during.length).toBeLessThanOrEqual(rateLimit.burst + Math.ceil((rateLimit.qps * (upAt - downAt)) / 1000));
    expect(during.every((entry) => entry.status === 503)).toBe(true);

    expect(await under.driver.apply(appSpec('outage', ns, [configMap('o', { v: '2' }), deploymentObject('o')], { drift: DriftPolicy.REPORT }, 3n))).toEqual({ kind: 'done' });
    await patchAs(target, 'kubectl-edit', `/api/v1/namespaces/${ns}/configmaps/o`, { data: { v: 'edited' } });
    await eventually(() => expect(resourceOf(under.driver.status('outage'), 'ConfigMap', 'o')?.drifted).toBe(true), { timeoutMs: 10_000, intervalMs: 50 });
  }, 30_000);

  it('stops every watch and timer on close: no request reaches the API server afterwards', async () => {
    const under = await startDriver(target);
    const ns = target.namespace('close');
    await createNamespace(target, ns);
    expect(await under.driver.apply(appSpec('closing', ns, [configMap('c', { v: '1' }), deploymentObject('d')], { drift: DriftPolicy.HEAL }))).toEqual({ kind: 'done' });
    await eventually(() => expect(under.driver.watchStats().watches).toBeGreaterThanOrEqual(2), quick);

    await under.close();
    // The server logs a watch when its stream ends: let the streams cut by close be logged first.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 500));

    expect(target.server?.requestLog().filter((entry) => entry.at > closedAt)).toEqual([]);
    expect(await under.driver.apply(appSpec('closing', ns, [configMap('c', { v: '2' })]))).toEqual({ kind: 'failed', message: 'driver is closed' });
  });
});

describe('a watch on a silent connection', () => {
  let server: Server;
  const requests: string[] = [];

  beforeAll(async () => {
    // Answers lists, then accepts watches and never sends a byte: a half-open connection.
    server = createServer((request, response) => {
      requests.push(request.url ?? '');
      if ((request.url ?? '').includes('watch=true')) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.flushHeaders();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '42' }, items: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('is restarted from its last resourceVersion after the silence timeout, without a re-list', async () => {
    const port = (server.address() as AddressInfo).port;
    const client = new KubeClient({
      endpoint: { server: `http://127.0.0.1:${port}`, authorize: async () => ({ headers: {}, agent: undefined }) },
      clock: systemClock,
      rateLimit: { qps: 100, burst: 100 },
    });
    const watch = new ResourceWatch({
      client,
      clock: systemClock,
      random01: () => 0.5,
      log: silentLogger,
      type: { apiVersion: 'v1', group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps', namespaced: true },
      namespace: undefined,
      labelSelector: 'app.kubernetes.io/managed-by=flotilla',
      tuning: { silenceMs: 150, timeoutSeconds: 60, backoff: { baseMs: 50, maxMs: 200 }, minHealthyMs: 100, pageSize: 10 },
      onChange: () => undefined,
    });
    watch.start();
    try {
      await eventually(() => {
        expect(watch.stats.silentRestarts).toBeGreaterThanOrEqual(2);
        expect(requests.filter((url) => url.includes('watch=true')).length).toBeGreaterThanOrEqual(3);
      }, quick);
      expect(watch.stats.lists).toBe(1);
      const watches = requests.filter((url) => url.includes('watch=true'));
      expect(watches.every((url) => url.includes('resourceVersion=42') && url.includes('allowWatchBookmarks=true'))).toBe(true);
    } finally {
      await watch.stop();
      client.close();
    }
  });
});
