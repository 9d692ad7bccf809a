import { createHash } from 'node:crypto';
import { ConnectResponseSchema, fromBinary, toBinary, type ConnectResponse } from '@flotilla/proto';
import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import { Empty, headers } from '@nats-io/transport-node';
import {
  KV_HEADER,
  KV_OPERATION_HEADER,
  MAX_CHUNKS,
  MAX_VALUE_BYTES,
  appKey,
  appOf,
  chunkFilter,
  chunkKey,
  clusterKeys,
  kvStreamName,
  kvSubject,
  splitValue,
  welcomeKey,
} from './kv-layout';

/** The App key of a cluster as last written. */
export interface StoredApp {
  /** Stream sequence of the entry (the compare-and-set guard of the next write). */
  readonly seq: number;
  /** True for a KV delete or purge marker. */
  readonly deleted: boolean;
  readonly kind: 'desiredApp' | 'removeApp' | 'unknown';
  readonly generation: bigint | undefined;
  /** Chunks of a split value; 1 when the entry holds the whole value. */
  readonly chunks: number;
}

/** What a write did. */
export type WriteOutcome = 'written' | 'unchanged' | 'stale';

/** Attempts of one write when other replicas keep changing the key in between. */
const MAX_WRITE_ATTEMPTS = 5;
/** App keys whose last sequence this writer remembers (the oldest remembered is forgotten first). */
const MAX_KNOWN_KEYS = 100_000;

/**
 * The desired-state KV bucket as the hub writes it: one key per (cluster, App) holding the App's
 * current DesiredApp or RemoveApp. Every write is guarded by generation and by compare-and-set on the
 * key's last sequence, so replicas racing on one key converge on the newest generation and an older
 * value never replaces a newer one. Values larger than one NATS message are split (see kv-layout.ts).
 */
