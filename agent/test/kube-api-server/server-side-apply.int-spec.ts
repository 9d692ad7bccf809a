import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiTestServer } from './index.js';
import { clientsFor, configMap, deployment, failureOf, fieldsOf, managersOf, raw, serverSideApply, type Clients } from './spec-support.js';

// Server-side apply and field ownership, driven through @kubernetes/client-node as the agent drives it.

let server: KubeApiTestServer;
let clients: Clients;

beforeAll(async () => {
  server = await KubeApiTestServer.start({ simulateWorkloads: false });
  clients = clientsFor(server);
});
afterAll(() => server.close());

const storedDeployment = (name: string) => server.getObject({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name });
const specOf = (object: object | undefined) => (object as { spec: Record<string, unknown> } | undefined)?.spec;
const containersOf = (object: object | undefined) => (specOf(object)?.['template'] as { spec: { containers: { name: string; image: string; env?: { name: string; value: string }[] }[] } }).spec.containers;

describe('server-side apply', () => {
  it('creates a missing object and records exactly the applied fields in FieldsV1', async () => {
    const applied = await serverSideApply(clients, configMap('ssa-create', { a: '1' }, { labels: { app: 'demo' } }), 'flotilla-agent');
    expect(applied.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(applied.metadata?.generation).toBe(1);
    expect(fieldsOf(applied, 'flotilla-agent')).toEqual({ 'f:data': { 'f:a': {} }, 'f:metadata': { 'f:labels': { 'f:app': {} } } });
    const entry = applied.metadata?.managedFields?.[0];
    expect(entry).toMatchObject({ manager: 'flotilla-agent', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1' });
    expect(server.getObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'ssa-create' })?.['data']).toEqual({ a: '1' });
  });

  it('keys list items in FieldsV1 by their merge keys and owns atomic values whole', async () => {
    const manifest = deployment('ssa-keys', { replicas: 2, env: [{ name: 'MODE', value: 'fast' }] });
    const containers = containersOf(manifest);
    (containers[0] as unknown as Record<string, unknown>)['ports'] = [{ containerPort: 8080 }];
    const applied = await serverSideApply(clients, manifest, 'flotilla-agent');
    expect(fieldsOf(applied, 'flotilla-agent')).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:replicas': {},
        'f:selector': {},
        'f:template': {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:containers': {
              'k:{"name":"main"}': {
                '.': {},
                'f:env': { 'k:{"name":"MODE"}': { '.': {}, 'f:name': {}, 'f:value': {} } },
                'f:image': {},
                'f:name': {},
                'f:ports': { 'k:{"containerPort":8080,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
              },
            },
          },
        },
      },
    });
  });

  it('changes nothing, not even resourceVersion, when the same configuration is applied again', async () => {
    const first = await serverSideApply(clients, deployment('ssa-noop', { replicas: 1 }), 'flotilla-agent');
    const second = await serverSideApply(clients, deployment('ssa-noop', { replicas: 1 }), 'flotilla-agent');
    expect(second.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    expect(second.metadata?.managedFields?.[0]?.time).toEqual(first.metadata?.managedFields?.[0]?.time);
  });

  it('refuses a change to fields another manager owns with one FieldManagerConflict cause per field', async () => {
    await serverSideApply(clients, deployment('ssa-conflict', { replicas: 2, image: 'nginx:1.27' }), 'helm');
    const before = storedDeployment('ssa-conflict');
    const status = await failureOf(serverSideApply(clients, deployment('ssa-conflict', { replicas: 3, image: 'nginx:1.28' }), 'flotilla-agent'));
    expect(status.code).toBe(409);
    expect(status.reason).toBe('Conflict');
    expect(status.message).toBe('Apply failed with 2 conflicts: conflicts with "helm":\n- .spec.replicas\n- .spec.template.spec.containers[name="main"].image');
    expect(status.details?.causes).toEqual([
      { reason: 'FieldManagerConflict', message: 'conflict with "helm"', field: '.spec.replicas' },
      { reason: 'FieldManagerConflict', message: 'conflict with "helm"', field: '.spec.template.spec.containers[name="main"].image' },
    ]);
    expect(storedDeployment('ssa-conflict')).toEqual(before);
  });

  it('names the single conflicting field in the message', async () => {
    await serverSideApply(clients, configMap('ssa-one-conflict', { key: 'a' }), 'helm');
    const status = await failureOf(serverSideApply(clients, configMap('ssa-one-conflict', { key: 'b' }), 'flotilla-agent'));
    expect(status.message).toBe('Apply failed with 1 conflict: conflict with "helm": .data.key');
  });

  it('takes conflicting fields over when forced', async () => {
    await serverSideApply(clients, deployment('ssa-force', { replicas: 2 }), 'helm');
    const forced = await serverSideApply(clients, deployment('ssa-force', { replicas: 5 }), 'flotilla-agent', { force: true });
    expect(specOf(forced)?.['replicas']).toBe(5);
    expect(fieldsOf(forced, 'flotilla-agent')).toMatchObject({ 'f:spec': { 'f:replicas': {} } });
    expect(fieldsOf(forced, 'helm')).not.toMatchObject({ 'f:spec': { 'f:replicas': {} } });
    // helm no longer owns replicas, so its next apply of its old value is a conflict with flotilla-agent.
    const status = await failureOf(serverSideApply(clients, deployment('ssa-force', { replicas: 2 }), 'helm'));
    expect(status.details?.causes?.map((cause) => cause.field)).toEqual(['.spec.replicas']);
  });

  it('makes managers applying the same value co-owners, and keeps a field while any owner remains', async () => {
    await serverSideApply(clients, configMap('ssa-shared', { shared: 'same', mine: 'x' }), 'first');
    const shared = await serverSideApply(clients, configMap('ssa-shared', { shared: 'same' }), 'second');
    expect(fieldsOf(shared, 'first')).toEqual({ 'f:data': { 'f:mine': {}, 'f:shared': {} } });
    expect(fieldsOf(shared, 'second')).toEqual({ 'f:data': { 'f:shared': {} } });
    const afterFirstLeaves = await serverSideApply(clients, configMap('ssa-shared', { mine: 'x' }), 'first');
    expect((afterFirstLeaves as unknown as { data: Record<string, string> }).data).toEqual({ shared: 'same', mine: 'x' });
  });

  it('removes fields the manager applied before and omits now, unless someone else owns them', async () => {
    await serverSideApply(clients, configMap('ssa-prune', { keep: '1', drop: '2' }, { labels: { a: '1', b: '2' } }), 'flotilla-agent');
    const pruned = await serverSideApply(clients, configMap('ssa-prune', { keep: '1' }, { labels: { a: '1' } }), 'flotilla-agent');
    expect((pruned as unknown as { data: Record<string, string> }).data).toEqual({ keep: '1' });
    expect(pruned.metadata?.labels).toEqual({ a: '1' });
    const withoutLabels = await serverSideApply(clients, configMap('ssa-prune', { keep: '1' }), 'flotilla-agent');
    expect(withoutLabels.metadata?.labels).toBeUndefined();
  });

  it('removes a list item the manager stops applying and keeps items of other managers', async () => {
    await serverSideApply(clients, deployment('ssa-env', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }), 'flotilla-agent');
    await raw(server, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/ssa-env?fieldManager=kubectl-patch', {
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { template: { spec: { containers: [{ name: 'main', env: [{ name: 'C', value: '3' }] }] } } } },
    });
    const applied = await serverSideApply(clients, deployment('ssa-env', { env: [{ name: 'A', value: '1' }] }), 'flotilla-agent');
    expect(containersOf(applied)[0]?.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'C', value: '3' },
    ]);
  });

  it('returns the would-be object without storing it on dryRun=All', async () => {
    const created = await serverSideApply(clients, configMap('ssa-dry', { a: '1' }), 'flotilla-agent', { dryRun: true });
    expect(created.metadata?.name).toBe('ssa-dry');
    expect(server.getObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'ssa-dry' })).toBeUndefined();
    const stored = await serverSideApply(clients, configMap('ssa-dry', { a: '1' }), 'flotilla-agent');
    const dryUpdate = await serverSideApply(clients, configMap('ssa-dry', { a: '2' }), 'flotilla-agent', { dryRun: true });
    expect((dryUpdate as unknown as { data: Record<string, string> }).data).toEqual({ a: '2' });
    expect(dryUpdate.metadata?.resourceVersion).toBe(stored.metadata?.resourceVersion);
    const unchanged = server.getObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'ssa-dry' });
    expect(unchanged?.metadata.resourceVersion).toBe(stored.metadata?.resourceVersion);
    expect(unchanged?.['data']).toEqual({ a: '1' });
  });

  it('refuses an apply without a field manager, as kube-apiserver does (422)', async () => {
    const response = await raw(server, 'PATCH', '/api/v1/namespaces/default/configmaps/ssa-no-manager', { contentType: 'application/apply-patch+yaml', body: 'apiVersion: v1\nkind: ConfigMap\ndata: {a: "1"}\n' });
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ kind: 'Status', reason: 'Invalid', message: 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch' });
  });

  it('accepts a YAML apply body and force=false, fieldValidation=Strict query parameters', async () => {
    const response = await raw(server, 'PATCH', '/api/v1/namespaces/default/configmaps/ssa-yaml?fieldManager=kubectl&fieldValidation=Strict&force=false', {
      contentType: 'application/apply-patch+yaml',
      body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa-yaml\ndata:\n  a: "1"\n',
    });
    expect(response.status).toBe(201);
    expect(response.body['data']).toEqual({ a: '1' });
  });

  it('treats metadata.resourceVersion in an applied configuration as a precondition', async () => {
    const stored = await serverSideApply(clients, configMap('ssa-precondition', { a: '1' }), 'flotilla-agent');
    const stale = configMap('ssa-precondition', { a: '2' });
    stale.metadata!.resourceVersion = String(Number(stored.metadata?.resourceVersion) - 1);
    const status = await failureOf(serverSideApply(clients, stale, 'flotilla-agent'));
    expect(status.code).toBe(409);
    expect(status.message).toContain('the object has been modified');
  });
});

