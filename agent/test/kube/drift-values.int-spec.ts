import { randomBytes } from 'node:crypto';
import { DriftPolicy, Health, SyncStatus } from '@flotilla/proto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildReportContent } from '../../src/core/health/index.js';
import type { Manifest } from '../../src/core/desired-state.js';
import type { AppStatus } from '../../src/driver/cluster-driver.js';
import { eventually } from '../support/eventually.js';
import { appSpec, configMap, createNamespace, patchAs, resourceOf, startDriver, type DriverUnderTest } from './support/harness.js';
import { describeForTargets } from './support/suite.js';

// The Kubernetes driver reports what drifted fields hold on each side, and never a secret value.

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const PASSWORD = `pa55-${randomBytes(8).toString('hex')}`;
const cmPath = (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/configmaps/${name}`;
const secretPath = (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/secrets/${name}`;
const summary = (status: AppStatus | undefined) => `${Health[status?.health ?? 0]}/${SyncStatus[status?.syncStatus ?? 0]}`;
/** Everything the agent would send for the App, as text. */
const sentText = (status: AppStatus | undefined) =>
  JSON.stringify(status === undefined ? null : buildReportContent(status), (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value));

describeForTargets('drifted field values in the Kubernetes driver', (target, settings) => {
  let under: DriverUnderTest;
  let ns: string;
  const settle = { timeoutMs: settings.settleMs, intervalMs: 50 };
  const quick = { timeoutMs: 8_000, intervalMs: 25 };

  beforeAll(async () => {
    under = await startDriver(target());
    ns = target().namespace('drift-values');
    await createNamespace(target(), ns);
    await target().client.request('POST', `/api/v1/namespaces/${ns}/secrets`, {
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-source', namespace: ns }, type: 'Opaque', data: { password: b64(PASSWORD) } },
    });
  }, 30_000);
  afterAll(async () => {
    await under?.close();
  }, 30_000);

  it('reports the expected and live values of a field edited by hand, and the new value when it is edited again', async () => {
    expect(await under.driver.apply(appSpec('values', ns, [configMap('settings', { color: 'blue', size: 'm' })], { drift: DriftPolicy.REPORT }))).toEqual({ kind: 'done' });
    await eventually(() => expect(summary(under.driver.status('values'))).toBe('HEALTHY/SYNCED'), settle);

    await patchAs(target(), 'kubectl-edit', cmPath(ns, 'settings'), { data: { color: 'green' } });
    await eventually(
      () => expect(resourceOf(under.driver.status('values'), 'ConfigMap', 'settings')?.driftedValues).toEqual([{ path: 'data.color', expected: '"blue"', live: '"green"', redacted: false }]),
      quick,
    );

    await patchAs(target(), 'kubectl-edit', cmPath(ns, 'settings'), { data: { color: 'red' } });
    await eventually(
      () => expect(resourceOf(under.driver.status('values'), 'ConfigMap', 'settings')?.driftedValues).toEqual([{ path: 'data.color', expected: '"blue"', live: '"red"', redacted: false }]),
      quick,
    );
    expect(buildReportContent(under.driver.status('values')!).resources[0]?.driftedValues).toEqual([{ path: 'data.color', expected: '"blue"', live: '"red"', redacted: false }]);
  });

  it('reports a field filled in from a secret reference as redacted, never its value', async () => {
    const manifests = [configMap('app-config', { url: `postgres://app:((secret:${ns}/db-source/password))@db`, color: 'blue' })];
    expect(await under.driver.apply(appSpec('refs', ns, manifests, { drift: DriftPolicy.REPORT }))).toEqual({ kind: 'done' });
    await eventually(() => expect(summary(under.driver.status('refs'))).toBe('HEALTHY/SYNCED'), settle);

    await patchAs(target(), 'kubectl-edit', cmPath(ns, 'app-config'), { data: { url: 'postgres://app:guessed@db', color: 'red' } });
    await eventually(
      () =>
        expect(resourceOf(under.driver.status('refs'), 'ConfigMap', 'app-config')?.driftedValues).toEqual([
          { path: 'data.color', expected: '"blue"', live: '"red"', redacted: false },
          { path: 'data.url', redacted: true },
        ]),
      quick,
    );
    expect(sentText(under.driver.status('refs'))).not.toContain(PASSWORD);
    expect(sentText(under.driver.status('refs'))).not.toContain('guessed');
  });

  it('reports a drifted field of a Secret as redacted', async () => {
    const secret: Manifest = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'plain' }, type: 'Opaque', data: { token: b64(PASSWORD) } };
    expect(await under.driver.apply(appSpec('secret', ns, [secret], { drift: DriftPolicy.REPORT }))).toEqual({ kind: 'done' });
    await eventually(() => expect(summary(under.driver.status('secret'))).toBe('HEALTHY/SYNCED'), settle);

    await patchAs(target(), 'kubectl-edit', secretPath(ns, 'plain'), { data: { token: b64('typed-by-hand') } });
    await eventually(
      () => expect(resourceOf(under.driver.status('secret'), 'Secret', 'plain')).toMatchObject({ drifted: true, driftedFields: ['data.token'], driftedValues: [{ path: 'data.token', redacted: true }] }),
      quick,
    );
    const sent = sentText(under.driver.status('secret'));
    expect(sent).not.toContain(b64(PASSWORD));
    expect(sent).not.toContain(b64('typed-by-hand'));
  });
});
