import { Health, SyncStatus } from '@flotilla/proto';
import type { StateStore } from '../../cache/state-store.js';
import type { Clock, Timer } from '../../clock.js';
import { buildAppStatus, type ObjectObservation } from '../../core/kube/app-status.js';
import { jsonEqual } from '../../core/kube/field-diff.js';
import { appOfObject, objectKey, refOf } from '../../core/kube/object-ref.js';
import type { Logger } from '../../log.js';
import type { AppSpec, AppStatus, ClusterDriver, DriverCapabilities, DriverResult, RemoveOptions, StatusListener } from '../cluster-driver.js';
import { applyRevision, removeApp } from './apply-revision.js';
import { discoverCapabilities } from './capabilities.js';
import { Discovery, type ResourceType } from './discovery.js';
import { cancelDriftWork, newerObject, observeLive } from './drift.js';
import { EndpointWatches } from './endpoint-watches.js';
import { KubeInventory } from './inventory.js';
import { messageOf, type KubeClient } from './kube-client.js';
import type { WatchChange, WatchStats } from './resource-watch.js';
import { DEFAULT_DRIVER_TUNING, type DriverContext, type KubeDriverTuning, type TrackedApp } from './tracked-app.js';
import { WatchSet } from './watch-set.js';

/** Settings of {@link KubeDriver.create}. */
export interface KubeDriverOptions {
  readonly client: KubeClient;
  /** Where the driver keeps its inventory record (the agent's state store). */
  readonly store: StateStore;
  readonly clock: Clock;
  readonly random01: () => number;
  readonly log: Logger;
  readonly tuning?: Partial<KubeDriverTuning>;
  /** Close `client` when the driver closes (default true). */
  readonly closeClient?: boolean;
}

/**
 * The cluster driver for a real Kubernetes cluster: server-side apply with field manager
 * `flotilla-agent`, prune by label and inventory, health from one watch per resource type, drift
 * detection with dry runs, healing with fight detection. See agent/src/core/kube/README.md for the
 * rules and apply-revision.ts / drift.ts for the flow.
 */
export class KubeDriver implements ClusterDriver {
  readonly #options: KubeDriverOptions;
  readonly #tuning: KubeDriverTuning;
  readonly #apps = new Map<string, TrackedApp>();
  readonly #listeners = new Set<StatusListener>();
  readonly #watches: WatchSet;
  readonly #endpoints: EndpointWatches;
  readonly #context: DriverContext;
  #healthTimer: Timer | undefined;
  #closed = false;

