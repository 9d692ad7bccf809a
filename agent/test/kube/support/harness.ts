import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DriftPolicy, revisionOf, SyncMode } from '@flotilla/proto';
import { FileStateStore, type StateStore } from '../../../src/cache/state-store.js';
import { systemClock } from '../../../src/clock.js';
import type { Manifest, SyncPolicySpec } from '../../../src/core/desired-state.js';
import type { AppSpec, AppStatus } from '../../../src/driver/cluster-driver.js';
import { KubeApiError, KubeClient, MERGE_PATCH } from '../../../src/driver/kube/kube-client.js';
import { loadKubeConnection } from '../../../src/driver/kube/kube-config.js';
import { KubeDriver } from '../../../src/driver/kube/kube-driver.js';
import type { RateLimit } from '../../../src/driver/kube/rate-limiter.js';
import type { KubeDriverTuning } from '../../../src/driver/kube/tracked-app.js';
import { silentLogger } from '../../../src/log.js';
import type { KubeTarget } from './targets.js';

/** Short timings, so that the suite runs in seconds. */
export const FAST_TUNING: Partial<KubeDriverTuning> = {
  crdEstablishTimeoutMs: 10_000,
  crdPollMs: 50,
  driftDebounceMs: 50,
  driftRetry: { baseMs: 100, maxMs: 1_000 },
  healthRecheckMs: 200,
  transientRetryMs: 200,
  conflictRetryMs: 500,
  fixableRetryMs: 500,
  discoveryRefreshMs: 100,
  watch: { silenceMs: 3_000, timeoutSeconds: 60, backoff: { baseMs: 100, maxMs: 1_000 }, minHealthyMs: 200, pageSize: 50 },
  heal: { windowMs: 20_000, maxHeals: 2, healBackoff: { baseMs: 50, maxMs: 200 }, fightBackoff: { baseMs: 20_000, maxMs: 40_000 } },
};

/** A driver under test, with every status it published. */
export interface DriverUnderTest {
  readonly driver: KubeDriver;
  readonly statuses: AppStatus[];
  readonly store: StateStore;
  readonly client: KubeClient;
  close(): Promise<void>;
}

/** Starts a driver against `target`, with its own client, a file store in a temporary directory unless given. */
export async function startDriver(
  target: KubeTarget,
  options: { tuning?: Partial<KubeDriverTuning>; rateLimit?: RateLimit; store?: StateStore; stateDir?: string } = {},
): Promise<DriverUnderTest> {
  const loaded = loadKubeConnection(target.kubeconfigPath);
  if (!loaded.ok) throw new Error(loaded.message);
  const client = new KubeClient({ endpoint: loaded.connection.endpoint, clock: systemClock, rateLimit: options.rateLimit ?? { qps: 200, burst: 200 } });
  const dir = options.stateDir ?? (await mkdtemp(join(tmpdir(), 'flotilla-kube-state-')));
  const store = options.store ?? new FileStateStore(dir);
  const driver = await KubeDriver.create({ client, store, clock: systemClock, random01: Math.random, log: silentLogger, tuning: { ...FAST_TUNING, ...options.tuning } });
  const statuses: AppStatus[] = [];
  driver.onStatusChange((status) => statuses.push(status));
  return {
    driver,
    statuses,
    store,
    client,
    async close() {
      await driver.close();
      loaded.connection.close();
      if (options.stateDir === undefined && options.store === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

export const SYNC: SyncPolicySpec = { mode: SyncMode.SYNC, drift: DriftPolicy.REPORT, preserveResourcesOnDeletion: false };

/** An AppSpec for `manifests` (revision computed as the hub does). */
export function appSpec(appName: string, namespace: string, manifests: Manifest[], policy: Partial<SyncPolicySpec> = {}, generation = 1n): AppSpec {
  return { appName, appSet: `${appName}-set`, revision: revisionOf(manifests), generation, namespace, manifests, syncPolicy: { ...SYNC, ...policy } };
}

export const configMap = (name: string, data: Record<string, string>, extra: Record<string, unknown> = {}): Manifest => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...extra },
  data,
});

export const namespaceObject = (name: string): Manifest => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

export const deploymentObject = (name: string, options: { replicas?: number; image?: string; annotations?: Record<string, string> } = {}): Manifest => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, ...(options.annotations !== undefined ? { annotations: options.annotations } : {}) },
  spec: {
    replicas: options.replicas ?? 1,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'main', image: options.image ?? 'registry.k8s.io/pause:3.9' }] },
    },
  },
});

export const serviceObject = (name: string): Manifest => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
});

/** A CRD of kind `Widget` in a group unique to the run, and one Widget. */
export function widgetDefinition(target: KubeTarget): { group: string; crd: Manifest; widget: (name: string, size: number) => Manifest } {
  const group = `t${target.suffix}.flotilla.test`;
  return {
    group,
    crd: {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `widgets.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } },
          },
        ],
      },
    },
    widget: (name, size) => ({ apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name }, spec: { size } }),
  };
}

/** Reads an object through the test's own client; undefined when it does not exist. */
export async function readLive(target: KubeTarget, path: string): Promise<Record<string, unknown> | undefined> {
  try {
    return await target.client.request<Record<string, unknown>>('GET', path);
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return undefined;
    throw error;
  }
}

/** A merge patch by another field manager (what `kubectl edit` or a controller does). */
export function patchAs(target: KubeTarget, manager: string, path: string, patch: unknown): Promise<unknown> {
  return target.client.request('PATCH', path, { query: { fieldManager: manager }, contentType: MERGE_PATCH, body: patch });
}

/** Creates a namespace (registered for cleanup). */
export async function createNamespace(target: KubeTarget, name: string): Promise<void> {
  target.cleanupLater(`/api/v1/namespaces/${name}`);
  await target.client.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
}

/** The resource of `status` named `kind`/`name`. */
export function resourceOf(status: AppStatus | undefined, kind: string, name: string) {
  return status?.resources.find((resource) => resource.kind === kind && resource.name === name);
}
