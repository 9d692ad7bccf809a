import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { KubeApiTestServer } from './index.js';
import { clientsFor, failureOf, raw, type Clients } from './spec-support.js';

// Watches through client-node's Watch and informer: initial state, resumption, bookmarks, 410 Gone,
// selector transitions, timeouts, and the faults a watch must survive.

interface WatchEvent {
  readonly type: string;
  readonly object: k8s.KubernetesObject & { code?: number; reason?: string };
}

interface OpenWatch {
  readonly events: WatchEvent[];
  /** Resolves with the error the watch ended with (null for a clean end). */
  readonly ended: Promise<unknown>;
  stop(): void;
}

async function watch(clients: Clients, path: string, query: Record<string, string | number | boolean> = {}): Promise<OpenWatch> {
  const events: WatchEvent[] = [];
  let end: (error: unknown) => void = () => undefined;
  const ended = new Promise<unknown>((resolve) => (end = resolve));
  const controller = await new k8s.Watch(clients.config).watch(path, query, (type, object) => events.push({ type, object }), (error) => end(error));
  return { events, ended, stop: () => controller.abort() };
}

const summary = (events: readonly WatchEvent[]): string[] => events.filter((event) => event.type !== 'BOOKMARK').map((event) => `${event.type} ${event.object.metadata?.name}`);

let server: KubeApiTestServer;
let clients: Clients;
const open: OpenWatch[] = [];

beforeAll(async () => {
  server = await KubeApiTestServer.start({ simulateWorkloads: false, bookmarkIntervalMs: 50 });
  clients = clientsFor(server);
  await clients.core.createNamespace({ body: { metadata: { name: 'watched' } } });
});
afterAll(async () => {
  for (const entry of open) entry.stop();
  await server.close();
});

async function opened(path: string, query: Record<string, string | number | boolean> = {}): Promise<OpenWatch> {
  const entry = await watch(clients, path, query);
  open.push(entry);
  return entry;
}

const CONFIGMAPS = '/api/v1/namespaces/watched/configmaps';
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

