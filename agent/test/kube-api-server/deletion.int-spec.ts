import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiTestServer } from './index.js';
import { clientsFor, configMap, deployment, failureOf, raw, serverSideApply, type Clients } from './spec-support.js';

// Deletion: finalizers, namespace termination, garbage collection of dependents, collections.

let server: KubeApiTestServer;
let clients: Clients;

beforeAll(async () => {
  server = await KubeApiTestServer.start({ simulateWorkloads: false });
  clients = clientsFor(server);
});
afterAll(() => server.close());

const stored = (kind: string, namespace: string, name: string) => server.getObject({ apiVersion: kind === 'Deployment' ? 'apps/v1' : 'v1', kind, namespace, name });
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

describe('deletion', () => {
  it('removes an object without finalizers at once and answers a Success Status', async () => {
    await clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'del-plain' } } });
    const status = await clients.core.deleteNamespacedConfigMap({ name: 'del-plain', namespace: 'default', propagationPolicy: 'Foreground' });
    expect(status).toMatchObject({ status: 'Success', details: { name: 'del-plain', kind: 'configmaps' } });
    expect(stored('ConfigMap', 'default', 'del-plain')).toBeUndefined();
  });

  it('keeps an object with finalizers, marked with deletionTimestamp, until the last finalizer is removed', async () => {
    await clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'del-final', finalizers: ['example.com/hold'] } } });
    const pending = await raw(server, 'DELETE', '/api/v1/namespaces/default/configmaps/del-final');
    expect(pending.status).toBe(200);
    expect(pending.body).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'del-final', deletionTimestamp: expect.any(String), finalizers: ['example.com/hold'] } });
    expect(stored('ConfigMap', 'default', 'del-final')?.metadata.deletionTimestamp).toBeDefined();
    expect(await failureOf(clients.core.patchNamespacedConfigMap({ name: 'del-final', namespace: 'default', body: { metadata: { finalizers: ['example.com/hold', 'example.com/more'] } } }, mergePatch))).toMatchObject({
      code: 422,
      reason: 'Invalid',
    });
    await clients.core.patchNamespacedConfigMap({ name: 'del-final', namespace: 'default', body: { metadata: { finalizers: null } } }, mergePatch);
    expect(stored('ConfigMap', 'default', 'del-final')).toBeUndefined();
  });

  it('honours uid and resourceVersion preconditions', async () => {
    const created = await clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'del-precondition' } } });
    const status = await failureOf(clients.core.deleteNamespacedConfigMap({ name: 'del-precondition', namespace: 'default', body: { preconditions: { uid: 'someone-else' } } }));
    expect(status).toMatchObject({ code: 409, reason: 'Conflict' });
    await clients.core.deleteNamespacedConfigMap({ name: 'del-precondition', namespace: 'default', body: { preconditions: { uid: created.metadata!.uid! } } });
    expect(stored('ConfigMap', 'default', 'del-precondition')).toBeUndefined();
  });

  it('does nothing on dryRun=All', async () => {
    await clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'del-dry' } } });
    await clients.core.deleteNamespacedConfigMap({ name: 'del-dry', namespace: 'default', dryRun: 'All' });
    expect(stored('ConfigMap', 'default', 'del-dry')).toBeDefined();
  });

  it('deletes everything in a namespace with it, and holds the namespace Terminating while a finalizer holds an object', async () => {
    await clients.core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await serverSideApply(clients, { ...configMap('plain', { a: '1' }), metadata: { name: 'plain', namespace: 'doomed' } }, 'flotilla-agent');
    await serverSideApply(clients, { ...deployment('app'), metadata: { name: 'app', namespace: 'doomed', labels: { app: 'app' } } }, 'flotilla-agent');
    await clients.core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'held', finalizers: ['example.com/hold'] } } });
    const terminating = await raw(server, 'DELETE', '/api/v1/namespaces/doomed');
    expect(terminating.body).toMatchObject({ kind: 'Namespace', status: { phase: 'Terminating' } });
    expect(server.listObjects({ namespace: 'doomed' }).map((object) => object.metadata.name)).toEqual(['held']);
    expect(await failureOf(clients.core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'late' } } }))).toMatchObject({
      code: 403,
      reason: 'Forbidden',
      message: 'configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated',
    });
    await clients.core.patchNamespacedConfigMap({ name: 'held', namespace: 'doomed', body: { metadata: { finalizers: [] } } }, mergePatch);
    expect(server.listObjects({ namespace: 'doomed' })).toEqual([]);
    expect(server.getObject({ apiVersion: 'v1', kind: 'Namespace', name: 'doomed' })).toBeUndefined();
  });

  it('refuses to delete the default, kube-system and kube-public namespaces', async () => {
    for (const name of ['default', 'kube-system', 'kube-public']) {
      expect(await failureOf(clients.core.deleteNamespace({ name }))).toMatchObject({ code: 403, reason: 'Forbidden', message: `namespaces "${name}" is forbidden: this namespace may not be deleted` });
    }
  });

  it('deletes dependents of a deleted owner, or orphans them with propagationPolicy Orphan', async () => {
    const owner = await clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'del-owner' } } });
    const ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'del-owner', uid: owner.metadata!.uid! }];
    await clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'del-dependent', ownerReferences } } });
    await clients.core.deleteNamespacedConfigMap({ name: 'del-owner', namespace: 'default' });
    expect(stored('ConfigMap', 'default', 'del-dependent')).toBeUndefined();

    const orphaning = await clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'del-orphaning' } } });
    await clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'del-orphan', ownerReferences: [{ ...ownerReferences[0]!, name: 'del-orphaning', uid: orphaning.metadata!.uid! }] } } });
    await clients.core.deleteNamespacedConfigMap({ name: 'del-orphaning', namespace: 'default', propagationPolicy: 'Orphan' });
    expect(stored('ConfigMap', 'default', 'del-orphan')?.metadata.ownerReferences).toBeUndefined();
  });

  it('deletes a collection by label selector and answers the list of deleted objects', async () => {
    for (const [name, labels] of [['del-c1', { sweep: 'yes' }], ['del-c2', { sweep: 'yes' }], ['del-c3', { sweep: 'no' }]] as const) {
      await clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name, labels } } });
    }
    const response = await raw(server, 'DELETE', '/api/v1/namespaces/default/configmaps?labelSelector=sweep%3Dyes');
    expect(response.status).toBe(200);
    expect((response.body['items'] as { metadata: { name: string } }[]).map((item) => item.metadata.name)).toEqual(['del-c1', 'del-c2']);
    expect(server.listObjects({ kind: 'ConfigMap', labelSelector: 'sweep' }).map((object) => object.metadata.name)).toEqual(['del-c3']);
  });

  it('refuses an unknown propagationPolicy with 422', async () => {
    await clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'del-policy' } } });
    const response = await raw(server, 'DELETE', '/api/v1/namespaces/default/configmaps/del-policy?propagationPolicy=Sideways');
    expect(response.status).toBe(422);
    expect(response.body['message']).toBe('DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan"');
  });
});
