import type { Clock, Timer } from '../../clock.js';
import { nextBackoffMs, type BackoffOptions } from '../../core/backoff.js';
import { isRecord, recordAt, type KubeObject } from '../../core/kube/object-ref.js';
import type { Logger } from '../../log.js';
import { collectionPath, type ResourceType } from './discovery.js';
import { KubeApiError, messageOf, type KubeClient, type WatchEvent } from './kube-client.js';

/** Timings of a {@link ResourceWatch}. */
export interface WatchTuning {
  /** No event and no bookmark for this long means the connection is dead: restart the watch. */
  readonly silenceMs: number;
  /** The server ends each watch after this many seconds (a healthy connection always ends). */
  readonly timeoutSeconds: number;
  /** Backoff (with jitter) between failed or unproductive attempts. */
  readonly backoff: BackoffOptions;
  /** A watch that ends sooner than this without any event counts as a failed attempt. */
  readonly minHealthyMs: number;
  /** Objects per list page. */
  readonly pageSize: number;
}

/**
 * Defaults: the API server sends a bookmark about every minute to watches that ask for them, so two
 * minutes of silence means a dead connection (a half-open TCP connection never errors by itself).
 */
export const DEFAULT_WATCH_TUNING: WatchTuning = {
  silenceMs: 120_000,
  timeoutSeconds: 300,
  backoff: { baseMs: 1_000, maxMs: 30_000 },
  minHealthyMs: 1_000,
  pageSize: 500,
};

/** A change to the watched set of objects. */
export interface WatchChange {
  readonly type: 'upsert' | 'delete';
  readonly object: KubeObject;
}

/** Settings of {@link ResourceWatch}. */
export interface ResourceWatchOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly random01: () => number;
  readonly log: Logger;
  readonly type: ResourceType;
  /** Watch one namespace only; undefined watches the whole cluster. */
  readonly namespace: string | undefined;
  readonly labelSelector: string;
  readonly tuning: WatchTuning;
  readonly onChange: (change: WatchChange) => void;
  /** Called when listing is forbidden (RBAC): the owner may switch to per-namespace watches. */
  readonly onForbidden?: () => void;
  /** Called after each complete list, after its changes (an empty list emits none, and still syncs). */
  readonly onSynced?: () => void;
}

/** Counters for tests and logs. */
export interface WatchStats {
  lists: number;
  watches: number;
  /** Watches restarted because the connection went silent. */
  silentRestarts: number;
  /** Re-lists because the resourceVersion was too old (410 Gone). */
  goneRelists: number;
  failures: number;
}

type WatchOutcome = { readonly kind: 'ended' | 'silent' | 'gone' | 'stopped'; readonly events: number; readonly durationMs: number };

/**
 * One list-then-watch loop over a resource type and label selector, holding the objects it sees.
 *
 * It survives what real connections do: a 410 Gone (the resourceVersion was compacted away) re-lists;
 * a silent connection (no event and no bookmark for `silenceMs`) is dropped and the watch resumes from
 * the last resourceVersion; a closed stream resumes at once; errors and unproductive attempts back
 * off exponentially with jitter, and every request passes the client's rate limiter, so an API
 * server that is down sees a bounded trickle of requests. `stop` ends everything.
 */
export class ResourceWatch {
  readonly stats: WatchStats = { lists: 0, watches: 0, silentRestarts: 0, goneRelists: 0, failures: 0 };
  readonly #options: ResourceWatchOptions;
  readonly #objects = new Map<string, KubeObject>();
  #resourceVersion: string | undefined;
  #synced = false;
  #stopping = new AbortController();
  #running: Promise<void> | undefined;

  constructor(options: ResourceWatchOptions) {
    this.#options = options;
  }

  /** True once the first list has completed. */
  get synced(): boolean {
    return this.#synced;
  }

