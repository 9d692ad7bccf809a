import type { Clock } from '../../clock.js';
import { countReadyEndpoints, type RelatedObjects, type ServiceRef } from '../../core/health/index.js';
import type { Logger } from '../../log.js';
import type { ResourceType } from './discovery.js';
import type { KubeClient } from './kube-client.js';
import { ResourceWatch, type WatchStats, type WatchTuning } from './resource-watch.js';

// Served by every Kubernetes since 1.21, so not looked up in discovery; where it is not served the list
// fails, the watch backs off and the services stay unknown.
const ENDPOINT_SLICE: ResourceType = {
  apiVersion: 'discovery.k8s.io/v1',
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  resource: 'endpointslices',
  namespaced: true,
};

/** The label the EndpointSlice controller puts on every slice of a Service. */
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Services watched on behalf of one App at most; the rest are not judged (their endpoints stay unknown). */
export const MAX_ENDPOINT_SERVICES_PER_APP = 32;

/** Settings of {@link EndpointWatches}. */
export interface EndpointWatchesOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly random01: () => number;
  readonly log: Logger;
  readonly tuning: WatchTuning;
  /** The ready count of `service` changed (or became known, or unknown again). */
  readonly onChange: (service: ServiceRef) => void;
}

interface ServiceWatch {
  readonly service: ServiceRef;
  readonly watch: ResourceWatch;
  /** Apps whose webhook configurations name the service. */
  readonly owners: Set<string>;
  /** Ready endpoints as last counted; undefined until listed, and while listing is forbidden. */
  ready: number | undefined;
  forbidden: boolean;
}

/**
 * The ready endpoints of the Services that the Apps' admission webhooks call, so that a webhook
 * configuration is judged by whether its service can answer (see core/health/admission.ts). One
 * list-then-watch of EndpointSlices per Service (`kubernetes.io/service-name=<name>` in its
 * namespace), only for Services an App's webhook configurations name, at most
 * {@link MAX_ENDPOINT_SERVICES_PER_APP} per App; a Service's watch stops when no App names it any
 * more. A Service that is not listed yet, or whose EndpointSlices the agent may not list, is unknown:
 * the rule then does not judge it.
 */
export class EndpointWatches implements RelatedObjects {
  readonly #options: EndpointWatchesOptions;
  readonly #services = new Map<string, ServiceWatch>();
  readonly #stopping = new Set<Promise<void>>();
  #closed = false;

  constructor(options: EndpointWatchesOptions) {
    this.#options = options;
  }

  /** Makes `owner` (an App) need exactly `services` watched, replacing what it needed before. */
  ensure(owner: string, services: readonly ServiceRef[]): void {
    if (this.#closed) return;
    const wanted = new Map(services.slice(0, MAX_ENDPOINT_SERVICES_PER_APP).map((service) => [keyOf(service), service]));
    if (services.length > MAX_ENDPOINT_SERVICES_PER_APP) {
      this.#options.log.info('too many webhook services to watch; the rest are not judged', { app: owner, services: services.length, watched: MAX_ENDPOINT_SERVICES_PER_APP });
    }
    for (const [key, entry] of this.#services) {
      if (!wanted.has(key)) this.#forget(key, entry, owner);
    }
    for (const [key, service] of wanted) {
      const entry = this.#services.get(key) ?? this.#start(key, service);
      entry.owners.add(owner);
    }
  }

  /** Forgets every Service `owner` needed; stops the watches nobody needs. */
  release(owner: string): void {
    for (const [key, entry] of this.#services) this.#forget(key, entry, owner);
  }

  /** Ready endpoints of Service `namespace/name`; undefined when not watched, not listed yet, or forbidden. */
  readyEndpoints(namespace: string, name: string): number | undefined {
    return this.#services.get(keyOf({ namespace, name }))?.ready;
  }

  /** Whether `owner` needs `service` watched. */
  isWatchedFor(owner: string, service: ServiceRef): boolean {
    return this.#services.get(keyOf(service))?.owners.has(owner) === true;
  }

  /** The Services watched now, as `namespace/name`, sorted (for tests and diagnostics). */
  watched(): string[] {
    return [...this.#services.keys()].sort();
  }

  /** Counters summed over the running watches. */
  stats(): WatchStats {
    const total: WatchStats = { lists: 0, watches: 0, silentRestarts: 0, goneRelists: 0, failures: 0 };
    for (const { watch } of this.#services.values()) {
      total.lists += watch.stats.lists;
      total.watches += watch.stats.watches;
      total.silentRestarts += watch.stats.silentRestarts;
      total.goneRelists += watch.stats.goneRelists;
      total.failures += watch.stats.failures;
    }
    return total;
  }

  /** Stops every watch and waits for them to end. */
  async stop(): Promise<void> {
    this.#closed = true;
    for (const entry of this.#services.values()) this.#stopping.add(entry.watch.stop());
    this.#services.clear();
    await Promise.allSettled([...this.#stopping]);
  }

  #start(key: string, service: ServiceRef): ServiceWatch {
    const { client, clock, random01, log, tuning } = this.#options;
    const entry: ServiceWatch = {
      service,
      owners: new Set(),
      ready: undefined,
      forbidden: false,
      watch: new ResourceWatch({
        client,
        clock,
        random01,
        log,
        type: ENDPOINT_SLICE,
        namespace: service.namespace,
        labelSelector: `${SERVICE_NAME_LABEL}=${service.name}`,
        tuning,
        onChange: () => this.#recount(entry),
        onSynced: () => {
          entry.forbidden = false;
          this.#recount(entry);
        },
        onForbidden: () => {
          if (!entry.forbidden) log.info('may not list EndpointSlices; webhooks calling this service are not judged', { service: key });
          entry.forbidden = true;
          this.#recount(entry);
        },
      }),
    };
    this.#services.set(key, entry);
    entry.watch.start();
    return entry;
  }

  #recount(entry: ServiceWatch): void {
    if (this.#services.get(keyOf(entry.service)) !== entry) return;
    const ready = entry.forbidden || !entry.watch.synced ? undefined : countReadyEndpoints([...entry.watch.values()]);
    if (ready === entry.ready) return;
    entry.ready = ready;
    this.#options.onChange(entry.service);
  }

  #forget(key: string, entry: ServiceWatch, owner: string): void {
    if (!entry.owners.delete(owner) || entry.owners.size > 0) return;
    this.#services.delete(key);
    const stopping = entry.watch.stop().finally(() => this.#stopping.delete(stopping));
    this.#stopping.add(stopping);
  }
}

function keyOf(service: ServiceRef): string {
  return `${service.namespace}/${service.name}`;
}