  private constructor(options: KubeDriverOptions, inventory: KubeInventory) {
    this.#options = options;
    this.#tuning = { ...DEFAULT_DRIVER_TUNING, ...options.tuning };
    this.#watches = new WatchSet({
      client: options.client,
      clock: options.clock,
      random01: options.random01,
      log: options.log.child({ component: 'watch' }),
      tuning: this.#tuning.watch,
      onChange: (type, change) => this.#onWatchChange(type, change),
    });
    this.#endpoints = new EndpointWatches({
      client: options.client,
      clock: options.clock,
      random01: options.random01,
      log: options.log.child({ component: 'endpoint-watch' }),
      tuning: this.#tuning.watch,
      onChange: (service) => {
        for (const app of this.#apps.values()) if (this.#endpoints.isWatchedFor(app.spec.appName, service)) this.#publish(app);
      },
    });
    this.#context = {
      client: options.client,
      discovery: new Discovery(options.client, options.clock, this.#tuning.discoveryRefreshMs),
      watches: this.#watches,
      endpoints: this.#endpoints,
      inventory,
      clock: options.clock,
      random01: options.random01,
      log: options.log,
      tuning: this.#tuning,
      apps: this.#apps,
      isClosed: () => this.#closed,
      publish: (app) => this.#publish(app),
    };
    this.#scheduleHealthCheck();
  }

  /** Loads the inventory record from the store and returns a running driver. */
  static async create(options: KubeDriverOptions): Promise<KubeDriver> {
    const inventory = await KubeInventory.open(options.store, options.log, options.clock.now());
    return new KubeDriver(options, inventory);
  }

  async apply(spec: AppSpec): Promise<DriverResult> {
    if (this.#closed) return { kind: 'failed', message: 'driver is closed' };
    const current = this.#apps.get(spec.appName);
    if (current !== undefined && current.complete && isSameRelease(current.spec, spec)) {
      if (current.spec.generation !== spec.generation) {
        current.spec = spec;
        this.#publish(current);
      }
      return { kind: 'unchanged' };
    }
    const app = current ?? this.#track(spec);
    app.spec = spec;
    app.busy = true;
    cancelDriftWork(app);
    try {
      return await applyRevision(this.#context, app, spec);
    } catch (error) {
      // applyRevision reports cluster failures as results; a throw is a bug or a closed client.
      app.phase = { kind: 'failed', message: messageOf(error) };
      app.complete = false;
      this.#publish(app);
      return { kind: 'failed', message: messageOf(error), retryAfterMs: this.#tuning.transientRetryMs };
    } finally {
      app.busy = false;
    }
  }

  async remove(appName: string, options: RemoveOptions): Promise<DriverResult> {
    if (this.#closed) return { kind: 'failed', message: 'driver is closed' };
    const app = this.#apps.get(appName);
    if (app === undefined && this.#context.inventory.get(appName) === undefined) return { kind: 'unchanged' };
    if (app !== undefined) {
      app.busy = true;
      cancelDriftWork(app);
    }
    try {
      const result = await removeApp(this.#context, appName, app, options.preserveResources);
      if (result.kind !== 'failed') {
        this.#apps.delete(appName);
        this.#watches.release(appName);
        this.#endpoints.release(appName);
        this.#options.log.info(options.preserveResources ? 'released App, objects preserved' : 'removed App', { app: appName });
      }
      return result;
    } finally {
      if (app !== undefined) app.busy = false;
    }
  }

  status(appName: string): AppStatus | undefined {
    return this.#apps.get(appName)?.status;
  }

  onStatusChange(listener: StatusListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Watch counters summed over every running watch (for tests and diagnostics). */
  watchStats(): WatchStats {
    return this.#watches.stats();
  }

  /** The Services whose EndpointSlices are watched for webhook health, as `namespace/name` (for tests and diagnostics). */
  endpointWatches(): string[] {
    return this.#endpoints.watched();
  }

  /** The cluster's version and served API resources, from discovery (see discoverCapabilities). */
  capabilities(): Promise<DriverCapabilities> {
    return discoverCapabilities(this.#options.client);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#healthTimer?.cancel();
    for (const app of this.#apps.values()) cancelDriftWork(app);
    await Promise.all([this.#watches.stop(), this.#endpoints.stop()]);
    if (this.#options.closeClient !== false) this.#options.client.close();
    this.#listeners.clear();
  }

  #track(spec: AppSpec): TrackedApp {
    const app: TrackedApp = {
      spec,
      objects: new Map(),
      phase: { kind: 'applying' },
      complete: false,
      note: '',
      status: {
        appName: spec.appName,
        revision: spec.revision,
        generation: spec.generation,
        health: Health.UNKNOWN,
        syncStatus: SyncStatus.OUT_OF_SYNC,
        message: '',
        resources: [],
        observedAtUnixMs: this.#options.clock.now(),
      },
      fingerprint: '',
      busy: false,
      secretValues: [],
    };
    this.#apps.set(spec.appName, app);
    return app;
  }

  #onWatchChange(type: ResourceType, change: WatchChange): void {
    const appName = appOfObject(change.object);
    const app = appName === undefined ? undefined : this.#apps.get(appName);
    const ref = refOf(change.object);
    if (app === undefined || ref === undefined) return;
    const tracked = app.objects.get(objectKey({ group: type.group, kind: type.kind, namespace: ref.namespace, name: ref.name }));
    if (tracked === undefined) return;
    if (change.type === 'delete') {
      tracked.live = undefined;
    } else {
      const newer = newerObject(tracked.live, change.object);
      if (newer !== change.object) return;
      tracked.live = newer;
    }
    observeLive(this.#context, app, tracked);
    this.#publish(app);
  }

  #publish(app: TrackedApp): void {
    if (this.#apps.get(app.spec.appName) !== app) return;
    const objects: ObjectObservation[] = [...app.objects.values()].map((tracked) => ({
      ref: tracked.desired.ref,
      state: tracked.state,
      live: tracked.live,
      ...(tracked.drift !== undefined
        ? {
            driftedFields: tracked.drift.fields.map((field) => field.path),
            driftedValues: tracked.drift.values,
            ...(tracked.drift.note !== undefined ? { driftNote: tracked.drift.note } : {}),
          }
        : {}),
    }));
    const fights = [...app.objects.values()].flatMap((tracked) => (tracked.drift?.note?.startsWith('fighting') === true ? [tracked.drift.note] : []));
    const note = [app.note, ...fights.slice(0, 2)].filter((text) => text !== '').join('; ');
    const status = buildAppStatus({
      appName: app.spec.appName,
      revision: app.spec.revision,
      generation: app.spec.generation,
      phase: app.phase,
      objects,
      note,
      nowMs: this.#options.clock.now(),
      related: this.#endpoints,
    });
    const fingerprint = fingerprintOf(status);
    if (fingerprint === app.fingerprint) return;
    app.status = status;
    app.fingerprint = fingerprint;
    for (const listener of [...this.#listeners]) {
      try {
        listener(status);
      } catch (error) {
        this.#options.log.error('status listener failed', { app: status.appName, error: messageOf(error) });
      }
    }
  }

  // Some health rules depend on time (progress deadlines, stuck deletions): judge Apps that are not
  // healthy again now and then, even when no watch event arrives.
  #scheduleHealthCheck(): void {
    if (this.#closed) return;
    this.#healthTimer = this.#options.clock.setTimer(() => {
      for (const app of this.#apps.values()) {
        if (!app.busy && app.status.health !== Health.HEALTHY) this.#publish(app);
      }
      this.#scheduleHealthCheck();
    }, this.#tuning.healthRecheckMs);
  }
}

function isSameRelease(held: AppSpec, incoming: AppSpec): boolean {
  return held.revision === incoming.revision && held.namespace === incoming.namespace && held.appSet === incoming.appSet && jsonEqual(held.syncPolicy, incoming.syncPolicy);
}

function fingerprintOf(status: AppStatus): string {
  const { observedAtUnixMs: _at, ...rest } = status;
  return JSON.stringify(rest, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}
