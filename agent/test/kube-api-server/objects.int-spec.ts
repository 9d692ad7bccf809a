import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiTestServer } from './index.js';
import { clientsFor, configMap, deployment, failureOf, raw, serverSideApply, type Clients, type Manifest } from './spec-support.js';

// CRUD through client-node's typed and generic clients: metadata, errors, selectors, validation and the
// server-side defaults a GitOps agent meets.

let server: KubeApiTestServer;
let clients: Clients;

beforeAll(async () => {
  server = await KubeApiTestServer.start({ simulateWorkloads: false });
  clients = clientsFor(server);
  for (const name of ['team-a', 'team-b']) await clients.core.createNamespace({ body: { metadata: { name } } });
});
afterAll(() => server.close());

describe('create, read, update, delete', () => {
  it('stamps uid, creationTimestamp, resourceVersion and generation on create and serves the object back', async () => {
    const before = server.listObjects().reduce((highest, object) => Math.max(highest, Number(object.metadata.resourceVersion)), 0);
    const created = await clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'crud-basic' }, data: { a: '1' } } });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(before);
    expect(created.metadata?.generation).toBe(1);
    const read = await clients.core.readNamespacedConfigMap({ name: 'crud-basic', namespace: 'default' });
    expect(read.data).toEqual({ a: '1' });
    expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
  });

  it('moves resourceVersion forward on every change, one counter across all kinds', async () => {
    const first = await clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'crud-rv' } } });
    const secret = await clients.core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'crud-rv' }, stringData: { k: 'v' } } });
    const second = await clients.core.patchNamespacedConfigMap({ name: 'crud-rv', namespace: 'default', body: { data: { a: '1' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    expect(Number(secret.metadata?.resourceVersion)).toBe(Number(first.metadata?.resourceVersion) + 1);
    expect(Number(second.metadata?.resourceVersion)).toBe(Number(secret.metadata?.resourceVersion) + 1);
  });

  it('answers AlreadyExists, NotFound and Conflict as kube-apiserver words them', async () => {
    await clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'crud-errors' } } });
    expect(await failureOf(clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'crud-errors' } } }))).toMatchObject({
      code: 409,
      reason: 'AlreadyExists',
      message: 'configmaps "crud-errors" already exists',
      details: { name: 'crud-errors', kind: 'configmaps' },
    });
    expect(await failureOf(clients.apps.readNamespacedDeployment({ name: 'missing', namespace: 'default' }))).toMatchObject({
      code: 404,
      reason: 'NotFound',
      message: 'deployments.apps "missing" not found',
      details: { name: 'missing', group: 'apps', kind: 'deployments' },
    });
    expect(await failureOf(clients.core.deleteNamespacedConfigMap({ name: 'missing', namespace: 'default' }))).toMatchObject({ code: 404, reason: 'NotFound' });
  });

  it('names objects created with generateName from the prefix and five random characters', async () => {
    const created = await clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { generateName: 'crud-gen-' } } });
    expect(created.metadata?.name).toMatch(/^crud-gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('lists one namespace or all of them, with the current resourceVersion on the list', async () => {
    await clients.core.createNamespacedConfigMap({ namespace: 'team-a', body: { metadata: { name: 'crud-list' } } });
    await clients.core.createNamespacedConfigMap({ namespace: 'team-b', body: { metadata: { name: 'crud-list' } } });
    const inA = await clients.core.listNamespacedConfigMap({ namespace: 'team-a' });
    expect(inA.items.map((item) => item.metadata?.name)).toEqual(['crud-list']);
    const everywhere = await clients.core.listConfigMapForAllNamespaces({ fieldSelector: 'metadata.name=crud-list' });
    expect(everywhere.items.map((item) => item.metadata?.namespace)).toEqual(['team-a', 'team-b']);
    expect(Number(everywhere.metadata?.resourceVersion)).toBeGreaterThanOrEqual(Number(inA.metadata?.resourceVersion));
  });

  it('omits apiVersion and kind from items of built-in lists, as the real server does', async () => {
    const list = await raw(server, 'GET', '/api/v1/namespaces/team-a/configmaps');
    expect(list.body).toMatchObject({ kind: 'ConfigMapList', apiVersion: 'v1' });
    expect((list.body['items'] as Record<string, unknown>[])[0]).not.toHaveProperty('kind');
  });

  it('pages a list with limit and continue', async () => {
    for (const name of ['page-1', 'page-2', 'page-3']) await clients.core.createNamespacedConfigMap({ namespace: 'team-b', body: { metadata: { name, labels: { paged: 'yes' } } } });
    const first = await clients.core.listNamespacedConfigMap({ namespace: 'team-b', labelSelector: 'paged', limit: 2 });
    expect(first.items.map((item) => item.metadata?.name)).toEqual(['page-1', 'page-2']);
    expect(first.metadata?.remainingItemCount).toBe(1);
    const second = await clients.core.listNamespacedConfigMap({ namespace: 'team-b', labelSelector: 'paged', limit: 2, _continue: first.metadata!._continue! });
    expect(second.items.map((item) => item.metadata?.name)).toEqual(['page-3']);
    expect(second.metadata?._continue).toBeUndefined();
  });

  it('creates, reads, replaces and deletes through KubernetesObjectApi', async () => {
    const created = await clients.objects.create(configMap('crud-generic', { a: '1' }));
    const read = await clients.objects.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'crud-generic', namespace: 'default' } });
    expect(read.metadata?.uid).toBe(created.metadata?.uid);
    const replaced = await clients.objects.replace({ ...read, data: { a: '2' } } as k8s.KubernetesObject);
    expect((replaced as unknown as { data: Record<string, string> }).data).toEqual({ a: '2' });
    const deleted = await clients.objects.delete(read);
    expect(deleted).toMatchObject({ status: 'Success', details: { name: 'crud-generic', kind: 'configmaps' } });
    expect(server.getObject({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'crud-generic' })).toBeUndefined();
  });
});