export class DesiredKv {
  private readonly stream: string;
  /**
   * What this writer last saw of each App key (its own writes and reads). A release, always of a newer
   * generation, then publishes straight away with that sequence as the compare-and-set guard instead
   * of reading the key first: one round trip instead of two. If anyone changed the key since, the
   * guard refuses the publish and the write reads the key and decides again, so the cache can make a
   * write cheaper but never wrong. Decisions not to write ('unchanged', 'stale') always come from a read.
   */
  private readonly known = new Map<string, StoredApp>();

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly bucket: string,
    private readonly chunkBytes: number,
  ) {
    this.stream = kvStreamName(bucket);
  }

  /**
   * Writes a DesiredApp or RemoveApp unless the key already holds this generation ('unchanged') or a
   * newer one ('stale'). Throws on NATS failures, on a value over {@link MAX_VALUE_BYTES}, and when the
   * key keeps changing under it.
   */
  async write(cluster: string, message: ConnectResponse): Promise<WriteOutcome> {
    const app = appOf(message);
    if (!app) throw new Error(`Only DesiredApp and RemoveApp are stored per App (got ${message.message.case ?? 'an empty message'}).`);
    const key = appKey(cluster, app.appName);
    const bytes = toBinary(ConnectResponseSchema, message);
    if (bytes.length > MAX_VALUE_BYTES) {
      throw new Error(`The desired state of App "${app.appName}" on cluster ${cluster} is ${bytes.length} bytes, over the ${MAX_VALUE_BYTES}-byte cap; it is not stored.`);
    }
    const pieces = splitValue(bytes, this.chunkBytes);
    if (pieces.length > MAX_CHUNKS) {
      throw new Error(`The desired state of App "${app.appName}" on cluster ${cluster} needs ${pieces.length} chunks of ${this.chunkBytes} bytes, over the ${MAX_CHUNKS}-chunk cap (raise the NATS server's max_payload); it is not stored.`);
    }
    let chunksWritten = false;
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const remembered = attempt === 0 ? this.known.get(key) : undefined;
      const current = remembered !== undefined && remembered.generation !== undefined && remembered.generation < app.generation ? remembered : await this.read(cluster, app.appName);
      if (current && !current.deleted && current.generation !== undefined && current.generation >= app.generation) {
        if (chunksWritten && current.generation !== app.generation) await this.purgeChunks(cluster, app.appName, app.generation);
        return current.generation === app.generation ? 'unchanged' : 'stale';
      }
      const h = headers();
      h.set(KV_HEADER.generation, app.generation.toString());
      if (pieces.length > 1 && !chunksWritten) {
        // Chunk keys are per generation: writers of one generation write the same bytes, so they need no guard.
        for (const [index, piece] of pieces.entries()) await this.js.publish(kvSubject(this.bucket, chunkKey(cluster, app.appName, app.generation, index)), piece);
        chunksWritten = true;
      }
      if (pieces.length > 1) {
        h.set(KV_HEADER.chunks, String(pieces.length));
        h.set(KV_HEADER.size, String(bytes.length));
        h.set(KV_HEADER.sha256, createHash('sha256').update(bytes).digest('hex'));
      }
      try {
        const ack = await this.js.publish(kvSubject(this.bucket, key), pieces.length > 1 ? Empty : bytes, { headers: h, expect: { lastSubjectSequence: current?.seq ?? 0 } });
        this.remember(key, { seq: ack.seq, deleted: false, kind: message.message.case === 'removeApp' ? 'removeApp' : 'desiredApp', generation: app.generation, chunks: pieces.length });
      } catch (error) {
        this.known.delete(key);
        if (isWrongLastSequence(error)) continue; // another replica wrote meanwhile: compare again
        throw error;
      }
      if (current && !current.deleted && current.chunks > 1 && current.generation !== undefined) {
        await this.purgeChunks(cluster, app.appName, current.generation); // the replaced value's chunks
      }
      return 'written';
    }
    throw new Error(`The KV key of App "${app.appName}" on cluster ${cluster} kept changing; gave up after ${MAX_WRITE_ATTEMPTS} attempts.`);
  }

  /** The App key as last written, or undefined when it was never written. */
  async read(cluster: string, appName: string): Promise<StoredApp | undefined> {
    const key = appKey(cluster, appName);
    const stored = await this.jsm.streams.getMessage(this.stream, { last_by_subj: kvSubject(this.bucket, key) });
    const app = stored ? describe(stored) : undefined;
    if (app && !app.deleted) this.remember(key, app);
    else this.known.delete(key);
    return app;
  }

  private remember(key: string, app: StoredApp): void {
    this.known.delete(key); // re-inserted last: the map's order is the order of last use
    this.known.set(key, app);
    if (this.known.size > MAX_KNOWN_KEYS) this.known.delete(this.known.keys().next().value!);
  }

  /**
   * Deletes the App key when it holds a RemoveApp of at most `generation` (the agent acked that removal,
   * or no longer holds the App). A newer value is kept. Returns whether the key was deleted.
   */
  async deleteRemoval(cluster: string, appName: string, generation: bigint): Promise<boolean> {
    const current = await this.read(cluster, appName);
    if (!current || current.deleted || current.kind !== 'removeApp' || current.generation === undefined || current.generation > generation) return false;
    const h = headers();
    h.set(KV_OPERATION_HEADER, 'DEL');
    this.known.delete(appKey(cluster, appName));
    try {
      await this.js.publish(kvSubject(this.bucket, appKey(cluster, appName)), Empty, { headers: h, expect: { lastSubjectSequence: current.seq } });
    } catch (error) {
      if (isWrongLastSequence(error)) return false; // rewritten meanwhile: the newer value stays
      throw error;
    }
    if (current.chunks > 1) await this.purgeChunks(cluster, appName, current.generation);
    return true;
  }

  /** Writes the cluster's Welcome or Refusal (a new entry each time, which the agent takes as "the hub heard you"). */
  async putWelcome(cluster: string, message: ConnectResponse): Promise<void> {
    await this.js.publish(kvSubject(this.bucket, welcomeKey(cluster)), toBinary(ConnectResponseSchema, message));
  }

  /** Removes every key of a cluster (`<cluster>.>`): its Apps, their chunks and its Welcome. */
  async purgeCluster(cluster: string): Promise<void> {
    const prefix = clusterKeys(cluster);
    await this.jsm.streams.purge(this.stream, { filter: kvSubject(this.bucket, prefix) });
    for (const key of [...this.known.keys()]) if (key.startsWith(`${cluster}.`)) this.known.delete(key);
  }

  private async purgeChunks(cluster: string, appName: string, generation: bigint): Promise<void> {
    // A stream purge by subject leaves no delete markers behind, unlike KV deletes.
    await this.jsm.streams.purge(this.stream, { filter: kvSubject(this.bucket, chunkFilter(cluster, appName, generation)) });
  }
}

function describe(stored: StoredMsg): StoredApp {
  const operation = stored.header?.get(KV_OPERATION_HEADER);
  if (operation === 'DEL' || operation === 'PURGE') return { seq: stored.seq, deleted: true, kind: 'unknown', generation: undefined, chunks: 1 };
  const chunks = Number(stored.header?.get(KV_HEADER.chunks) || '1');
  const headerGeneration = stored.header?.get(KV_HEADER.generation);
  let kind: StoredApp['kind'] = 'unknown';
  let generation = headerGeneration && /^\d+$/.test(headerGeneration) ? BigInt(headerGeneration) : undefined;
  if (chunks <= 1) {
    try {
      const message = fromBinary(ConnectResponseSchema, stored.data, { readUnknownFields: false });
      const app = appOf(message);
      if (app) {
        kind = message.message.case as 'desiredApp' | 'removeApp';
        generation ??= app.generation;
      }
    } catch {
      // Not ours or corrupt: the next write replaces it.
    }
  } else {
    kind = 'desiredApp'; // only DesiredApps are ever large enough to be split
  }
  return { seq: stored.seq, deleted: false, kind, generation, chunks: Number.isInteger(chunks) && chunks > 0 ? chunks : 1 };
}

function isWrongLastSequence(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence || error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}
