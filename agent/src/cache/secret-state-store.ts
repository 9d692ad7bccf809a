import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { Clock } from '../clock.js';
import { nextBackoffMs } from '../core/backoff.js';
import { FIELD_MANAGER, isRecord, recordAt } from '../core/kube/object-ref.js';
import { APPLY_PATCH, KubeApiError, messageOf, type KubeClient } from '../driver/kube/kube-client.js';
import type { StateKey, StateStore } from './state-store.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Settings of {@link SecretStateStore}. */
export interface SecretStateStoreOptions {
  readonly client: KubeClient;
  /** The agent's namespace. */
  readonly namespace: string;
  /** Prefix of the Secret names (default `flotilla-agent`): `<prefix>-desired-state`, `<prefix>-credential`... */
  readonly namePrefix?: string;
  readonly clock: Clock;
  readonly random01: () => number;
  /** Largest compressed bytes per Secret (default 768 KiB; Secrets hold at most 1 MiB of data). */
  readonly maxShardBytes?: number;
  /** Most Secrets one document may span (default 8). */
  readonly maxShards?: number;
  /** Tries of a read or write that meets a transient error (default 5, about 15 s in all). */
  readonly attempts?: number;
}

/** A document too large for the Secret store, even compressed and sharded. */
export class StateTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateTooLargeError';
  }
}

const DATA_KEY = 'content.gz';
const SHARDS_ANNOTATION = 'flotilla.dev/state-shards';
const GENERATION_ANNOTATION = 'flotilla.dev/state-generation';
const DIGEST_ANNOTATION = 'flotilla.dev/state-sha256';
const STATE_LABEL = 'flotilla.dev/state';
const PART_OF_LABEL = 'app.kubernetes.io/part-of';

interface Layout {
  readonly generation: number;
  readonly shards: number;
}

/**
 * Documents as Secrets in the agent's namespace, so that state survives a pod that has no persistent
 * volume. Each document is gzipped; when the compressed form exceeds one Secret's share it is cut
 * into shards: the head Secret `<prefix>-<key>` holds the first shard and names the layout
 * (generation, shard count, sha256 of the whole), the other shards live in
 * `<prefix>-<key>-g<generation>-<n>`. A write creates the new generation's extra shards first and
 * switches the head last, so a reader sees the old document or the new one, never a mix; the previous
 * generation's shards are then deleted. A document larger than `maxShards` full shards is refused
 * with {@link StateTooLargeError} (nothing is written).
 *
 * Writes are server-side applies by the agent's field manager. The Secrets are labelled
 * `app.kubernetes.io/part-of: flotilla` and never carry the managed-by label of App objects, so no
 * App can prune them.
 */
export class SecretStateStore implements StateStore {
  readonly #options: SecretStateStoreOptions;
  readonly #prefix: string;
  readonly #maxShardBytes: number;
  readonly #maxShards: number;
  readonly #layouts = new Map<StateKey, Layout | undefined>();

  constructor(options: SecretStateStoreOptions) {
    this.#options = options;
    this.#prefix = options.namePrefix ?? 'flotilla-agent';
    this.#maxShardBytes = options.maxShardBytes ?? 768 * 1024;
    this.#maxShards = options.maxShards ?? 8;
  }

  get description(): string {
    return `Secrets ${this.#prefix}-* in namespace ${this.#options.namespace}`;
  }

  async init(): Promise<void> {
    // Nothing to prepare: Secrets are created by the first write.
  }

  async read(key: StateKey): Promise<string | undefined> {
    const head = await this.#retrying(() => this.#get(this.#headName(key)));
    if (head === undefined) {
      this.#layouts.set(key, undefined);
      return undefined;
    }
    const annotations = recordAt(recordAt(head, 'metadata'), 'annotations') ?? {};
    const layout: Layout = { generation: Number(annotations[GENERATION_ANNOTATION] ?? 0), shards: Number(annotations[SHARDS_ANNOTATION] ?? 1) };
    if (!Number.isSafeInteger(layout.generation) || !Number.isSafeInteger(layout.shards) || layout.shards < 1 || layout.shards > 1000) {
      throw new Error(`Secret ${this.#headName(key)} has an unreadable layout`);
    }
    this.#layouts.set(key, layout);
    const parts = [dataOf(head)];
    for (let index = 1; index < layout.shards; index += 1) {
      const shard = await this.#retrying(() => this.#get(this.#shardName(key, layout.generation, index)));
      if (shard === undefined) throw new Error(`Secret ${this.#shardName(key, layout.generation, index)} is missing (shard ${index + 1} of ${layout.shards})`);
      parts.push(dataOf(shard));
    }
    const compressed = Buffer.concat(parts);
    const digest = createHash('sha256').update(compressed).digest('hex');
    if (annotations[DIGEST_ANNOTATION] !== undefined && annotations[DIGEST_ANNOTATION] !== digest) {
      throw new Error(`Secret ${this.#headName(key)}: the stored document does not match its checksum`);
    }
    return (await gunzipAsync(compressed)).toString('utf8');
  }