describe('watch', () => {
  it('sends ADDED for every current object when watching from resourceVersion 0, then the changes', async () => {
    await clients.core.createNamespacedConfigMap({ namespace: 'watched', body: { metadata: { name: 'w-initial' } } });
    const stream = await opened(CONFIGMAPS, { resourceVersion: '0', fieldSelector: 'metadata.name=w-initial' });
    await eventually(() => expect(summary(stream.events)).toEqual(['ADDED w-initial']));
    await clients.core.patchNamespacedConfigMap({ name: 'w-initial', namespace: 'watched', body: { data: { a: '1' } } }, mergePatch);
    await clients.core.deleteNamespacedConfigMap({ name: 'w-initial', namespace: 'watched' });
    await eventually(() => expect(summary(stream.events)).toEqual(['ADDED w-initial', 'MODIFIED w-initial', 'DELETED w-initial']));
    expect(stream.events.every((event) => event.object.kind === 'ConfigMap' && event.object.apiVersion === 'v1')).toBe(true);
  });

  it('resumes from a resourceVersion with exactly the events after it, in order', async () => {
    const created = await clients.core.createNamespacedConfigMap({ namespace: 'watched', body: { metadata: { name: 'w-resume' } } });
    await clients.core.patchNamespacedConfigMap({ name: 'w-resume', namespace: 'watched', body: { data: { a: '1' } } }, mergePatch);
    await clients.core.createNamespacedConfigMap({ namespace: 'watched', body: { metadata: { name: 'w-resume-2' } } });
    await clients.core.deleteNamespacedConfigMap({ name: 'w-resume', namespace: 'watched' });
    const stream = await opened(CONFIGMAPS, { resourceVersion: created.metadata!.resourceVersion! });
    await eventually(() => expect(summary(stream.events)).toEqual(['MODIFIED w-resume', 'ADDED w-resume-2', 'DELETED w-resume']));
    const versions = stream.events.map((event) => Number(event.object.metadata?.resourceVersion));
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(versions[0]).toBeGreaterThan(Number(created.metadata!.resourceVersion));
  });

  it('sends BOOKMARKs carrying the latest resourceVersion when the client allows them', async () => {
    const stream = await opened(CONFIGMAPS, { allowWatchBookmarks: true, resourceVersion: String(Number.MAX_SAFE_INTEGER) });
    const latest = await clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'w-bookmark' } } });
    await eventually(() => {
      const bookmark = stream.events.find((event) => event.type === 'BOOKMARK' && event.object.metadata?.resourceVersion === latest.metadata?.resourceVersion);
      expect(bookmark?.object).toEqual({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: latest.metadata?.resourceVersion } });
    });
    expect(summary(stream.events)).toEqual([]);
  });

  it('answers a watch from a compacted resourceVersion with one ERROR event (410 Expired) and ends the stream', async () => {
    const created = await clients.core.createNamespacedConfigMap({ namespace: 'watched', body: { metadata: { name: 'w-expired' } } });
    await clients.core.patchNamespacedConfigMap({ name: 'w-expired', namespace: 'watched', body: { data: { a: '1' } } }, mergePatch);
    server.compactHistory();
    const stream = await opened(CONFIGMAPS, { resourceVersion: created.metadata!.resourceVersion! });
    expect(await stream.ended).toBeNull();
    expect(stream.events).toHaveLength(1);
    expect(stream.events[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
    // The current resourceVersion is still resumable.
    const list = await clients.core.listNamespacedConfigMap({ namespace: 'watched' });
    const resumed = await opened(CONFIGMAPS, { resourceVersion: list.metadata!.resourceVersion! });
    await clients.core.deleteNamespacedConfigMap({ name: 'w-expired', namespace: 'watched' });
    await eventually(() => expect(summary(resumed.events)).toEqual(['DELETED w-expired']));
  });

  it('forgets events beyond historyLimit', async () => {
    const small = await KubeApiTestServer.start({ simulateWorkloads: false, historyLimit: 3 });
    try {
      const smallClients = clientsFor(small);
      const first = await smallClients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'h0' } } });
      for (const name of ['h1', 'h2', 'h3']) await smallClients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name } } });
      // Three events fit: h1, h2 and h3. A watch from h0 needs nothing older, one from before h0 does.
      const stream = await watch(smallClients, '/api/v1/namespaces/default/configmaps', { resourceVersion: String(Number(first.metadata!.resourceVersion) - 1) });
      await stream.ended;
      expect(stream.events.map((event) => event.type)).toEqual(['ERROR']);
      const recent = await watch(smallClients, '/api/v1/namespaces/default/configmaps', { resourceVersion: String(Number(first.metadata!.resourceVersion) + 1) });
      await eventually(() => expect(summary(recent.events)).toEqual(['ADDED h2', 'ADDED h3']));
      recent.stop();
    } finally {
      await small.close();
    }
  });

  it('turns label transitions into ADDED and DELETED for a selector watch', async () => {
    await clients.core.createNamespacedConfigMap({ namespace: 'watched', body: { metadata: { name: 'w-labels', labels: { tier: 'back' } } } });
    const stream = await opened(CONFIGMAPS, { labelSelector: 'tier=front', resourceVersion: '0' });
    await clients.core.patchNamespacedConfigMap({ name: 'w-labels', namespace: 'watched', body: { metadata: { labels: { tier: 'front' } } } }, mergePatch);
    await clients.core.patchNamespacedConfigMap({ name: 'w-labels', namespace: 'watched', body: { data: { a: '1' } } }, mergePatch);
    await clients.core.patchNamespacedConfigMap({ name: 'w-labels', namespace: 'watched', body: { metadata: { labels: { tier: 'back' } } } }, mergePatch);
    await eventually(() => expect(summary(stream.events)).toEqual(['ADDED w-labels', 'MODIFIED w-labels', 'DELETED w-labels']));
  });

  it('sees only its own namespace and kind', async () => {
    const stream = await opened(CONFIGMAPS, { resourceVersion: String(Number.MAX_SAFE_INTEGER) });
    await clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'w-elsewhere' } } });
    await clients.core.createNamespacedSecret({ namespace: 'watched', body: { metadata: { name: 'w-secret' } } });
    await clients.core.createNamespacedConfigMap({ namespace: 'watched', body: { metadata: { name: 'w-here' } } });
    await eventually(() => expect(summary(stream.events)).toEqual(['ADDED w-here']));
  });

  it('ends the stream cleanly after timeoutSeconds', async () => {
    const stream = await opened(CONFIGMAPS, { timeoutSeconds: 1, resourceVersion: String(Number.MAX_SAFE_INTEGER) });
    expect(await stream.ended).toBeNull();
  });

  it('refuses a malformed resourceVersion with 400', async () => {
    expect((await raw(server, 'GET', `${CONFIGMAPS}?watch=1&resourceVersion=abc`)).status).toBe(400);
  });

  it('keeps a client-node informer in step with the objects', async () => {
    const list = () => clients.core.listNamespacedConfigMap({ namespace: 'watched', labelSelector: 'informed=yes' });
    const informer = k8s.makeInformer(clients.config, CONFIGMAPS, list, 'informed=yes');
    const seen: string[] = [];
    informer.on('add', (object) => seen.push(`add ${object.metadata?.name}`));
    informer.on('update', (object) => seen.push(`update ${object.metadata?.name}`));
    informer.on('delete', (object) => seen.push(`delete ${object.metadata?.name}`));
    await clients.core.createNamespacedConfigMap({ namespace: 'watched', body: { metadata: { name: 'w-informed-1', labels: { informed: 'yes' } } } });
    await informer.start();
    try {
      await clients.core.createNamespacedConfigMap({ namespace: 'watched', body: { metadata: { name: 'w-informed-2', labels: { informed: 'yes' } } } });
      await clients.core.deleteNamespacedConfigMap({ name: 'w-informed-1', namespace: 'watched' });
      await eventually(() => expect(seen).toEqual(['add w-informed-1', 'add w-informed-2', 'delete w-informed-1']));
      expect(informer.list('watched').map((object) => object.metadata?.name)).toEqual(['w-informed-2']);
    } finally {
      await informer.stop();
    }
  });
});