describe('other writes and ownership', () => {
  it('records a merge patch as an Update that takes the field, so a later apply of another value conflicts with it', async () => {
    await serverSideApply(clients, deployment('own-merge', { replicas: 2 }), 'flotilla-agent');
    const patched = await raw(server, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/own-merge?fieldManager=kubectl-patch', { contentType: 'application/merge-patch+json', body: { spec: { replicas: 4 } } });
    expect(patched.status).toBe(200);
    const stored = storedDeployment('own-merge');
    expect(managersOf(stored)).toEqual(['flotilla-agent/Apply', 'kubectl-patch/Update']);
    expect(fieldsOf(stored, 'kubectl-patch', 'Update')).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect(fieldsOf(stored, 'flotilla-agent')).not.toMatchObject({ 'f:spec': { 'f:replicas': {} } });
    const status = await failureOf(serverSideApply(clients, deployment('own-merge', { replicas: 2 }), 'flotilla-agent'));
    expect(status.details?.causes).toEqual([{ reason: 'FieldManagerConflict', message: expect.stringMatching(/^conflict with "kubectl-patch" using apps\/v1 at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), field: '.spec.replicas' }]);
  });

  it('merges containers by name in a strategic merge patch', async () => {
    const manifest = deployment('own-strategic');
    containersOf(manifest).push({ name: 'sidecar', image: 'busybox:1.36' });
    await serverSideApply(clients, manifest, 'flotilla-agent');
    const response = await raw(server, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/own-strategic?fieldManager=kubectl-set', {
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { template: { spec: { containers: [{ name: 'main', image: 'nginx:1.29' }] } } } },
    });
    expect(response.status).toBe(200);
    expect(containersOf(storedDeployment('own-strategic')).map((container) => `${container.name}=${container.image}`)).toEqual(['main=nginx:1.29', 'sidecar=busybox:1.36']);
  });

  it('applies JSON patch operations in order and answers 422 when a test operation fails', async () => {
    await serverSideApply(clients, configMap('own-json', { a: '1' }), 'flotilla-agent');
    const ok = await raw(server, 'PATCH', '/api/v1/namespaces/default/configmaps/own-json?fieldManager=kubectl-patch', {
      contentType: 'application/json-patch+json',
      body: [
        { op: 'test', path: '/data/a', value: '1' },
        { op: 'add', path: '/data/b', value: '2' },
        { op: 'remove', path: '/data/a' },
      ],
    });
    expect(ok.body['data']).toEqual({ b: '2' });
    const failed = await raw(server, 'PATCH', '/api/v1/namespaces/default/configmaps/own-json?fieldManager=kubectl-patch', { contentType: 'application/json-patch+json', body: [{ op: 'test', path: '/data/b', value: 'x' }] });
    expect(failed.status).toBe(422);
  });

  it('names the manager of a write without fieldManager after the User-Agent, else "unknown"', async () => {
    await serverSideApply(clients, configMap('own-agent', { a: '1' }), 'flotilla-agent');
    await raw(server, 'PATCH', '/api/v1/namespaces/default/configmaps/own-agent', { contentType: 'application/merge-patch+json', body: { data: { b: '2' } }, headers: { 'user-agent': 'kubectl-edit/v1.35.2 (linux/amd64)' } });
    await raw(server, 'PATCH', '/api/v1/namespaces/default/configmaps/own-agent', { contentType: 'application/merge-patch+json', body: { data: { c: '3' } }, headers: { 'user-agent': '' } });
    expect(managersOf(server.getObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'own-agent' }))).toEqual(['flotilla-agent/Apply', 'kubectl-edit/Update', 'unknown/Update']);
  });

  it('records a PUT as an Update and refuses one with a stale resourceVersion', async () => {
    const created = await clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'own-put' }, data: { a: '1' } }, fieldManager: 'creator' });
    const replaced = await clients.core.replaceNamespacedConfigMap({ name: 'own-put', namespace: 'default', body: { ...created, data: { a: '2' } }, fieldManager: 'editor' });
    expect(managersOf(replaced)).toEqual(['creator/Update', 'editor/Update']);
    expect(fieldsOf(replaced, 'editor', 'Update')).toEqual({ 'f:data': { 'f:a': {} } });
    const status = await failureOf(clients.core.replaceNamespacedConfigMap({ name: 'own-put', namespace: 'default', body: { ...created, data: { a: '3' } } }));
    expect(status).toMatchObject({
      code: 409,
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on configmaps "own-put": the object has been modified; please apply your changes to the latest version and try again',
    });
  });
});

