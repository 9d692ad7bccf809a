import { DriftPolicy, Health, SyncMode, SyncStatus } from '@flotilla/proto';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../test/support/manual-clock.js';
import type { Manifest, ScopeSpec, SyncPolicySpec } from '../core/desired-state.js';
import type { AppSpec, AppStatus } from '../driver/cluster-driver.js';
import { SimDriver } from './sim-driver.js';

const deployment = (name: string, namespace?: string): Manifest => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: namespace === undefined ? { name } : { name, namespace },
});
const namespaceObject: Manifest = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } };
const configMap = (name: string, namespace?: string): Manifest => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: namespace === undefined ? { name } : { name, namespace } });
const scope = (overrides: Partial<ScopeSpec> = {}): ScopeSpec => ({ namespaces: [], kinds: [], clusterScoped: false, ...overrides });
const scoped = (scopes: Pick<SyncPolicySpec, 'scope' | 'projectScope'>): Partial<AppSpec> => ({
  syncPolicy: { mode: SyncMode.SYNC, drift: DriftPolicy.REPORT, preserveResourcesOnDeletion: false, ...scopes },
});

function spec(appName: string, revision: string, manifests: readonly Manifest[], overrides: Partial<AppSpec> = {}): AppSpec {
  return {
    appName,
    appSet: 'set',
    revision,
    generation: 1n,
    namespace: 'shop',
    manifests,
    syncPolicy: { mode: SyncMode.SYNC, drift: DriftPolicy.REPORT, preserveResourcesOnDeletion: false },
    ...overrides,
  };
}