describe('selectors', () => {
  beforeAll(async () => {
    const labelled: [string, Record<string, string>][] = [
      ['sel-web-prod', { app: 'web', env: 'prod', tier: 'front' }],
      ['sel-web-dev', { app: 'web', env: 'dev' }],
      ['sel-db-prod', { app: 'db', env: 'prod', legacy: 'true' }],
      ['sel-none', {}],
    ];
    for (const [name, labels] of labelled) await clients.core.createNamespacedConfigMap({ namespace: 'team-a', body: { metadata: { name, labels } } });
  });

  it.each([
    ['app=web', ['sel-web-dev', 'sel-web-prod']],
    ['app==web', ['sel-web-dev', 'sel-web-prod']],
    ['app!=web', ['sel-db-prod', 'sel-none']],
    ['env in (prod, staging)', ['sel-db-prod', 'sel-web-prod']],
    ['env notin (prod)', ['sel-none', 'sel-web-dev']],
    ['tier', ['sel-web-prod']],
    ['!legacy', ['sel-none', 'sel-web-dev', 'sel-web-prod']],
    ['app=web,env=prod', ['sel-web-prod']],
    ['app in (web,db),!tier,env', ['sel-db-prod', 'sel-web-dev']],
  ])('lists the objects matching %s', async (selector, expected) => {
    const list = await clients.core.listNamespacedConfigMap({ namespace: 'team-a', labelSelector: selector });
    expect(list.items.map((item) => item.metadata?.name).filter((name) => name?.startsWith('sel-'))).toEqual(expected);
  });

  it('selects by metadata.name and metadata.namespace, and refuses other fields', async () => {
    const byName = await clients.core.listConfigMapForAllNamespaces({ fieldSelector: 'metadata.name=sel-none,metadata.namespace!=team-b' });
    expect(byName.items.map((item) => `${item.metadata?.namespace}/${item.metadata?.name}`)).toEqual(['team-a/sel-none']);
    expect(await failureOf(clients.core.listConfigMapForAllNamespaces({ fieldSelector: 'data.a=1' }))).toMatchObject({ code: 400, reason: 'BadRequest', message: 'field label not supported: data.a' });
  });

  it('refuses a malformed label selector with 400', async () => {
    expect(await failureOf(clients.core.listNamespacedConfigMap({ namespace: 'team-a', labelSelector: 'app in web' }))).toMatchObject({ code: 400, reason: 'BadRequest' });
  });
});

