import { DriftPolicy, SyncMode } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../test/support/manual-clock.js';
import type { Manifest } from '../core/desired-state.js';
import type { AppSpec } from '../driver/cluster-driver.js';
import { SimDriver } from './sim-driver.js';

// The simulated cluster resolves secret references like the Kubernetes driver, against the Secrets it holds.

const PASSWORD = 'canary-sim-pa55';
const source: Manifest = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-source' }, stringData: { password: PASSWORD } };
const consumer = (reference: string): Manifest => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config' }, data: { url: `postgres://app:${reference}@db` } });

function spec(appName: string, manifests: readonly Manifest[]): AppSpec {
  return {
    appName,
    appSet: 'set',
    revision: `${appName}-r1`,
    generation: 1n,
    namespace: 'shop',
    manifests,
    syncPolicy: { mode: SyncMode.SYNC, drift: DriftPolicy.REPORT, preserveResourcesOnDeletion: false },
  };
}

describe('SimDriver and secret references', () => {
  it('puts the value of a Secret it holds in place of a reference', async () => {
    const driver = new SimDriver({ healthyAfterMs: 1000, failApps: [], clock: new ManualClock() });
    await driver.apply(spec('source', [source]));
    expect(await driver.apply(spec('web', [consumer('((secret:shop/db-source/password))')]))).toEqual({ kind: 'done' });
    expect(driver.objects('web')[0]!.manifest['data']).toEqual({ url: `postgres://app:${PASSWORD}@db` });
  });

  it.each([
    { name: 'a missing Secret', reference: '((secret:shop/nothing/password))', message: 'Secret shop/nothing not found' },
    { name: 'a missing key', reference: '((secret:shop/db-source/user))', message: 'has no key "user"' },
    { name: 'a Secret outside the App namespace', reference: '((secret:kube-system/db-source/password))', message: 'namespace "kube-system" is outside' },
  ])('fails the App on $name, with a message that holds no value', async ({ reference, message }) => {
    const driver = new SimDriver({ healthyAfterMs: 1000, failApps: [], clock: new ManualClock() });
    await driver.apply(spec('source', [source]));
    const result = await driver.apply(spec('web', [consumer(reference)]));
    expect(result.kind).toBe('failed');
    expect(result.kind === 'failed' && result.message).toContain(message);
    expect(JSON.stringify(driver.status('web'), (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value))).not.toContain(PASSWORD);
    expect(driver.objects('web')).toEqual([]);
  });
});