describe('status subresource', () => {
  it('ignores status in writes to the object and changes only status through /status', async () => {
    const manifest = { ...deployment('status-split', { replicas: 2 }), status: { replicas: 99 } };
    const applied = await serverSideApply(clients, manifest, 'flotilla-agent');
    expect((applied as unknown as { status?: unknown }).status).toBeUndefined();
    expect(fieldsOf(applied, 'flotilla-agent')).not.toHaveProperty('f:status');

    const response = await raw(server, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/status-split/status?fieldManager=controller', {
      contentType: 'application/merge-patch+json',
      body: { spec: { replicas: 7 }, status: { replicas: 2, readyReplicas: 1 } },
    });
    expect(response.status).toBe(200);
    const stored = storedDeployment('status-split');
    expect(specOf(stored)?.['replicas']).toBe(2);
    expect((stored as unknown as { status: unknown }).status).toEqual({ replicas: 2, readyReplicas: 1 });
    expect(stored?.metadata?.managedFields?.find((entry) => entry.manager === 'controller')).toMatchObject({ operation: 'Update', subresource: 'status', fieldsV1: { 'f:status': { 'f:readyReplicas': {}, 'f:replicas': {} } } });

    const status = await clients.apps.readNamespacedDeploymentStatus({ name: 'status-split', namespace: 'default' });
    expect(status.status?.readyReplicas).toBe(1);
  });

  it('applies to /status with the manager recorded for the status subresource', async () => {
    await serverSideApply(clients, deployment('status-apply'), 'flotilla-agent');
    const response = await raw(server, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/status-apply/status?fieldManager=status-writer&force=true', {
      contentType: 'application/apply-patch+yaml',
      body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'status-apply' }, status: { observedGeneration: 1 } },
    });
    expect(response.status).toBe(200);
    expect(managersOf(storedDeployment('status-apply'))).toEqual(['flotilla-agent/Apply', 'status-writer/Apply/status']);
  });
});

describe('generation', () => {
  it('starts at 1 and moves only when something outside metadata and status changes', async () => {
    const created = await serverSideApply(clients, deployment('gen', { replicas: 1 }), 'flotilla-agent');
    expect(created.metadata?.generation).toBe(1);
    const relabeled = await serverSideApply(clients, { ...deployment('gen', { replicas: 1 }), metadata: { name: 'gen', labels: { app: 'gen', extra: 'yes' } } }, 'flotilla-agent');
    expect(relabeled.metadata?.generation).toBe(1);
    await raw(server, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/gen/status', { contentType: 'application/merge-patch+json', body: { status: { replicas: 1 } } });
    expect(storedDeployment('gen')?.metadata?.generation).toBe(1);
    const scaled = await serverSideApply(clients, deployment('gen', { replicas: 3 }), 'flotilla-agent');
    expect(scaled.metadata?.generation).toBe(2);
    expect(Number(scaled.metadata?.resourceVersion)).toBeGreaterThan(Number(relabeled.metadata?.resourceVersion));
  });
});