describe('validation', () => {
  it('refuses a name that is not a DNS-1123 subdomain with an Invalid cause on metadata.name', async () => {
    const status = await failureOf(clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'Bad_Name' } } }));
    expect(status).toMatchObject({ code: 422, reason: 'Invalid', details: { name: 'Bad_Name', kind: 'ConfigMap', causes: [{ reason: 'FieldValueInvalid', field: 'metadata.name' }] } });
    expect(status.message).toMatch(/^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
  });

  it('requires a name or generateName', async () => {
    const status = await failureOf(clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: {} } }));
    expect(status.message).toBe('ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required');
  });

  it('refuses a body whose kind, apiVersion, name or namespace disagrees with the URL', async () => {
    const cases: [string, string, unknown, string][] = [
      ['POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } }, 'the kind in the data (Secret) does not match the expected kind (ConfigMap)'],
      ['POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'x' } }, 'the API version in the data (apps/v1) does not match the expected API version (v1)'],
      ['POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'x', namespace: 'team-a' } }, 'the namespace of the provided object does not match the namespace sent on the request'],
      ['PUT', '/api/v1/namespaces/default/configmaps/one', { metadata: { name: 'two' } }, 'the name of the object (two) does not match the name on the URL (one)'],
    ];
    for (const [method, path, body, message] of cases) {
      const response = await raw(server, method, path, { body });
      expect(response.status, message).toBe(400);
      expect(response.body).toMatchObject({ kind: 'Status', reason: 'BadRequest', message });
    }
  });

  it('refuses to create in a namespace that does not exist', async () => {
    expect(await failureOf(clients.core.createNamespacedConfigMap({ namespace: 'nowhere', body: { metadata: { name: 'x' } } }))).toMatchObject({
      code: 404,
      reason: 'NotFound',
      message: 'namespaces "nowhere" not found',
    });
  });

  it('refuses a Deployment whose selector does not match its template labels', async () => {
    const manifest = deployment('invalid-selector') as Manifest & { spec: { selector: { matchLabels: Record<string, string> } } };
    manifest.spec.selector.matchLabels = { app: 'other' };
    const status = await failureOf(serverSideApply(clients, manifest, 'flotilla-agent'));
    expect(status).toMatchObject({ code: 422, reason: 'Invalid', details: { causes: [{ field: 'spec.template.metadata.labels' }] } });
  });

  it('refuses a label value that is not a valid label', async () => {
    const status = await failureOf(clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'bad-label', labels: { app: 'has spaces' } } } }));
    expect(status.details?.causes?.[0]?.field).toBe('metadata.labels');
  });
});

describe('server-side defaults', () => {
  it('fills in the Deployment and pod template defaults an agent must not mistake for drift', async () => {
    const applied = (await serverSideApply(clients, deployment('defaults-web'), 'flotilla-agent')) as unknown as { spec: Record<string, unknown> & { template: { spec: { containers: Record<string, unknown>[] } & Record<string, unknown> } } };
    expect(applied.spec).toMatchObject({ replicas: 1, revisionHistoryLimit: 10, progressDeadlineSeconds: 600, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } });
    expect(applied.spec.template.spec).toMatchObject({ restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', terminationGracePeriodSeconds: 30 });
    expect(applied.spec.template.spec.containers[0]).toMatchObject({ imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log' });
  });

  it('allocates a cluster IP to a Service and keeps it across updates that omit it', async () => {
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'defaults-svc' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } };
    const created = (await serverSideApply(clients, service, 'flotilla-agent')) as unknown as { spec: Record<string, unknown> };
    expect(created.spec['clusterIP']).toMatch(/^10\.96\.\d+\.\d+$/);
    expect(created.spec).toMatchObject({ type: 'ClusterIP', sessionAffinity: 'None', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] });
    const updated = (await serverSideApply(clients, { ...service, spec: { ...service.spec, ports: [{ port: 8080 }] } }, 'flotilla-agent')) as unknown as { spec: Record<string, unknown> };
    expect(updated.spec['clusterIP']).toBe(created.spec['clusterIP']);
  });

  it('stores a Secret stringData as base64 data and never stringData itself', async () => {
    await clients.core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'defaults-secret' }, stringData: { password: 'hunter2' } } });
    const stored = server.getObject({ apiVersion: 'v1', kind: 'Secret', namespace: 'default', name: 'defaults-secret' });
    expect(stored?.['data']).toEqual({ password: Buffer.from('hunter2').toString('base64') });
    expect(stored?.['type']).toBe('Opaque');
    expect(stored).not.toHaveProperty('stringData');
  });

  it('labels a Namespace with its name and marks it Active', async () => {
    const namespace = await clients.core.readNamespace({ name: 'team-a' });
    expect(namespace.metadata?.labels).toEqual({ 'kubernetes.io/metadata.name': 'team-a' });
    expect(namespace.status?.phase).toBe('Active');
  });
});

describe('scale subresource', () => {
  it('reads and writes a Deployment replica count as an autoscaling/v1 Scale', async () => {
    await serverSideApply(clients, deployment('scaled', { replicas: 2 }), 'flotilla-agent');
    const scale = await clients.apps.readNamespacedDeploymentScale({ name: 'scaled', namespace: 'default' });
    expect(scale.spec?.replicas).toBe(2);
    expect(scale.status?.selector).toBe('app=scaled');
    await clients.apps.replaceNamespacedDeploymentScale({ name: 'scaled', namespace: 'default', body: { metadata: { name: 'scaled', namespace: 'default' }, spec: { replicas: 4 } } });
    const stored = server.getObject({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'scaled' }) as unknown as { spec: { replicas: number }; metadata: { generation: number } };
    expect(stored.spec.replicas).toBe(4);
    expect(stored.metadata.generation).toBe(2);
  });
});