describe('faults', () => {
  it('ends every open watch abruptly on dropWatches, and a new watch works afterwards', async () => {
    const first = await opened(CONFIGMAPS, { resourceVersion: String(Number.MAX_SAFE_INTEGER) });
    const second = await opened('/apis/apps/v1/deployments', { resourceVersion: '0' });
    server.dropWatches();
    const [firstEnd, secondEnd] = await Promise.all([first.ended, second.ended]);
    expect(firstEnd).toBeInstanceOf(Error);
    expect(secondEnd).toBeInstanceOf(Error);
    const after = await opened(CONFIGMAPS, { resourceVersion: String(Number.MAX_SAFE_INTEGER) });
    await clients.core.createNamespacedConfigMap({ namespace: 'watched', body: { metadata: { name: 'w-after-drop' } } });
    await eventually(() => expect(summary(after.events)).toEqual(['ADDED w-after-drop']));
  });

  it('answers 503 to every request while unavailable, cuts open watches, and recovers', async () => {
    const stream = await opened(CONFIGMAPS, { resourceVersion: String(Number.MAX_SAFE_INTEGER) });
    server.setUnavailable(true);
    try {
      expect(await stream.ended).toBeInstanceOf(Error);
      expect(await failureOf(clients.core.listNamespacedConfigMap({ namespace: 'default' }))).toMatchObject({ code: 503, reason: 'ServiceUnavailable' });
      const refused = await watch(clients, CONFIGMAPS, {});
      expect(await refused.ended).toMatchObject({ statusCode: 503 });
      expect((await raw(server, 'GET', '/version')).status).toBe(503);
    } finally {
      server.setUnavailable(false);
    }
    expect((await clients.core.listNamespacedConfigMap({ namespace: 'default' })).items).toBeDefined();
  });

  it('logs every request with method, path, query and status, in order', async () => {
    const start = server.requestLog().length;
    await clients.core.listNamespacedConfigMap({ namespace: 'watched', labelSelector: 'a=b' });
    await failureOf(clients.core.readNamespacedConfigMap({ name: 'absent', namespace: 'watched' }));
    const entries = server.requestLog().slice(start);
    expect(entries.map(({ method, path, query, status }) => ({ method, path, query, status }))).toEqual([
      { method: 'GET', path: '/api/v1/namespaces/watched/configmaps', query: 'labelSelector=a%3Db', status: 200 },
      { method: 'GET', path: '/api/v1/namespaces/watched/configmaps/absent', query: '', status: 404 },
    ]);
    expect(entries[1]!.at).toBeGreaterThanOrEqual(entries[0]!.at);
  });
});

describe('close', () => {
  it('ends open watches, refuses new connections, and can be called twice', async () => {
    const own = await KubeApiTestServer.start();
    const ownClients = clientsFor(own);
    const stream = await watch(ownClients, '/api/v1/configmaps', { allowWatchBookmarks: true });
    await own.close();
    expect(await stream.ended).toBeInstanceOf(Error);
    await own.close();
    await expect(fetch(`${own.url}/version`)).rejects.toThrow();
  });

  it('requires the bearer token when one is set', async () => {
    const guarded = await KubeApiTestServer.start({ token: 'sekret', simulateWorkloads: false });
    try {
      expect(guarded.kubeconfigYaml()).toContain('token: sekret');
      expect((await clientsFor(guarded).core.listNamespace()).items.map((namespace) => namespace.metadata?.name)).toContain('default');
      const anonymous = await raw(guarded, 'GET', '/api/v1/namespaces');
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
      expect((await raw(guarded, 'GET', '/api/v1/namespaces', { token: 'wrong' })).status).toBe(401);
    } finally {
      await guarded.close();
    }
  });
});
