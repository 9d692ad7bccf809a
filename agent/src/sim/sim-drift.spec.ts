import { DriftPolicy, Health, SyncMode, SyncStatus } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../test/support/manual-clock.js';
import type { Manifest } from '../core/desired-state.js';
import { buildReportContent } from '../core/health/index.js';
import { parseSimDrift } from '../core/sim-drift.js';
import type { AppSpec, AppStatus } from '../driver/cluster-driver.js';
import { SimDriver } from './sim-driver.js';

// FLOTILLA_SIM_DRIFT: the simulated cluster edits a live field once an App settles and reports the drift.

const configMap: Manifest = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web' }, data: { color: 'blue', size: 'm' } };
const PASSWORD = 'canary-drift-pa55';
const secret: Manifest = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: PASSWORD } };

function rules(text: string) {
  const parsed = parseSimDrift(text);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.rules;
}

function spec(appName: string, manifests: readonly Manifest[], drift = DriftPolicy.REPORT, mode = SyncMode.SYNC, revision = 'r1'): AppSpec {
  return { appName, appSet: 'set', revision, generation: 1n, namespace: 'shop', manifests, syncPolicy: { mode, drift, preserveResourcesOnDeletion: false } };
}

function setUp(driftText: string) {
  const clock = new ManualClock();
  const driver = new SimDriver({ healthyAfterMs: 1000, failApps: [], clock, drift: rules(driftText) });
  const seen: AppStatus[] = [];
  driver.onStatusChange((status) => seen.push(status));
  return { clock, driver, seen };
}

describe('SimDriver with simulated drift', () => {
  it('reports HEALTHY and SYNCED once settled, then the edited field drifted with both values', async () => {
    const { clock, driver, seen } = setUp('web-*:ConfigMap/web:data.color=red');
    await driver.apply(spec('web-eu', [configMap]));
    clock.advance(1000);
    expect(seen.map((s) => `${Health[s.health]}/${SyncStatus[s.syncStatus]}`).slice(-2)).toEqual(['HEALTHY/SYNCED', 'HEALTHY/OUT_OF_SYNC']);
    const status = driver.status('web-eu');
    expect(status?.message).toBe('1 drifted: ConfigMap shop/web (data.color)');
    expect(status?.resources).toEqual([
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        namespace: 'shop',
        name: 'web',
        health: Health.HEALTHY,
        message: '',
        drifted: true,
        driftedFields: ['data.color'],
        driftedValues: [{ path: 'data.color', expected: '"blue"', live: '"red"', redacted: false }],
      },
    ]);
    expect(driver.objects('web-eu')[0]?.manifest['data']).toEqual({ color: 'red', size: 'm' });
  });

  it('keeps the drift under the report policy', async () => {
    const { clock, driver } = setUp('web:ConfigMap/web:data.color=red');
    await driver.apply(spec('web', [configMap]));
    clock.advance(1000);
    clock.advance(60_000);
    expect(driver.status('web')).toMatchObject({ syncStatus: SyncStatus.OUT_OF_SYNC, resources: [{ drifted: true }] });
  });

  it('heals under the heal policy: drifted while healing, then back in sync with the applied value', async () => {
    const { clock, driver, seen } = setUp('web:ConfigMap/web:data.color=red');
    await driver.apply(spec('web', [configMap], DriftPolicy.HEAL));
    clock.advance(1000);
    expect(driver.status('web')).toMatchObject({ syncStatus: SyncStatus.OUT_OF_SYNC, resources: [{ drifted: true, message: 'healing', driftedFields: ['data.color'] }] });
    clock.advance(1000);
    expect(driver.status('web')).toMatchObject({ health: Health.HEALTHY, syncStatus: SyncStatus.SYNCED, message: '', resources: [{ drifted: false }] });
    expect(driver.objects('web')[0]?.manifest['data']).toEqual({ color: 'blue', size: 'm' });
    expect(seen.filter((s) => s.syncStatus === SyncStatus.OUT_OF_SYNC)).toHaveLength(1);
  });

  it.each([
    { name: 'an App the pattern does not match', app: 'api', text: 'web:ConfigMap/web:data.color=red', mode: SyncMode.SYNC },
    { name: 'an object of another name', app: 'web', text: 'web:ConfigMap/other:data.color=red', mode: SyncMode.SYNC },
    { name: 'an edit that sets the value already there', app: 'web', text: 'web:ConfigMap/web:data.color=blue', mode: SyncMode.SYNC },
    { name: 'an object left alone by create-only', app: 'web', text: 'web:ConfigMap/web:data.color=red', mode: SyncMode.CREATE_ONLY },
  ])('does not drift $name', async ({ app, text, mode }) => {
    const { clock, driver } = setUp(text);
    await driver.apply(spec(app, [configMap], DriftPolicy.REPORT, mode));
    clock.advance(1000);
    expect(driver.status(app)).toMatchObject({ health: Health.HEALTHY, syncStatus: SyncStatus.SYNCED, resources: [{ drifted: false }] });
  });

  it('reports a drifted Secret field redacted, with no value on either side', async () => {
    const { clock, driver } = setUp('web:Secret/db:stringData.password=leaked-by-hand');
    await driver.apply(spec('web', [secret]));
    clock.advance(1000);
    const status = driver.status('web');
    expect(status?.resources[0]).toMatchObject({ drifted: true, driftedFields: ['stringData.password'], driftedValues: [{ path: 'stringData.password', redacted: true }] });
    expect(JSON.stringify(status?.resources)).not.toContain(PASSWORD);
    expect(JSON.stringify(status?.resources)).not.toContain('leaked-by-hand');
    const sent = JSON.stringify(status === undefined ? undefined : buildReportContent(status).resources);
    expect(sent).toContain('stringData.password');
    expect(sent).not.toContain(PASSWORD);
    expect(sent).not.toContain('leaked-by-hand');
  });

  it('reports a field filled in from a secret reference redacted', async () => {
    const { clock, driver } = setUp('web:ConfigMap/app-config:data.url=postgres://app:other@db');
    await driver.apply(spec('source', [secret]));
    clock.advance(1000);
    const consumer: Manifest = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config' }, data: { url: 'postgres://app:((secret:shop/db/password))@db' } };
    await driver.apply(spec('web', [consumer]));
    clock.advance(1000);
    const status = driver.status('web');
    expect(status?.resources[0]).toMatchObject({ drifted: true, driftedValues: [{ path: 'data.url', redacted: true }] });
    expect(JSON.stringify(status?.resources)).not.toContain(PASSWORD);
  });

  it('edits again after a new revision is applied over the drift', async () => {
    const { clock, driver } = setUp('web:ConfigMap/web:data.color=red');
    await driver.apply(spec('web', [configMap]));
    clock.advance(1000);
    await driver.apply(spec('web', [{ ...configMap, data: { color: 'green', size: 'm' } }], DriftPolicy.REPORT, SyncMode.SYNC, 'r2'));
    expect(driver.objects('web')[0]?.manifest['data']).toEqual({ color: 'green', size: 'm' });
    clock.advance(1000);
    expect(driver.status('web')?.resources[0]?.driftedValues).toEqual([{ path: 'data.color', expected: '"green"', live: '"red"', redacted: false }]);
  });
});
