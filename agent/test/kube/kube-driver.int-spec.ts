import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DriftPolicy, Health, SyncMode, SyncStatus } from '@flotilla/proto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Manifest } from '../../src/core/desired-state.js';
import type { AppStatus } from '../../src/driver/cluster-driver.js';
import { APPLY_PATCH, MERGE_PATCH } from '../../src/driver/kube/kube-client.js';
import { eventually } from '../support/eventually.js';
import {
  appSpec,
  configMap,
  createNamespace,
  deploymentObject,
  namespaceObject,
  patchAs,
  readLive,
  resourceOf,
  serviceObject,
  startDriver,
  widgetDefinition,
  type DriverUnderTest,
} from './support/harness.js';
import { describeForTargets } from './support/suite.js';

const labelsOf = (object: Record<string, unknown> | undefined) => (object?.['metadata'] as { labels?: Record<string, string> } | undefined)?.labels ?? {};
const dataOf = (object: Record<string, unknown> | undefined) => object?.['data'] as Record<string, string> | undefined;
const specOf = (object: Record<string, unknown> | undefined) => object?.['spec'] as Record<string, unknown> | undefined;
const cmPath = (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/configmaps/${name}`;
const deployPath = (namespace: string, name: string) => `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`;
const summary = (status: AppStatus | undefined) => `${Health[status?.health ?? 0]}/${SyncStatus[status?.syncStatus ?? 0]}`;

describeForTargets('the Kubernetes driver', (target, settings) => {
  let under: DriverUnderTest;
  const settle = { timeoutMs: settings.settleMs, intervalMs: 50 };
  const quick = { timeoutMs: 8_000, intervalMs: 25 };

  beforeAll(async () => {
    under = await startDriver(target());
  }, 30_000);
  afterAll(async () => {
    await under?.close();
  }, 30_000);

  /** A fresh namespace for one test, created unless the App creates it itself. */
  async function namespaceFor(label: string, create = true): Promise<string> {
    const namespace = target().namespace(label);
    if (create) await createNamespace(target(), namespace);
    else target().cleanupLater(`/api/v1/namespaces/${namespace}`);
    return namespace;
  }

  it('applies a Namespace, ConfigMap, Deployment and Service, and goes from PROGRESSING to HEALTHY for the applied revision', async () => {
    const ns = await namespaceFor('basic', false);
    // The Namespace comes last in the manifests: the driver applies it first all the same.
    const spec = appSpec('basic', ns, [deploymentObject('web'), serviceObject('web'), configMap('web-config', { color: 'blue' }), namespaceObject(ns)], {}, 4n);

    expect(await under.driver.apply(spec)).toEqual({ kind: 'done' });

    expect(under.driver.status('basic')).toMatchObject({ revision: spec.revision, generation: 4n });
    await eventually(() => expect(summary(under.driver.status('basic'))).toBe('HEALTHY/SYNCED'), settle);
    const statuses = under.statuses.filter((status) => status.appName === 'basic');
    expect(statuses.every((status) => status.revision === spec.revision && status.generation === 4n)).toBe(true);
    expect(statuses.some((status) => status.health === Health.PROGRESSING)).toBe(true);
    expect(under.driver.status('basic')?.resources.map((resource) => `${resource.kind}/${resource.namespace}/${resource.name}`).sort()).toEqual([
      `ConfigMap/${ns}/web-config`,
      `Deployment/${ns}/web`,
      `Namespace//${ns}`,
      `Service/${ns}/web`,
    ]);
    const live = await readLive(target(), cmPath(ns, 'web-config'));
    expect(labelsOf(live)).toMatchObject({ 'app.kubernetes.io/managed-by': 'flotilla', 'flotilla.dev/app': 'basic' });
    expect((live?.['metadata'] as { managedFields?: { manager: string; operation: string }[] }).managedFields).toEqual(
      expect.arrayContaining([expect.objectContaining({ manager: 'flotilla-agent', operation: 'Apply' })]),
    );
  });

  it('answers unchanged when the same revision is applied again, and a newer generation only renames the generation', async () => {
    const ns = await namespaceFor('same');
    const spec = appSpec('same', ns, [configMap('same', { a: '1' })]);
    expect(await under.driver.apply(spec)).toEqual({ kind: 'done' });

    expect(await under.driver.apply(spec)).toEqual({ kind: 'unchanged' });
    expect(await under.driver.apply({ ...spec, generation: 2n })).toEqual({ kind: 'unchanged' });
    expect(under.driver.status('same')).toMatchObject({ revision: spec.revision, generation: 2n });
  });

  it('applies a CustomResourceDefinition before its custom resource, waiting until it is Established', async () => {
    const ns = await namespaceFor('crd');
    const widgets = widgetDefinition(target());
    target().cleanupLater(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.${widgets.group}`);
    // The custom resource comes first in the manifests.
    const spec = appSpec('crd', ns, [widgets.widget('w1', 3), widgets.crd]);

    expect(await under.driver.apply(spec)).toEqual({ kind: 'done' });

    const widget = await readLive(target(), `/apis/${widgets.group}/v1/namespaces/${ns}/widgets/w1`);
    expect(specOf(widget)).toEqual({ size: 3 });
    const crd = await readLive(target(), `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.${widgets.group}`);
    // Manifests travel as written: the schema keeps its x-kubernetes-* extension.
    expect(JSON.stringify(crd)).toContain('"x-kubernetes-preserve-unknown-fields":true');
    const log = target().server?.requestLog() ?? [];
    if (target().server !== undefined) {
      const crdApply = log.findIndex((entry) => entry.method === 'PATCH' && entry.path.endsWith(`/customresourcedefinitions/widgets.${widgets.group}`));
      const widgetApply = log.findIndex((entry) => entry.method === 'PATCH' && entry.path.endsWith('/widgets/w1'));
      expect(crdApply).toBeGreaterThanOrEqual(0);
      expect(widgetApply).toBeGreaterThan(crdApply);
    }
  });

  it('reports a field conflict with the other manager by name, and takes the field when the policy forces conflicts', async () => {
    const ns = await namespaceFor('conflict');
    await target().client.request('PATCH', cmPath(ns, 'shared'), {
      query: { fieldManager: 'team-controller' },
      contentType: APPLY_PATCH,
      body: configMap('shared', { color: 'red' }, { namespace: ns }),
    });
    const spec = appSpec('conflict', ns, [configMap('shared', { color: 'blue' })]);

    const refused = await under.driver.apply(spec);
    expect(refused).toMatchObject({ kind: 'failed', retryAfterMs: expect.any(Number) });
    expect(refused.kind === 'failed' && refused.message).toContain('manager "team-controller" over .data.color');
    expect(under.driver.status('conflict')).toMatchObject({ health: Health.DEGRADED, syncStatus: SyncStatus.FAILED });
    expect(under.driver.status('conflict')?.message).toContain('team-controller');
    expect(dataOf(await readLive(target(), cmPath(ns, 'shared')))).toEqual({ color: 'red' });

    const forced = { ...spec, generation: 2n, syncPolicy: { ...spec.syncPolicy, forceConflicts: true } };
    expect(await under.driver.apply(forced)).toEqual({ kind: 'done' });
    expect(dataOf(await readLive(target(), cmPath(ns, 'shared')))).toEqual({ color: 'blue' });
  });

  it('under the heal policy, takes back a field edited by hand when it applies the next revision', async () => {
    const ns = await namespaceFor('heal-apply');
    const spec = appSpec('heal-apply', ns, [configMap('edited', { color: 'blue' })], { drift: DriftPolicy.HEAL });
    expect(await under.driver.apply(spec)).toEqual({ kind: 'done' });
    await target().client.request('PATCH', cmPath(ns, 'edited'), { query: { fieldManager: 'kubectl-patch' }, contentType: MERGE_PATCH, body: { data: { color: 'red' } } });

    const next = appSpec('heal-apply', ns, [configMap('edited', { color: 'blue', size: 'L' })], { drift: DriftPolicy.HEAL }, 2n);
    expect(await under.driver.apply(next)).toEqual({ kind: 'done' });
    expect(dataOf(await readLive(target(), cmPath(ns, 'edited')))).toEqual({ color: 'blue', size: 'L' });
  });

  it.each([
    { mode: SyncMode.SYNC, label: 'sync', pruned: true, updated: true },
    { mode: SyncMode.CREATE_UPDATE, label: 'create-update', pruned: false, updated: true },
    { mode: SyncMode.CREATE_ONLY, label: 'create-only', pruned: false, updated: false },
  ])('under $label, an object no longer desired is pruned: $pruned; a changed object is updated: $updated', async ({ mode, label, pruned, updated }) => {
    const ns = await namespaceFor(`mode-${label}`);
    const app = `mode-${label}`;
    expect(await under.driver.apply(appSpec(app, ns, [configMap('kept', { v: '1' }), configMap('dropped', { v: '1' })], { mode }))).toEqual({ kind: 'done' });

    expect(await under.driver.apply(appSpec(app, ns, [configMap('kept', { v: '2' })], { mode }, 2n))).toEqual({ kind: 'done' });

    expect(await readLive(target(), cmPath(ns, 'dropped'))).toEqual(pruned ? undefined : expect.objectContaining({ kind: 'ConfigMap' }));
    expect(dataOf(await readLive(target(), cmPath(ns, 'kept')))).toEqual({ v: updated ? '2' : '1' });
    expect(summary(under.driver.status(app))).toBe('HEALTHY/SYNCED');
  });

  it('prunes nothing after a failed apply', async () => {
    const ns = await namespaceFor('partial');
    expect(await under.driver.apply(appSpec('partial', ns, [configMap('a', { v: '1' }), configMap('b', { v: '1' })]))).toEqual({ kind: 'done' });
    await target().client.request('PATCH', cmPath(ns, 'c'), {
      query: { fieldManager: 'someone-else' },
      contentType: APPLY_PATCH,
      body: configMap('c', { v: 'theirs' }, { namespace: ns }),
    });

    // v2 drops b and declares c, which another manager owns: the apply fails, so b must survive.
    const result = await under.driver.apply(appSpec('partial', ns, [configMap('a', { v: '2' }), configMap('c', { v: 'ours' })], {}, 2n));

    expect(result.kind).toBe('failed');
    expect(await readLive(target(), cmPath(ns, 'b'))).toEqual(expect.objectContaining({ kind: 'ConfigMap' }));
    expect(under.driver.status('partial')).toMatchObject({ syncStatus: SyncStatus.FAILED, health: Health.DEGRADED });
  });

  it('reports drift with the field paths when another manager changes a field, without healing under report', async () => {
    const ns = await namespaceFor('drift');
    expect(await under.driver.apply(appSpec('drift', ns, [deploymentObject('web', { replicas: 2 })], { drift: DriftPolicy.REPORT }))).toEqual({ kind: 'done' });
    await eventually(() => expect(summary(under.driver.status('drift'))).toBe('HEALTHY/SYNCED'), settle);
    // Status updates by the controller are not drift.
    expect(resourceOf(under.driver.status('drift'), 'Deployment', 'web')?.drifted).toBe(false);

    await patchAs(target(), 'kubectl-edit', deployPath(ns, 'web'), { spec: { replicas: 5 } });

    await eventually(() => {
      const status = under.driver.status('drift');
      expect(status?.syncStatus).toBe(SyncStatus.OUT_OF_SYNC);
      expect(resourceOf(status, 'Deployment', 'web')).toMatchObject({ drifted: true, driftedFields: ['spec.replicas'] });
    }, quick);
    expect(under.driver.status('drift')?.message).toContain('spec.replicas');
    expect(specOf(await readLive(target(), deployPath(ns, 'web')))?.['replicas']).toBe(5);
  });

  it('heals drift under the heal policy', async () => {
    const ns = await namespaceFor('heal');
    expect(await under.driver.apply(appSpec('heal', ns, [configMap('settings', { color: 'blue', size: 'm' })], { drift: DriftPolicy.HEAL }))).toEqual({ kind: 'done' });

    await patchAs(target(), 'kubectl-edit', cmPath(ns, 'settings'), { data: { color: 'green' } });

    await eventually(async () => expect(dataOf(await readLive(target(), cmPath(ns, 'settings')))).toEqual({ color: 'blue', size: 'm' }), quick);
    await eventually(() => expect(summary(under.driver.status('heal'))).toBe('HEALTHY/SYNCED'), quick);
    expect(under.statuses.some((status) => status.appName === 'heal' && resourceOf(status, 'ConfigMap', 'settings')?.driftedFields?.includes('data.color'))).toBe(true);
  });

  it('re-creates a deleted object under the heal policy', async () => {
    const ns = await namespaceFor('recreate');
    expect(await under.driver.apply(appSpec('recreate', ns, [configMap('gone', { v: '1' })], { drift: DriftPolicy.HEAL }))).toEqual({ kind: 'done' });

    await target().client.request('DELETE', cmPath(ns, 'gone'));

    await eventually(async () => expect(dataOf(await readLive(target(), cmPath(ns, 'gone')))).toEqual({ v: '1' }), quick);
    await eventually(() => expect(summary(under.driver.status('recreate'))).toBe('HEALTHY/SYNCED'), quick);
  });

  it('reports a fight with the manager that keeps undoing heals, and stops healing for a while', async () => {
    const ns = await namespaceFor('fight');
    expect(await under.driver.apply(appSpec('fight', ns, [deploymentObject('web', { replicas: 2 })], { drift: DriftPolicy.HEAL }))).toEqual({ kind: 'done' });

    // Another controller (an autoscaler, say) sets the replicas back whenever they differ from its wish.
    let fighting = true;
    const fighter = (async () => {
      while (fighting) {
        const live = await readLive(target(), deployPath(ns, 'web'));
        if (specOf(live)?.['replicas'] !== 5) await patchAs(target(), 'hpa-controller', deployPath(ns, 'web'), { spec: { replicas: 5 } });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    try {
      await eventually(() => expect(under.driver.status('fight')?.message).toContain('fighting with manager "hpa-controller" over spec.replicas'), { timeoutMs: 15_000, intervalMs: 50 });
    } finally {
      fighting = false;
      await fighter;
    }
    expect(resourceOf(under.driver.status('fight'), 'Deployment', 'web')).toMatchObject({ drifted: true, driftedFields: ['spec.replicas'] });

    // Backing off: the agent leaves the other manager's value alone now.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(specOf(await readLive(target(), deployPath(ns, 'web')))?.['replicas']).toBe(5);
  });

  it.each([
    {
      name: 'an object in a namespace outside the scope',
      manifests: (ns: string): Manifest[] => [configMap('inside', { v: '1' }), configMap('outside', { v: '1' }, { namespace: `${ns}-x` })],
      scope: { namespaces: [], kinds: [], clusterScoped: false },
      names: 'ConfigMap {ns}-x/outside',
    },
    {
      name: 'a cluster-scoped object when they are not allowed',
      manifests: (ns: string): Manifest[] => [configMap('inside', { v: '1' }), namespaceObject(`${ns}-y`)],
      scope: { namespaces: ['flt-*'], kinds: [], clusterScoped: false },
      names: 'Namespace {ns}-y',
    },
    {
      name: 'a kind outside the allowed kinds',
      manifests: (): Manifest[] => [configMap('inside', { v: '1' }), serviceObject('svc')],
      scope: { namespaces: [], kinds: ['ConfigMap', 'apps/*'], clusterScoped: false },
      names: 'Service {ns}/svc',
    },
  ])('refuses an App with $name, naming it, and applies nothing of it', async ({ manifests, scope, names }) => {
    const ns = await namespaceFor(`scope-${names.split(' ')[0]?.toLowerCase()}`);
    const app = `scope-${names.split(' ')[0]?.toLowerCase()}`;

    const result = await under.driver.apply(appSpec(app, ns, manifests(ns), { scope }));

    expect(result.kind).toBe('failed');
    const status = under.driver.status(app);
    expect(status).toMatchObject({ health: Health.DEGRADED, syncStatus: SyncStatus.FAILED });
    expect(status?.message).toContain(`outside the App's scope: ${names.replace('{ns}', ns)}`);
    expect(await readLive(target(), cmPath(ns, 'inside'))).toBeUndefined();
  });

  it.each([
    {
      label: 'project-ns',
      name: 'a project scope alone and an object in a namespace outside it',
      manifests: (ns: string): Manifest[] => [configMap('inside', { v: '1' }), configMap('outside', { v: '1' }, { namespace: `${ns}-x` })],
      policy: { projectScope: { namespaces: [], kinds: [], clusterScoped: false } },
      refusal: `outside the project's scope: ConfigMap {ns}-x/outside`,
    },
    {
      label: 'project-kind',
      name: 'an App scope that allows a kind its project scope does not',
      manifests: (): Manifest[] => [configMap('inside', { v: '1' }), serviceObject('svc')],
      policy: { scope: { namespaces: ['flt-*'], kinds: [], clusterScoped: false }, projectScope: { namespaces: ['flt-*'], kinds: ['ConfigMap'], clusterScoped: false } },
      refusal: `outside the project's scope: Service {ns}/svc`,
    },
    {
      label: 'app-cluster',
      name: 'a project scope that allows a cluster-scoped object its App scope does not',
      manifests: (ns: string): Manifest[] => [configMap('inside', { v: '1' }), namespaceObject(`${ns}-y`)],
      policy: { scope: { namespaces: [], kinds: [], clusterScoped: false }, projectScope: { namespaces: ['flt-*'], kinds: [], clusterScoped: true } },
      refusal: `refused: 1 object outside the App's scope: Namespace {ns}-y (cluster-scoped objects are not allowed)`,
    },
  ])('refuses an App with $name, naming the scope that refused, and applies nothing of it', async ({ label, manifests, policy, refusal }) => {
    const ns = await namespaceFor(`scope-${label}`);
    const app = `scope-${label}`;

    const result = await under.driver.apply(appSpec(app, ns, manifests(ns), policy));

    expect(result.kind).toBe('failed');
    const status = under.driver.status(app);
    expect(status).toMatchObject({ health: Health.DEGRADED, syncStatus: SyncStatus.FAILED });
    expect(status?.message).toContain(refusal.replace('{ns}', ns));
    expect(await readLive(target(), cmPath(ns, 'inside'))).toBeUndefined();
  });

  it('applies an App whose objects are inside both its own and its project scope', async () => {
    const ns = await namespaceFor('scope-both');
    const policy = {
      scope: { namespaces: [], kinds: ['ConfigMap', 'Service'], clusterScoped: false },
      projectScope: { namespaces: ['flt-*'], kinds: ['ConfigMap', 'Service', 'apps/*'], clusterScoped: false },
    };

    expect(await under.driver.apply(appSpec('scope-both', ns, [configMap('inside', { v: '1' }), serviceObject('svc')], policy))).toEqual({ kind: 'done' });

    expect(dataOf(await readLive(target(), cmPath(ns, 'inside')))).toEqual({ v: '1' });
  });

  it('removes an App by deleting its objects, or with preserve leaves them in place without the tracking labels', async () => {
    const ns = await namespaceFor('remove');
    expect(await under.driver.apply(appSpec('removed', ns, [configMap('r1', { v: '1' }), serviceObject('r1')]))).toEqual({ kind: 'done' });
    expect(await under.driver.apply(appSpec('preserved', ns, [configMap('p1', { v: '1' })]))).toEqual({ kind: 'done' });

    expect(await under.driver.remove('removed', { preserveResources: false })).toEqual({ kind: 'done' });
    expect(await under.driver.remove('preserved', { preserveResources: true })).toEqual({ kind: 'done' });

    expect(under.driver.status('removed')).toBeUndefined();
    expect(under.driver.status('preserved')).toBeUndefined();
    await eventually(async () => expect(await readLive(target(), cmPath(ns, 'r1'))).toBeUndefined(), quick);
    expect(await readLive(target(), `/api/v1/namespaces/${ns}/services/r1`)).toBeUndefined();
    const preserved = await readLive(target(), cmPath(ns, 'p1'));
    expect(dataOf(preserved)).toEqual({ v: '1' });
    expect(labelsOf(preserved)).not.toHaveProperty('app.kubernetes.io/managed-by');
    expect(labelsOf(preserved)).not.toHaveProperty('flotilla.dev/app');
    expect(await under.driver.remove('removed', { preserveResources: false })).toEqual({ kind: 'unchanged' });
  });

  it('after a restart, prunes and removes objects of kinds the new revision no longer declares', async () => {
    const ns = await namespaceFor('restart');
    const first = await startDriver(target(), { stateDir: await tempDir() });
    try {
      expect(await first.driver.apply(appSpec('restart', ns, [configMap('cm', { v: '1' }), serviceObject('svc'), deploymentObject('dep')]))).toEqual({ kind: 'done' });
    } finally {
      await first.close();
    }
    const second = await startDriver(target(), { stateDir: stateDirs.at(-1) });
    try {
      // The new revision declares only a ConfigMap: the Service and Deployment are found through the inventory.
      expect(await second.driver.apply(appSpec('restart', ns, [configMap('cm', { v: '2' })], {}, 2n))).toEqual({ kind: 'done' });
      expect(await readLive(target(), `/api/v1/namespaces/${ns}/services/svc`)).toBeUndefined();
      await eventually(async () => expect(await readLive(target(), deployPath(ns, 'dep'))).toBeUndefined(), quick);
    } finally {
      await second.close();
    }
    const third = await startDriver(target(), { stateDir: stateDirs.at(-1) });
    try {
      expect(await third.driver.remove('restart', { preserveResources: false })).toEqual({ kind: 'done' });
      expect(await readLive(target(), cmPath(ns, 'cm'))).toBeUndefined();
    } finally {
      await third.close();
    }
  });

  const stateDirs: string[] = [];
  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-kube-restart-'));
    stateDirs.push(dir);
    return dir;
  }
  afterAll(async () => {
    await Promise.all(stateDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });
});