  /** The object `namespace`/`name` as last seen ('' namespace for cluster-scoped objects). */
  get(namespace: string, name: string): KubeObject | undefined {
    return this.#objects.get(`${namespace}/${name}`);
  }

  /** Every object held. */
  values(): IterableIterator<KubeObject> {
    return this.#objects.values();
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /** Stops the loop and any request in flight; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#running;
  }

  async #run(): Promise<void> {
    const { log } = this.#options;
    let attempt = 0;
    while (!this.#stopping.signal.aborted) {
      let productive = false;
      try {
        if (this.#resourceVersion === undefined) {
          await this.#list();
          productive = true;
        }
        const outcome = await this.#watchOnce();
        if (outcome.kind === 'stopped') break;
        if (outcome.kind === 'gone') {
          this.stats.goneRelists += 1;
          this.#resourceVersion = undefined;
        }
        if (outcome.kind === 'silent') this.stats.silentRestarts += 1;
        productive = outcome.events > 0 || outcome.durationMs >= this.#options.tuning.minHealthyMs;
      } catch (error) {
        if (this.#stopping.signal.aborted) break;
        this.stats.failures += 1;
        productive = false;
        if (error instanceof KubeApiError && error.status === 410) {
          this.stats.goneRelists += 1;
          this.#resourceVersion = undefined;
        } else if (error instanceof KubeApiError && error.status === 403) {
          // What was listed may no longer be ours to see: list again once allowed.
          this.#resourceVersion = undefined;
          this.#options.onForbidden?.();
        }
        log.warn('watch failed; retrying', { resource: this.#describe(), error: messageOf(error), attempt: attempt + 1 });
      }
      if (productive) {
        attempt = 0;
        continue;
      }
      const delayMs = nextBackoffMs(attempt, this.#options.random01(), this.#options.tuning.backoff);
      attempt += 1;
      await this.#sleep(delayMs);
    }
  }

  async #list(): Promise<void> {
    const { client, type, namespace, labelSelector, tuning } = this.#options;
    const seen = new Map<string, KubeObject>();
    let continueToken: string | undefined;
    let resourceVersion = '';
    for (let page = 0; page < 10_000; page += 1) {
      const list = await client.request<Record<string, unknown>>('GET', collectionPath(type, namespace), {
        query: { labelSelector, limit: tuning.pageSize, continue: continueToken },
      });
      for (const item of Array.isArray(list['items']) ? list['items'] : []) {
        if (!isRecord(item)) continue;
        // Items of a list carry no apiVersion/kind; put them back so the objects read like watch events.
        const object: KubeObject = { apiVersion: type.apiVersion, kind: type.kind, ...item };
        seen.set(keyOf(object), object);
      }
      const metadata = recordAt(list, 'metadata');
      resourceVersion = typeof metadata?.['resourceVersion'] === 'string' ? metadata['resourceVersion'] : resourceVersion;
      continueToken = typeof metadata?.['continue'] === 'string' && metadata['continue'] !== '' ? metadata['continue'] : undefined;
      if (continueToken === undefined) break;
    }
    this.stats.lists += 1;
    if (this.#stopping.signal.aborted) return;
    const previous = new Map(this.#objects);
    this.#objects.clear();
    for (const [key, object] of seen) this.#objects.set(key, object);
    this.#resourceVersion = resourceVersion;
    this.#synced = true;
    for (const [key, object] of previous) {
      if (!seen.has(key)) this.#emit({ type: 'delete', object });
    }
    for (const [key, object] of seen) {
      if (versionOf(previous.get(key)) !== versionOf(object)) this.#emit({ type: 'upsert', object });
    }
    if (this.#options.onSynced !== undefined) this.#notify(this.#options.onSynced);
  }

  async #watchOnce(): Promise<WatchOutcome> {
    const { client, clock, type, namespace, labelSelector, tuning } = this.#options;
    const startedAt = clock.now();
    const abort = new AbortController();
    const stopListener = (): void => abort.abort();
    this.#stopping.signal.addEventListener('abort', stopListener, { once: true });
    let silenceTimer: Timer | undefined;
    let outcome: WatchOutcome['kind'] = 'ended';
    let events = 0;
    const armSilence = (): void => {
      silenceTimer?.cancel();
      silenceTimer = clock.setTimer(() => {
        outcome = 'silent';
        abort.abort();
      }, tuning.silenceMs);
    };
    const onEvent = (event: WatchEvent): void => {
      if (abort.signal.aborted) return;
      events += 1;
      armSilence();
      const version = versionOf(event.object);
      switch (event.type) {
        case 'ADDED':
        case 'MODIFIED': {
          const object: KubeObject = { apiVersion: type.apiVersion, kind: type.kind, ...event.object };
          this.#objects.set(keyOf(object), object);
          if (version !== undefined) this.#resourceVersion = version;
          this.#emit({ type: 'upsert', object });
          return;
        }
        case 'DELETED': {
          const object: KubeObject = { apiVersion: type.apiVersion, kind: type.kind, ...event.object };
          this.#objects.delete(keyOf(object));
          if (version !== undefined) this.#resourceVersion = version;
          this.#emit({ type: 'delete', object });
          return;
        }
        case 'BOOKMARK':
          if (version !== undefined) this.#resourceVersion = version;
          return;
        case 'ERROR': {
          const code = event.object['code'];
          outcome = code === 410 ? 'gone' : 'ended';
          if (code !== 410) this.#options.log.warn('watch error event', { resource: this.#describe(), status: event.object['message'] });
          abort.abort();
          return;
        }
      }
    };
    try {
      armSilence();
      this.stats.watches += 1;
      await client.watch(
        collectionPath(type, namespace),
        { labelSelector, resourceVersion: this.#resourceVersion, allowWatchBookmarks: true, timeoutSeconds: jitteredTimeout(tuning.timeoutSeconds, this.#options.random01()) },
        onEvent,
        abort.signal,
      );
    } finally {
      silenceTimer?.cancel();
      this.#stopping.signal.removeEventListener('abort', stopListener);
    }
    if (this.#stopping.signal.aborted) outcome = 'stopped';
    return { kind: outcome, events, durationMs: clock.now() - startedAt };
  }

  #emit(change: WatchChange): void {
    this.#notify(() => this.#options.onChange(change));
  }

  #notify(listener: () => void): void {
    try {
      listener();
    } catch (error) {
      this.#options.log.error('watch listener failed', { resource: this.#describe(), error: messageOf(error) });
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.#stopping.signal.aborted) return resolve();
      const timer = this.#options.clock.setTimer(() => {
        this.#stopping.signal.removeEventListener('abort', onStop);
        resolve();
      }, ms);
      const onStop = (): void => {
        timer.cancel();
        resolve();
      };
      this.#stopping.signal.addEventListener('abort', onStop, { once: true });
    });
  }

  #describe(): string {
    const { type, namespace } = this.#options;
    return `${type.resource}${type.group === '' ? '' : `.${type.group}`}${namespace !== undefined ? ` in ${namespace}` : ''}`;
  }
}

function keyOf(object: KubeObject): string {
  const metadata = recordAt(object, 'metadata');
  const namespace = typeof metadata?.['namespace'] === 'string' ? metadata['namespace'] : '';
  const name = typeof metadata?.['name'] === 'string' ? metadata['name'] : '';
  return `${namespace}/${name}`;
}

function versionOf(object: KubeObject | undefined): string | undefined {
  const version = recordAt(object, 'metadata')?.['resourceVersion'];
  return typeof version === 'string' ? version : undefined;
}

// Watches of many resource types started together should not all end together.
function jitteredTimeout(seconds: number, random01: number): number {
  return Math.max(1, Math.round(seconds * (0.8 + 0.4 * Math.min(Math.max(random01, 0), 1))));
}