describe('SimDriver', () => {
  let clock: ManualClock;
  let driver: SimDriver;
  let seen: string[];

  beforeEach(() => {
    clock = new ManualClock();
    driver = new SimDriver({ healthyAfterMs: 1000, failApps: ['bad-*'], clock });
    seen = [];
    driver.onStatusChange((status: AppStatus) => seen.push(`${status.appName}@${status.revision}#${status.generation}: ${Health[status.health]}/${SyncStatus[status.syncStatus]}`));
  });

  it('reports an applied App PROGRESSING while applying, then synced, then HEALTHY after the delay', async () => {
    expect(await driver.apply(spec('web', 'r1', [deployment('web')]))).toEqual({ kind: 'done' });
    clock.advance(999);
    expect(seen).toEqual(['web@r1#1: PROGRESSING/APPLYING', 'web@r1#1: PROGRESSING/SYNCED']);
    clock.advance(1);
    expect(seen.at(-1)).toBe('web@r1#1: HEALTHY/SYNCED');
    expect(driver.status('web')?.resources).toEqual([
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web', health: Health.HEALTHY, message: '', drifted: false },
    ]);
  });

  it('judges an App matching a failure pattern DEGRADED with a message', async () => {
    await driver.apply(spec('bad-web', 'r1', [deployment('a'), deployment('b')]));
    clock.advance(1000);
    const status = driver.status('bad-web');
    expect(status).toMatchObject({ health: Health.DEGRADED, syncStatus: SyncStatus.SYNCED });
    expect(status?.message).toContain('bad-*');
    expect(status?.resources.map((r) => Health[r.health])).toEqual(['DEGRADED', 'HEALTHY']);
  });

  it('treats re-applying the same revision as a no-op', async () => {
    await driver.apply(spec('web', 'r1', [deployment('web')]));
    clock.advance(1000);
    seen.length = 0;
    expect(await driver.apply(spec('web', 'r1', [deployment('web')]))).toEqual({ kind: 'unchanged' });
    expect(seen).toEqual([]);
  });

  it('only renames the generation when the same revision is re-released', async () => {
    await driver.apply(spec('web', 'r1', [deployment('web')]));
    clock.advance(1000);
    seen.length = 0;
    expect(await driver.apply(spec('web', 'r1', [deployment('web')], { generation: 2n }))).toEqual({ kind: 'unchanged' });
    expect(seen).toEqual(['web@r1#2: HEALTHY/SYNCED']);
  });

  it('judges only the newest revision when a new one lands before the old one settled', async () => {
    await driver.apply(spec('web', 'r1', [deployment('web')]));
    clock.advance(500);
    await driver.apply(spec('web', 'r2', [deployment('web')]));
    clock.advance(600);
    expect(driver.status('web')).toMatchObject({ revision: 'r2', health: Health.PROGRESSING });
    clock.advance(400);
    expect(driver.status('web')).toMatchObject({ revision: 'r2', health: Health.HEALTHY });
    expect(seen.filter((line) => line.includes('HEALTHY'))).toEqual(['web@r2#1: HEALTHY/SYNCED']);
  });

  it.each([
    { name: 'sync mode prunes objects no longer desired', mode: SyncMode.SYNC, want: ['Deployment/shop/b'] },
    { name: 'create-update mode keeps objects no longer desired', mode: SyncMode.CREATE_UPDATE, want: ['Deployment/shop/a', 'Deployment/shop/b'] },
    { name: 'create-only mode keeps objects no longer desired', mode: SyncMode.CREATE_ONLY, want: ['Deployment/shop/a', 'Deployment/shop/b'] },
  ])('$name', async ({ mode, want }) => {
    const syncPolicy = { mode, drift: DriftPolicy.REPORT, preserveResourcesOnDeletion: false };
    await driver.apply(spec('web', 'r1', [deployment('a')], { syncPolicy }));
    await driver.apply(spec('web', 'r2', [deployment('b')], { syncPolicy }));
    expect(driver.objects('web').map((o) => `${o.kind}/${o.namespace}/${o.name}`)).toEqual(want);
  });

  it('never updates an existing object in create-only mode', async () => {
    const syncPolicy = { mode: SyncMode.CREATE_ONLY, drift: DriftPolicy.REPORT, preserveResourcesOnDeletion: false };
    await driver.apply(spec('web', 'r1', [{ ...deployment('a'), spec: { replicas: 1 } }], { syncPolicy }));
    await driver.apply(spec('web', 'r2', [{ ...deployment('a'), spec: { replicas: 5 } }], { syncPolicy }));
    expect(driver.objects('web')[0]?.manifest['spec']).toEqual({ replicas: 1 });
  });

  it('places objects in the App namespace unless they name one or are cluster-scoped', async () => {
    await driver.apply(spec('web', 'r1', [deployment('a'), deployment('b', 'other'), namespaceObject]));
    expect(driver.status('web')?.resources.map((r) => `${r.kind}/${r.namespace}/${r.name}`)).toEqual([
      'Deployment/other/b',
      'Deployment/shop/a',
      'Namespace//shop',
    ]);
  });

  it('fails an App whose manifests lack a kind or name, without retry', async () => {
    const result = await driver.apply(spec('web', 'r1', [{ apiVersion: 'v1', metadata: {} }]));
    expect(result).toEqual({ kind: 'failed', message: 'manifests[0] needs a kind and metadata.name' });
    expect(driver.status('web')).toMatchObject({ revision: 'r1', health: Health.DEGRADED, syncStatus: SyncStatus.FAILED });
  });

  it.each([
    {
      name: 'a project scope alone refuses an object outside it',
      scopes: { projectScope: scope({ namespaces: ['shop'], kinds: ['apps/*'] }) },
      manifests: [deployment('web'), configMap('settings')],
      message: `refused: 1 object outside the project's scope: ConfigMap shop/settings (kind ConfigMap is not allowed)`,
    },
    {
      name: 'an App scope alone still refuses an object outside it',
      scopes: { scope: scope() },
      manifests: [deployment('web'), deployment('other', 'kube-system')],
      message: `refused: 1 object outside the App's scope: Deployment.apps kube-system/other (namespace "kube-system" is not allowed (allowed: "shop"))`,
    },
    {
      name: 'an object the App scope allows but the project scope does not is refused by the project',
      scopes: { scope: scope({ clusterScoped: true }), projectScope: scope({ namespaces: ['shop'] }) },
      manifests: [deployment('web'), namespaceObject],
      message: `refused: 1 object outside the project's scope: Namespace shop (cluster-scoped objects are not allowed)`,
    },
    {
      name: 'an object the project scope allows but the App scope does not is refused by the App',
      scopes: { scope: scope({ kinds: ['Deployment'] }), projectScope: scope({ namespaces: ['*'] }) },
      manifests: [deployment('web'), configMap('settings')],
      message: `refused: 1 object outside the App's scope: ConfigMap shop/settings (kind ConfigMap is not allowed)`,
    },
  ])('$name, and applies nothing of the App', async ({ scopes, manifests, message }) => {
    expect(await driver.apply(spec('web', 'r1', manifests, scoped(scopes)))).toEqual({ kind: 'failed', message });
    expect(driver.status('web')).toMatchObject({ revision: 'r1', health: Health.DEGRADED, syncStatus: SyncStatus.FAILED, message });
    expect(driver.objects('web')).toEqual([]);
    expect(seen).toEqual(['web@r1#1: DEGRADED/FAILED']);
  });

  it.each([
    { name: 'without any scope every object is applied, as before projects', scopes: {} },
    { name: 'an object inside both scopes is applied', scopes: { scope: scope({ clusterScoped: true, namespaces: ['shop', 'other'] }), projectScope: scope({ clusterScoped: true, namespaces: ['*'] }) } },
  ])('$name', async ({ scopes }) => {
    expect(await driver.apply(spec('web', 'r1', [deployment('a'), deployment('b', 'other'), namespaceObject], scoped(scopes)))).toEqual({ kind: 'done' });
    expect(driver.objects('web').map((o) => `${o.kind}/${o.namespace}/${o.name}`)).toEqual(['Deployment/other/b', 'Deployment/shop/a', 'Namespace//shop']);
  });

  it('keeps the objects of the applied revision when a newer one is refused', async () => {
    await driver.apply(spec('web', 'r1', [deployment('web')]));
    const result = await driver.apply(spec('web', 'r2', [configMap('settings')], scoped({ projectScope: scope({ kinds: ['apps/*'] }) })));
    expect(result).toMatchObject({ kind: 'failed' });
    expect(driver.objects('web').map((o) => `${o.kind}/${o.namespace}/${o.name}`)).toEqual(['Deployment/shop/web']);
  });

  it('judges the same revision anew when its project scope changes', async () => {
    const narrow = scoped({ projectScope: scope({ kinds: ['apps/*'] }) });
    expect(await driver.apply(spec('web', 'r1', [configMap('settings')], narrow))).toMatchObject({ kind: 'failed' });
    const wide = scoped({ projectScope: scope({ kinds: ['apps/*', 'ConfigMap'] }) });
    expect(await driver.apply(spec('web', 'r1', [configMap('settings')], { ...wide, generation: 2n }))).toEqual({ kind: 'done' });
    expect(driver.objects('web').map((o) => `${o.kind}/${o.namespace}/${o.name}`)).toEqual(['ConfigMap/shop/settings']);
    expect(await driver.apply(spec('web', 'r1', [configMap('settings')], { ...narrow, generation: 3n }))).toMatchObject({ kind: 'failed' });
    expect(driver.status('web')).toMatchObject({ generation: 3n, syncStatus: SyncStatus.FAILED });
  });

  it('forgets a removed App and cancels its pending judgement', async () => {
    await driver.apply(spec('web', 'r1', [deployment('web')]));
    expect(await driver.remove('web', { preserveResources: false })).toEqual({ kind: 'done' });
    expect(await driver.remove('web', { preserveResources: false })).toEqual({ kind: 'unchanged' });
    expect(driver.status('web')).toBeUndefined();
    expect(clock.pendingTimers).toBe(0);
  });

  it('clears every timer on close and refuses work afterwards', async () => {
    await driver.apply(spec('a', 'r1', [deployment('a')]));
    await driver.apply(spec('b', 'r1', [deployment('b')]));
    await driver.close();
    expect(clock.pendingTimers).toBe(0);
    expect(await driver.apply(spec('c', 'r1', []))).toMatchObject({ kind: 'failed' });
  });

  it('stops calling a listener once it unsubscribes', async () => {
    const calls: string[] = [];
    const unsubscribe = driver.onStatusChange((status) => calls.push(status.appName));
    unsubscribe();
    await driver.apply(spec('web', 'r1', []));
    expect(calls).toEqual([]);
  });
});
