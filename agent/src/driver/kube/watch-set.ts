import type { Clock } from '../../clock.js';
import { MANAGED_SELECTOR, type KubeObject } from '../../core/kube/object-ref.js';
import type { Logger } from '../../log.js';
import type { ResourceType } from './discovery.js';
import type { KubeClient } from './kube-client.js';
import { ResourceWatch, type WatchChange, type WatchStats, type WatchTuning } from './resource-watch.js';

/** Settings of {@link WatchSet}. */
export interface WatchSetOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly random01: () => number;
  readonly log: Logger;
  readonly tuning: WatchTuning;
  readonly onChange: (type: ResourceType, change: WatchChange) => void;
}

interface TypeWatches {
  readonly type: ResourceType;
  /** Namespaces each owner (App) needs watched. */
  readonly owners: Map<string, Set<string>>;
  /** `cluster`: one watch over all namespaces; `namespaced`: one per namespace (listing cluster-wide is forbidden). */
  mode: 'cluster' | 'namespaced';
  /** Keyed by namespace, '' for the cluster-wide watch. */
  readonly watches: Map<string, ResourceWatch>;
}

/**
 * The watches of every resource type the Apps use: one watch per type over the whole cluster,
 * selecting managed objects by label (never one per object). When the agent may not list a type
 * cluster-wide (RBAC limited to some namespaces), that type falls back to one watch per namespace
 * the Apps use. A type's watches stop when no App uses it any more.
 */
export class WatchSet {
  readonly #options: WatchSetOptions;
  readonly #types = new Map<string, TypeWatches>();
  readonly #stopping = new Set<Promise<void>>();
  #closed = false;

  constructor(options: WatchSetOptions) {
    this.#options = options;
  }

  /** Makes sure `type` is watched in `namespaces` on behalf of `owner` (replacing what `owner` needed before). */
  ensure(owner: string, type: ResourceType, namespaces: Iterable<string>): void {
    if (this.#closed) return;
    const key = typeKey(type);
    let entry = this.#types.get(key);
    if (entry === undefined) {
      entry = { type, owners: new Map(), mode: 'cluster', watches: new Map() };
      this.#types.set(key, entry);
    }
    entry.owners.set(owner, new Set(type.namespaced ? namespaces : []));
    this.#reconcile(entry);
  }

  /** Forgets what `owner` needed of every type except `keep` (type keys); stops watches nobody needs. */
  release(owner: string, keep: ReadonlySet<string> = new Set()): void {
    for (const [key, entry] of this.#types) {
      if (keep.has(key) || !entry.owners.delete(owner)) continue;
      this.#reconcile(entry);
      if (entry.owners.size === 0) this.#types.delete(key);
    }
  }

  /** The live object as the watches last saw it, or undefined (not seen, or not watched). */
  get(type: ResourceType, namespace: string, name: string): KubeObject | undefined {
    const entry = this.#types.get(typeKey(type));
    if (entry === undefined) return undefined;
    if (entry.mode === 'cluster') return entry.watches.get('')?.get(namespace, name);
    return entry.watches.get(namespace)?.get(namespace, name);
  }

  /** True when the watches of `type` have completed their first list. */
  isSynced(type: ResourceType): boolean {
    const entry = this.#types.get(typeKey(type));
    return entry !== undefined && entry.watches.size > 0 && [...entry.watches.values()].every((watch) => watch.synced);
  }

  /** Every object held by every watch. */
  *objects(): Generator<KubeObject> {
    for (const entry of this.#types.values()) {
      for (const watch of entry.watches.values()) yield* watch.values();
    }
  }

  /** Counters summed over every watch that is running. */
  stats(): WatchStats {
    const total: WatchStats = { lists: 0, watches: 0, silentRestarts: 0, goneRelists: 0, failures: 0 };
    for (const entry of this.#types.values()) {
      for (const watch of entry.watches.values()) {
        total.lists += watch.stats.lists;
        total.watches += watch.stats.watches;
        total.silentRestarts += watch.stats.silentRestarts;
        total.goneRelists += watch.stats.goneRelists;
        total.failures += watch.stats.failures;
      }
    }
    return total;
  }

  /** Stops every watch and waits for them to end. */
  async stop(): Promise<void> {
    this.#closed = true;
    for (const entry of this.#types.values()) {
      for (const watch of entry.watches.values()) this.#stopping.add(watch.stop());
      entry.watches.clear();
    }
    this.#types.clear();
    await Promise.allSettled([...this.#stopping]);
  }

  #reconcile(entry: TypeWatches): void {
    const wanted = new Set<string>();
    if (entry.owners.size > 0) {
      if (entry.mode === 'cluster' || !entry.type.namespaced) wanted.add('');
      else for (const namespaces of entry.owners.values()) for (const namespace of namespaces) wanted.add(namespace);
    }
    for (const [namespace, watch] of entry.watches) {
      if (wanted.has(namespace)) continue;
      entry.watches.delete(namespace);
      this.#stopInBackground(watch);
    }
    for (const namespace of wanted) {
      if (entry.watches.has(namespace)) continue;
      const watch = new ResourceWatch({
        client: this.#options.client,
        clock: this.#options.clock,
        random01: this.#options.random01,
        log: this.#options.log,
        type: entry.type,
        namespace: namespace === '' ? undefined : namespace,
        labelSelector: MANAGED_SELECTOR,
        tuning: this.#options.tuning,
        onChange: (change) => this.#options.onChange(entry.type, change),
        onForbidden: namespace === '' && entry.type.namespaced ? () => this.#fallBackToNamespaces(entry) : undefined,
      });
      entry.watches.set(namespace, watch);
      watch.start();
    }
  }

  #fallBackToNamespaces(entry: TypeWatches): void {
    if (entry.mode === 'namespaced' || this.#closed) return;
    this.#options.log.info('listing cluster-wide is forbidden; watching per namespace instead', { resource: entry.type.resource, group: entry.type.group });
    entry.mode = 'namespaced';
    this.#reconcile(entry);
  }

  #stopInBackground(watch: ResourceWatch): void {
    const stopping = watch.stop().finally(() => this.#stopping.delete(stopping));
    this.#stopping.add(stopping);
  }
}

/** Key of a resource type in a {@link WatchSet}. */
export function typeKey(type: Pick<ResourceType, 'apiVersion' | 'kind'>): string {
  return `${type.apiVersion} ${type.kind}`;
}
