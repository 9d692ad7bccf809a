import { LIMITS, type ConnectResponse } from '@flotilla/proto';

/**
 * How desired state is laid out in the JetStream KV bucket, and how agent messages are addressed.
 * The agent reads the same layout (agent/src/hub-link/nats-desired-entries.ts); the contract suite
 * keeps the two in step.
 *
 * Keys, all under `<cluster>.` so that one subject permission covers everything a cluster may read:
 * - `<cluster>.<app>`: the App's current DesiredApp or RemoveApp, a binary `ConnectResponse`;
 * - `<cluster>.<app>._chunk.<generation>.<index>`: the pieces of a value too large for one message;
 * - `<cluster>._welcome`: the hub's Welcome (or Refusal) for the cluster's agent.
 * Tokens starting with `_` can never be App names (DNS labels), so the three cannot collide.
 *
 * A value too large for one NATS message is split: its bytes go to chunk keys first, then the App key
 * is written with empty data and the headers below, so a reader that sees the App key has every chunk.
 */
export const KV_HEADER = {
  /** Generation of the value, on every App key (so that a writer need not decode it). */
  generation: 'Flotilla-Generation',
  /** Number of chunks of a split value; absent when the data holds the whole value. */
  chunks: 'Flotilla-Chunks',
  /** Total byte length of a split value. */
  size: 'Flotilla-Size',
  /** sha256 (hex) of a split value's bytes, checked by the reader after joining the chunks. */
  sha256: 'Flotilla-Sha256',
} as const;

/** The KV operation header JetStream KV writes on deletes and purges. */
export const KV_OPERATION_HEADER = 'KV-Operation';

export const WELCOME_TOKEN = '_welcome';
export const CHUNK_TOKEN = '_chunk';

/**
 * Largest value the hub writes for one App, split or not: the largest App (LIMITS.maxAppManifestBytes)
 * and room for the rest of its DesiredApp. Each chunk key stays within one NATS message.
 */
export const MAX_VALUE_BYTES = LIMITS.maxAppManifestBytes + 1024 * 1024;
/** Most chunk keys of one value (the agent refuses more). */
export const MAX_CHUNKS = 4096;
/** Largest chunk, whatever the server allows: smaller chunks keep slow consumers' buffers small. */
const MAX_CHUNK_BYTES = 512 * 1024;
/** Room left in a NATS message for headers and protocol overhead. */
const HEADER_ROOM_BYTES = 4096;

// KV keys are subject tokens; an App or cluster name with other characters cannot be stored.
const KEY_TOKEN = /^[A-Za-z0-9_=-]+$/;

/** The JetStream stream behind a KV bucket. */
export function kvStreamName(bucket: string): string {
  return `KV_${bucket}`;
}

/** The subject of a KV key. */
export function kvSubject(bucket: string, key: string): string {
  return `$KV.${bucket}.${key}`;
}

export function appKey(cluster: string, app: string): string {
  return `${checkToken(cluster, 'cluster')}.${checkToken(app, 'App')}`;
}

export function welcomeKey(cluster: string): string {
  return `${checkToken(cluster, 'cluster')}.${WELCOME_TOKEN}`;
}

export function chunkKey(cluster: string, app: string, generation: bigint, index: number): string {
  return `${appKey(cluster, app)}.${CHUNK_TOKEN}.${generation}.${index}`;
}

/** Every chunk key of one generation of an App, as a subject filter. */
export function chunkFilter(cluster: string, app: string, generation: bigint): string {
  return `${appKey(cluster, app)}.${CHUNK_TOKEN}.${generation}.>`;
}

/** Every key of one cluster, as a subject filter. */
export function clusterKeys(cluster: string): string {
  return `${checkToken(cluster, 'cluster')}.>`;
}

/** The subject an agent publishes on. */
export function reportsSubject(cluster: string): string {
  return `reports.${checkToken(cluster, 'cluster')}`;
}

/** The cluster a reports subject belongs to, or undefined when the subject is not `reports.<cluster>`. */
export function clusterOfReportsSubject(subject: string): string | undefined {
  const tokens = subject.split('.');
  return tokens.length === 2 && tokens[0] === 'reports' && KEY_TOKEN.test(tokens[1]!) ? tokens[1] : undefined;
}

/** True when `name` can be one token of a KV key. */
export function isKeyToken(name: string): boolean {
  return KEY_TOKEN.test(name);
}

/** Chunk size for a server that accepts messages of up to `maxPayload` bytes. */
export function chunkBytesFor(maxPayload: number): number {
  return Math.max(1024, Math.min(MAX_CHUNK_BYTES, maxPayload - HEADER_ROOM_BYTES));
}

/** Splits `bytes` into consecutive pieces of at most `chunkBytes` (one piece when it fits). */
export function splitValue(bytes: Uint8Array, chunkBytes: number): Uint8Array[] {
  if (bytes.length <= chunkBytes) return [bytes];
  const pieces: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += chunkBytes) pieces.push(bytes.subarray(offset, offset + chunkBytes));
  return pieces;
}

/** The App a DesiredApp or RemoveApp is about, and its generation; undefined for other messages. */
export function appOf(message: ConnectResponse): { appName: string; generation: bigint } | undefined {
  const inner = message.message;
  if (inner.case === 'desiredApp' || inner.case === 'removeApp') return { appName: inner.value.appName, generation: inner.value.generation };
  return undefined;
}

function checkToken(name: string, what: string): string {
  if (!KEY_TOKEN.test(name)) throw new Error(`The ${what} name "${name.slice(0, 80)}" cannot be used in a NATS KV key.`);
  return name;
}