  async write(key: StateKey, text: string): Promise<void> {
    const compressed = await gzipAsync(Buffer.from(text, 'utf8'));
    const limit = this.#maxShardBytes * this.#maxShards;
    if (compressed.length > limit) {
      throw new StateTooLargeError(
        `${key} is ${Buffer.byteLength(text)} bytes (${compressed.length} gzipped), over the Secret store's limit of ${limit} gzipped bytes ` +
          `(${this.#maxShards} Secrets of ${this.#maxShardBytes} bytes); use FLOTILLA_CACHE_STORE=file with a persistent volume`,
      );
    }
    if (!this.#layouts.has(key)) await this.read(key).catch(() => undefined);
    const previous = this.#layouts.get(key);
    const generation = (previous?.generation ?? 0) + 1;
    const shards: Buffer[] = [];
    for (let offset = 0; offset < compressed.length || shards.length === 0; offset += this.#maxShardBytes) {
      shards.push(compressed.subarray(offset, offset + this.#maxShardBytes));
    }
    for (let index = 1; index < shards.length; index += 1) {
      await this.#retrying(() => this.#apply(this.#shardName(key, generation, index), key, shards[index] ?? Buffer.alloc(0), {}));
    }
    await this.#retrying(() =>
      this.#apply(this.#headName(key), key, shards[0] ?? Buffer.alloc(0), {
        [GENERATION_ANNOTATION]: String(generation),
        [SHARDS_ANNOTATION]: String(shards.length),
        [DIGEST_ANNOTATION]: createHash('sha256').update(compressed).digest('hex'),
      }),
    );
    this.#layouts.set(key, { generation, shards: shards.length });
    // The old generation's extra shards are garbage now; a failed delete only leaves garbage.
    for (let index = 1; index < (previous?.shards ?? 1); index += 1) {
      await this.#delete(this.#shardName(key, previous?.generation ?? 0, index)).catch(() => undefined);
    }
  }

  async setAside(): Promise<string | undefined> {
    // The next write replaces the unreadable document; nothing is copied.
    return undefined;
  }

  #headName(key: StateKey): string {
    return `${this.#prefix}-${key}`;
  }

  #shardName(key: StateKey, generation: number, index: number): string {
    return `${this.#prefix}-${key}-g${generation}-${index}`;
  }

  #path(name: string): string {
    return `/api/v1/namespaces/${encodeURIComponent(this.#options.namespace)}/secrets/${encodeURIComponent(name)}`;
  }

  async #get(name: string): Promise<Record<string, unknown> | undefined> {
    try {
      return await this.#options.client.request<Record<string, unknown>>('GET', this.#path(name));
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async #apply(name: string, key: StateKey, data: Buffer, annotations: Record<string, string>): Promise<void> {
    await this.#options.client.request('PATCH', this.#path(name), {
      query: { fieldManager: FIELD_MANAGER, force: true },
      contentType: APPLY_PATCH,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: this.#options.namespace, labels: { [PART_OF_LABEL]: 'flotilla', [STATE_LABEL]: key }, annotations },
        type: 'Opaque',
        data: { [DATA_KEY]: data.toString('base64') },
      },
    });
  }

  async #delete(name: string): Promise<void> {
    try {
      await this.#options.client.request('DELETE', this.#path(name));
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 404)) throw error;
    }
  }

  // Transient failures (API server restarting, throttling) are retried a few times with backoff;
  // anything else, or the last failure, is thrown with the Secret store named.
  async #retrying<T>(operation: () => Promise<T>): Promise<T> {
    const attempts = Math.max(1, this.#options.attempts ?? 5);
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await operation();
      } catch (error) {
        const transient = error instanceof KubeApiError && error.isTransient && !this.#options.client.isClosed;
        if (!transient || attempt + 1 >= attempts) throw new Error(`${this.description}: ${messageOf(error)}`);
        const delayMs = nextBackoffMs(attempt, this.#options.random01(), { baseMs: 1_000, maxMs: 8_000 });
        await new Promise<void>((resolve) => this.#options.clock.setTimer(resolve, delayMs));
      }
    }
  }
}

function dataOf(secret: Record<string, unknown>): Buffer {
  const data = recordAt(secret, 'data');
  const value = isRecord(data) ? data[DATA_KEY] : undefined;
  return typeof value === 'string' ? Buffer.from(value, 'base64') : Buffer.alloc(0);
}
