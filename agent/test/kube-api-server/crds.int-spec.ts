import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { KubeApiTestServer } from './index.js';
import { asClientModel, clientsFor, discoveredResource, failureOf, fieldsOf, raw, serverSideApply, widgetDefinition, type Clients, type Manifest } from './spec-support.js';

// CustomResourceDefinitions registered at runtime: names, establishment, discovery, custom resources with
// their own list semantics, versions, and deletion.

const ESTABLISH_DELAY_MS = 150;

let server: KubeApiTestServer;
let clients: Clients;

beforeAll(async () => {
  server = await KubeApiTestServer.start({ simulateWorkloads: false, crdEstablishDelayMs: ESTABLISH_DELAY_MS });
  clients = clientsFor(server);
});
afterAll(() => server.close());

interface Condition {
  type: string;
  status: string;
  reason?: string;
}
const conditionsOf = (name: string): Record<string, string> =>
  Object.fromEntries(((server.getObject({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name })?.['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? []).map((condition) => [condition.type, condition.status]));

async function establish(definition: Manifest): Promise<void> {
  await serverSideApply(clients, asClientModel(definition), 'flotilla-agent');
  await eventually(() => expect(conditionsOf(definition.metadata!.name!)['Established']).toBe('True'), { timeoutMs: 2000 });
}

const widget = (name: string, spec: Record<string, unknown>, apiVersion = 'example.com/v1'): Manifest => ({ apiVersion, kind: 'Widget', metadata: { name, namespace: 'default' }, spec });

describe('custom resource definitions', () => {
  it('accepts the names at once and serves the kind only once Established, after the delay', async () => {
    const requestedAt = Date.now();
    const applied = await serverSideApply(clients, asClientModel(widgetDefinition()), 'flotilla-agent');
    expect(applied.metadata?.name).toBe('widgets.example.com');
    expect(conditionsOf('widgets.example.com')).toEqual({ NamesAccepted: 'True', Established: 'False' });
    const early = await raw(server, 'GET', '/apis/example.com/v1/namespaces/default/widgets');
    expect(early.status).toBe(404);
    expect(early.body).toMatchObject({ reason: 'NotFound', message: 'the server could not find the requested resource' });
    expect((await raw(server, 'GET', '/apis')).body['groups']).not.toContainEqual(expect.objectContaining({ name: 'example.com' }));

    await eventually(() => expect(conditionsOf('widgets.example.com')['Established']).toBe('True'), { timeoutMs: 2000 });
    // The delay is a lower bound (timers may round down by a millisecond).
    expect(Date.now() - requestedAt).toBeGreaterThanOrEqual(ESTABLISH_DELAY_MS - 1);
    const discovered = await discoveredResource(server, 'example.com/v1', 'Widget');
    expect(discovered).toMatchObject({ name: 'widgets', namespaced: true, kind: 'Widget', shortNames: ['wi'] });
    const status = server.getObject({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'widgets.example.com' })?.['status'];
    expect(status).toMatchObject({ acceptedNames: { kind: 'Widget', plural: 'widgets', listKind: 'WidgetList', singular: 'widget' }, storedVersions: ['v1'] });
  });

  it('stores the schema extensions that decide how custom resource lists merge', async () => {
    const stored = server.getObject({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'widgets.example.com' }) as unknown as {
      spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: { properties: { ports: Record<string, unknown> } } } } } }[] };
    };
    expect(stored.spec.versions[0]?.schema.openAPIV3Schema.properties.spec.properties.ports).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] });
  });

  it('applies custom resources with keyed lists merged by key and other lists replaced whole', async () => {
    const first = await serverSideApply(clients, widget('w1', { size: 1, ports: [{ name: 'http', port: 80 }], tags: ['a'] }), 'flotilla-agent');
    expect(fieldsOf(first, 'flotilla-agent')).toEqual({
      'f:spec': { 'f:ports': { 'k:{"name":"http"}': { '.': {}, 'f:name': {}, 'f:port': {} } }, 'f:size': {}, 'f:tags': {} },
    });
    const merged = await serverSideApply(clients, widget('w1', { ports: [{ name: 'metrics', port: 9090 }] }), 'other-tool');
    expect((merged as unknown as { spec: { ports: unknown[] } }).spec.ports).toEqual([
      { name: 'http', port: 80 },
      { name: 'metrics', port: 9090 },
    ]);
    const conflict = await failureOf(serverSideApply(clients, widget('w1', { tags: ['b'] }), 'other-tool'));
    expect(conflict.details?.causes?.map((cause) => cause.field)).toEqual(['.spec.tags']);
    const list = await raw(server, 'GET', '/apis/example.com/v1/namespaces/default/widgets');
    expect(list.body).toMatchObject({ kind: 'WidgetList', apiVersion: 'example.com/v1', items: [{ kind: 'Widget', apiVersion: 'example.com/v1', metadata: { name: 'w1' } }] });
  });

  it('keeps status out of writes to a custom resource whose CRD has the status subresource', async () => {
    const applied = await serverSideApply(clients, { ...widget('w-status', { size: 2 }), status: { ready: true } }, 'flotilla-agent');
    expect(applied).not.toHaveProperty('status');
    const response = await raw(server, 'PATCH', '/apis/example.com/v1/namespaces/default/widgets/w-status/status', { contentType: 'application/merge-patch+json', body: { status: { ready: true } } });
    expect(response.body).toMatchObject({ spec: { size: 2 }, status: { ready: true } });
    expect(response.body['metadata']).toMatchObject({ generation: 1 });
  });

  it('refuses a strategic merge patch of a custom resource with 415, like the real server', async () => {
    const response = await raw(server, 'PATCH', '/apis/example.com/v1/namespaces/default/widgets/w1', { contentType: 'application/strategic-merge-patch+json', body: { spec: { size: 3 } } });
    expect(response.status).toBe(415);
    expect(response.body).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType' });
  });

  it('serves cluster-scoped custom resources outside namespaces', async () => {
    await establish(widgetDefinition('Cluster'));
    await serverSideApply(clients, { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'g1' }, spec: { size: 1 } }, 'flotilla-agent');
    expect(server.getObject({ apiVersion: 'example.com/v1', kind: 'Gadget', name: 'g1' })?.metadata.namespace).toBeUndefined();
    expect((await raw(server, 'GET', '/apis/example.com/v1/gadgets')).body['items']).toHaveLength(1);
    expect((await raw(server, 'GET', '/apis/example.com/v1/namespaces/default/gadgets')).status).toBe(404);
  });

  it('serves every version marked served from one storage, and not the others', async () => {
    await establish({
      ...widgetDefinition('Namespaced', [
        { name: 'v1', served: true, storage: true },
        { name: 'v1beta1', served: true, storage: false },
        { name: 'v1alpha1', served: false, storage: false },
      ]),
    });
    const group = await raw(server, 'GET', '/apis/example.com');
    expect(group.body).toMatchObject({ kind: 'APIGroup', preferredVersion: { version: 'v1' }, versions: [{ version: 'v1' }, { version: 'v1beta1' }] });
    await serverSideApply(clients, widget('w-versions', { size: 5 }, 'example.com/v1beta1'), 'flotilla-agent');
    const asV1 = await raw(server, 'GET', '/apis/example.com/v1/namespaces/default/widgets/w-versions');
    expect(asV1.body).toMatchObject({ apiVersion: 'example.com/v1', spec: { size: 5 } });
    expect((await raw(server, 'GET', '/apis/example.com/v1alpha1/namespaces/default/widgets/w-versions')).status).toBe(404);
  });

  it('refuses a CRD whose name is not plural.group', async () => {
    const definition = widgetDefinition();
    definition.metadata!.name = 'wrong.example.com';
    const status = await failureOf(serverSideApply(clients, asClientModel(definition), 'flotilla-agent'));
    expect(status).toMatchObject({ code: 422, reason: 'Invalid', details: { causes: [{ field: 'metadata.name' }] } });
  });

  it('deletes the custom resources with their CRD and stops serving the kind', async () => {
    await establish(widgetDefinition());
    const before = await clients.objects.list('example.com/v1', 'Widget', 'default');
    expect(before.items.length).toBeGreaterThan(0);
    await clients.objects.delete({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' } });
    expect(server.listObjects({ apiVersion: 'example.com/v1', kind: 'Widget' })).toEqual([]);
    expect(server.getObject({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'widgets.example.com' })).toBeUndefined();
    expect((await raw(server, 'GET', '/apis/example.com/v1/namespaces/default/widgets')).status).toBe(404);
    expect((await raw(server, 'GET', '/apis/example.com/v1')).body['resources']).toEqual([expect.objectContaining({ name: 'gadgets' }), expect.objectContaining({ name: 'gadgets/status' })]);
  });
});
