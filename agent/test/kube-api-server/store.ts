import type { KubeObject } from './types.js';

/**
 * Objects by storage key (group/resource), one global resourceVersion counter, and the event history
 * that watches resume from. Every write goes through here, so the simulator's status writes bump
 * resourceVersion and reach watches exactly like a client's writes.
 */

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One change. Objects are stored copies: never mutate them. */
export interface StoreEvent {
  readonly type: StoreEventType;
  readonly storageKey: string;
  readonly resourceVersion: number;
  readonly object: KubeObject;
  /** The object before a MODIFIED change (for selector transitions). */
  readonly previous?: KubeObject;
}

export type StoreListener = (event: StoreEvent) => void;

const objectKey = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`;

export class ObjectStore {
  private revision = 0;
  private readonly buckets = new Map<string, Map<string, KubeObject>>();
  private history: StoreEvent[] = [];
  /** A watch may resume from any resourceVersion at or above this one. */
  private oldestResumable = 0;
  private readonly listeners = new Set<StoreListener>();

  constructor(private readonly historyLimit: number) {}

  /** The latest resourceVersion handed out. */
  get resourceVersion(): number {
    return this.revision;
  }

  get(storageKey: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.buckets.get(storageKey)?.get(objectKey(namespace, name));
  }

  /** Objects of `storageKey` (in `namespace` when given), in namespace/name order like etcd keys. */
  list(storageKey: string, namespace?: string): KubeObject[] {
    const objects = [...(this.buckets.get(storageKey)?.values() ?? [])].filter((object) => namespace === undefined || object.metadata.namespace === namespace);
    return objects.sort((a, b) => objectKey(a.metadata.namespace, a.metadata.name!).localeCompare(objectKey(b.metadata.namespace, b.metadata.name!)));
  }

  /** Every stored object with its storage key. */
  entries(): { storageKey: string; object: KubeObject }[] {
    return [...this.buckets.entries()].flatMap(([storageKey, bucket]) => [...bucket.values()].map((object) => ({ storageKey, object })));
  }

  /** Stores `object` under a new resourceVersion and returns the stored copy. */
  put(storageKey: string, object: KubeObject): KubeObject {
    const bucket = this.buckets.get(storageKey) ?? new Map<string, KubeObject>();
    this.buckets.set(storageKey, bucket);
    const key = objectKey(object.metadata.namespace, object.metadata.name!);
    const previous = bucket.get(key);
    const stored = this.stamp(object);
    bucket.set(key, stored);
    this.record({ type: previous === undefined ? 'ADDED' : 'MODIFIED', storageKey, resourceVersion: this.revision, object: stored, ...(previous === undefined ? {} : { previous }) });
    return stored;
  }

  /** Removes the object; its final state carries the deletion's resourceVersion, as in etcd. */
  remove(storageKey: string, object: KubeObject): KubeObject {
    const bucket = this.buckets.get(storageKey);
    bucket?.delete(objectKey(object.metadata.namespace, object.metadata.name!));
    const final = this.stamp(object);
    this.record({ type: 'DELETED', storageKey, resourceVersion: this.revision, object: final });
    return final;
  }

  /**
   * Events after `resourceVersion`, or `undefined` when history no longer reaches back that far (the
   * caller answers 410 Gone).
   */
  eventsAfter(resourceVersion: number): StoreEvent[] | undefined {
    if (resourceVersion < this.oldestResumable) return undefined;
    return this.history.filter((event) => event.resourceVersion > resourceVersion);
  }

  /** The oldest resourceVersion a watch may still resume from. */
  get oldestResumableVersion(): number {
    return this.oldestResumable;
  }

  /** Forgets all history: only watches from the current resourceVersion can resume. */
  compact(): void {
    this.history = [];
    this.oldestResumable = this.revision;
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private stamp(object: KubeObject): KubeObject {
    this.revision += 1;
    const stored = structuredClone(object);
    stored.metadata.resourceVersion = String(this.revision);
    return stored;
  }

  private record(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.oldestResumable = dropped[dropped.length - 1]!.resourceVersion;
    }
    for (const listener of [...this.listeners]) listener(event);
  }
}
