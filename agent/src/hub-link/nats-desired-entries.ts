import { createHash } from 'node:crypto';
import { ConnectResponseSchema, LIMITS, fromBinary, type ConnectResponse, type RemoveApp, type DesiredApp } from '@flotilla/proto';

/**
 * Reads the entries of the hub's desired-state KV bucket for one cluster (the hub writes them; see
 * hub/src/agent-link/kv-layout.ts, kept in step by the contract suite):
 * - `<cluster>.<app>`: a binary `ConnectResponse` holding the App's DesiredApp or RemoveApp, or, for a
 *   value too large for one NATS message, empty data and headers naming its chunks;
 * - `<cluster>.<app>._chunk.<generation>.<index>`: the bytes of such a value, written before the App key;
 * - `<cluster>._welcome`: the hub's Welcome (or Refusal) for this cluster.
 * KV deletes are ignored: a removal always comes as a RemoveApp with a generation.
 */

/** Header names on App keys (see the hub's layout). */
export const KV_HEADER = {
  chunks: 'Flotilla-Chunks',
  size: 'Flotilla-Size',
  sha256: 'Flotilla-Sha256',
  generation: 'Flotilla-Generation',
} as const;
const KV_OPERATION_HEADER = 'KV-Operation';
const WELCOME_TOKEN = '_welcome';
const CHUNK_TOKEN = '_chunk';

/**
 * Largest joined value accepted (the largest App, LIMITS.maxAppManifestBytes, and room for the rest of
 * its DesiredApp; the hub's MAX_VALUE_BYTES), and most chunks per value.
 */
export const MAX_JOINED_BYTES = LIMITS.maxAppManifestBytes + 1024 * 1024;
const MAX_CHUNKS = 4096;
/**
 * Chunk bytes held while waiting for the rest of a value; beyond this the buffer is dropped (one value
 * of the largest size, and as much again of others in flight).
 */
export const MAX_BUFFERED_BYTES = 2 * MAX_JOINED_BYTES;
/**
 * Chunks of a value whose App key has not joined them this long after the first of them arrived are
 * dropped (the hub writes every chunk, then the key, within one write; a value left half-written by a
 * hub that stopped is rewritten whole by the next write, under a new generation).
 */
export const CHUNK_TIMEOUT_MS = 10 * 60_000;

/** One KV entry as delivered by the watch. */
export interface KvEntryInput {
  readonly subject: string;
  readonly headers: { get(name: string): string } | undefined;
  readonly data: Uint8Array;
}

/** What an entry means for the agent. */
export type EntryEvent =
  | { readonly kind: 'desiredApp'; readonly message: DesiredApp }
  | { readonly kind: 'removeApp'; readonly message: RemoveApp }
  | { readonly kind: 'welcome'; readonly message: ConnectResponse }
  /** A chunk or a split value whose pieces have not all arrived. */
  | { readonly kind: 'pending' }
  /** A KV delete or purge: the hub cleaned a key up (removals always come as a RemoveApp). */
  | { readonly kind: 'deleted' }
  | { readonly kind: 'ignored'; readonly reason: string };

interface SplitValue {
  readonly generation: string;
  readonly chunks: number;
  readonly size: number;
  readonly sha256: string;
}

/**
 * Turns the KV entries of one cluster into DesiredApps, RemoveApps and Welcomes, joining split values.
 * Stateful (it buffers chunks) and bounded: at most {@link MAX_BUFFERED_BYTES} of chunks are held.
 */
export class DesiredEntries {
  readonly #prefix: string;
  readonly #maxBufferedBytes: number;
  /** Chunk bytes by `app \0 generation \0 index`. */
  readonly #chunks = new Map<string, Uint8Array>();
  /** Split values announced by an App key, waiting for chunks. */
  readonly #waiting = new Map<string, SplitValue>();
  /** When the first chunk of each `app \0 generation` arrived (ms of the `nowMs` given to accept). */
  readonly #firstChunkAt = new Map<string, number>();
  readonly #chunkTimeoutMs: number;
  #bufferedBytes = 0;

  constructor(bucket: string, cluster: string, maxBufferedBytes: number = MAX_BUFFERED_BYTES, chunkTimeoutMs: number = CHUNK_TIMEOUT_MS) {
    this.#prefix = `$KV.${bucket}.${cluster}.`;
    this.#maxBufferedBytes = maxBufferedBytes;
    this.#chunkTimeoutMs = chunkTimeoutMs;
  }

  /** The subject filter that covers every entry of the cluster. */
  static filter(bucket: string, cluster: string): string {
    return `$KV.${bucket}.${cluster}.>`;
  }

  /** Bytes of chunks held now. */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /** Reads one entry; `nowMs` (the agent's clock) times out chunks that were never joined. */
  accept(entry: KvEntryInput, nowMs?: number): EntryEvent {
    if (nowMs !== undefined) this.#expire(nowMs);
    if (!entry.subject.startsWith(this.#prefix)) return { kind: 'ignored', reason: 'entry of another cluster' };
    const key = entry.subject.slice(this.#prefix.length);
    const tokens = key.split('.');
    const operation = entry.headers?.get(KV_OPERATION_HEADER) ?? '';
    const deleted = operation === 'DEL' || operation === 'PURGE';
    if (tokens.length === 1 && tokens[0] === WELCOME_TOKEN) {
      if (deleted) return { kind: 'deleted' };
      const message = decode(entry.data);
      if (message?.message.case === 'welcome' || message?.message.case === 'refusal') return { kind: 'welcome', message };
      return { kind: 'ignored', reason: 'malformed welcome' };
    }
    if (tokens.length >= 4 && tokens[tokens.length - 3] === CHUNK_TOKEN) {
      const app = tokens.slice(0, -3).join('.');
      const [generation, index] = tokens.slice(-2) as [string, string];
      if (!/^\d+$/.test(generation) || !/^\d+$/.test(index)) return { kind: 'ignored', reason: 'malformed chunk key' };
      if (deleted) return { kind: 'deleted' };
      this.#store(`${app}\u0000${generation}\u0000${Number(index)}`, entry.data);
      if (nowMs !== undefined && !this.#firstChunkAt.has(`${app}\u0000${generation}`)) this.#firstChunkAt.set(`${app}\u0000${generation}`, nowMs);
      return this.#join(app);
    }
    if (tokens.some((token) => token.startsWith('_'))) return { kind: 'ignored', reason: 'unknown reserved key' };
    const app = key;
    if (deleted) return { kind: 'deleted' };
    const chunks = Number(entry.headers?.get(KV_HEADER.chunks) || '1');
    if (chunks > 1) {
      const size = Number(entry.headers?.get(KV_HEADER.size) ?? '');
      const sha256 = entry.headers?.get(KV_HEADER.sha256) ?? '';
      const generation = entry.headers?.get(KV_HEADER.generation) ?? '';
      if (!Number.isSafeInteger(chunks) || chunks > MAX_CHUNKS || !Number.isSafeInteger(size) || size > MAX_JOINED_BYTES || !/^[0-9a-f]{64}$/.test(sha256) || !/^\d+$/.test(generation)) {
        return { kind: 'ignored', reason: `split value of App ${app} has invalid or oversized headers` };
      }
      this.#waiting.set(app, { generation, chunks, size, sha256 });
      return this.#join(app);
    }
    this.#waiting.delete(app);
    return this.#appMessage(app, decode(entry.data));
  }

  #appMessage(app: string, message: ConnectResponse | undefined): EntryEvent {
    const inner = message?.message;
    if (inner?.case !== 'desiredApp' && inner?.case !== 'removeApp') return { kind: 'ignored', reason: `value of App ${app} is not a DesiredApp or RemoveApp` };
    if (inner.value.appName !== app) return { kind: 'ignored', reason: `value under key ${app} names App ${inner.value.appName.slice(0, 63)}` };
    this.#dropChunks(app, inner.value.generation);
    return inner.case === 'desiredApp' ? { kind: 'desiredApp', message: inner.value } : { kind: 'removeApp', message: inner.value };
  }

  /** Joins the waiting split value of `app` once every chunk is there. */
  #join(app: string): EntryEvent {
    const split = this.#waiting.get(app);
    if (!split) return { kind: 'pending' };
    const pieces: Uint8Array[] = [];
    for (let index = 0; index < split.chunks; index++) {
      const piece = this.#chunks.get(`${app}\u0000${split.generation}\u0000${index}`);
      if (!piece) return { kind: 'pending' };
      pieces.push(piece);
    }
    this.#waiting.delete(app);
    const joined = Buffer.concat(pieces);
    if (joined.length !== split.size || createHash('sha256').update(joined).digest('hex') !== split.sha256) {
      this.#dropChunks(app, BigInt(split.generation));
      return { kind: 'ignored', reason: `chunks of App ${app} do not match their size or sha256` };
    }
    return this.#appMessage(app, decode(joined));
  }

  #store(key: string, data: Uint8Array): void {
    if (data.length > MAX_JOINED_BYTES) return;
    if (this.#bufferedBytes + data.length > this.#maxBufferedBytes) {
      // Bounded memory over completeness: a dropped value comes back with the next session's watch.
      this.#chunks.clear();
      this.#firstChunkAt.clear();
      this.#bufferedBytes = 0;
    }
    const previous = this.#chunks.get(key);
    this.#bufferedBytes += data.length - (previous?.length ?? 0);
    this.#chunks.set(key, data);
  }

  /** Drops the chunks (and the waiting value) of every group whose first chunk came too long ago. */
  #expire(nowMs: number): void {
    for (const [group, firstAt] of this.#firstChunkAt) {
      if (nowMs - firstAt <= this.#chunkTimeoutMs) continue;
      this.#firstChunkAt.delete(group);
      const [app, generation] = group.split('\u0000') as [string, string];
      for (const [key, data] of this.#chunks) {
        if (key.startsWith(`${group}\u0000`)) {
          this.#chunks.delete(key);
          this.#bufferedBytes -= data.length;
        }
      }
      if (this.#waiting.get(app)?.generation === generation) this.#waiting.delete(app);
    }
  }

  /** Forgets the chunks of `app` up to and including `generation`. */
  #dropChunks(app: string, generation: bigint): void {
    const prefix = `${app}\u0000`;
    for (const [key, data] of this.#chunks) {
      if (!key.startsWith(prefix)) continue;
      const chunkGeneration = BigInt(key.slice(prefix.length, key.indexOf('\u0000', prefix.length)));
      if (chunkGeneration <= generation) {
        this.#chunks.delete(key);
        this.#firstChunkAt.delete(`${app}\u0000${chunkGeneration}`);
        this.#bufferedBytes -= data.length;
      }
    }
  }
}

function decode(data: Uint8Array): ConnectResponse | undefined {
  try {
    return fromBinary(ConnectResponseSchema, data, { readUnknownFields: false });
  } catch {
    return undefined;
  }
}
