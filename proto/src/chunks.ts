import { create } from '@bufbuild/protobuf';
import {
  ConnectResponseSchema,
  DesiredAppSchema,
  type ConnectResponse,
  type DesiredApp,
  type DesiredAppHeader,
  type ManifestChunk,
} from '../gen/flotilla/agent/v1/agent_pb.js';
import { LIMITS } from './limits.js';

/**
 * Chunked delivery of big DesiredApps over the gRPC stream. A DesiredApp whose manifests exceed
 * `chunkBytes` is sent as a DesiredAppHeader (the DesiredApp without its manifests) followed by
 * ManifestChunks holding consecutive pieces of the manifests' UTF-8 bytes; smaller ones stay one
 * DesiredApp, as before. The receiver joins the pieces with {@link ManifestReassembler} and verifies
 * the result by its revision like any DesiredApp.
 */

/**
 * The messages that carry `message` on a stream: `message` itself unless it is a DesiredApp whose
 * manifests exceed `chunkBytes`, then its header and chunks, in the order they must be sent.
 */
export function deliveryMessages(message: ConnectResponse, chunkBytes: number = LIMITS.manifestChunkBytes): ConnectResponse[] {
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`chunkBytes must be a positive integer (got ${chunkBytes}).`);
  const inner = message.message;
  if (inner.case !== 'desiredApp') return [message];
  const app = inner.value;
  // Quick exit without encoding: a UTF-8 string never takes more than 3 bytes per UTF-16 unit.
  if (app.manifestsJson.length * 3 <= chunkBytes) return [message];
  const bytes = Buffer.from(app.manifestsJson, 'utf8');
  if (bytes.length <= chunkBytes) return [message];
  const chunkCount = Math.ceil(bytes.length / chunkBytes);
  const messages: ConnectResponse[] = [
    create(ConnectResponseSchema, {
      message: {
        case: 'desiredAppHeader',
        value: { app: { ...app, manifestsJson: '' }, chunkCount, manifestsBytes: BigInt(bytes.length) },
      },
    }),
  ];
  for (let index = 0; index < chunkCount; index++) {
    messages.push(
      create(ConnectResponseSchema, {
        message: {
          case: 'manifestChunk',
          value: { appName: app.appName, generation: app.generation, index, data: bytes.subarray(index * chunkBytes, (index + 1) * chunkBytes) },
        },
      }),
    );
  }
  return messages;
}

/** Caps of a {@link ManifestReassembler}. */
export interface ReassemblyLimits {
  /** Largest joined manifests accepted, in bytes (the buffer of the one App in flight never exceeds it). */
  readonly maxManifestBytes: number;
  /** Most chunks one App may announce. */
  readonly maxChunks: number;
  /** An App whose chunks have not all arrived this long after its header is dropped. */
  readonly timeoutMs: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = {
  maxManifestBytes: LIMITS.maxAppManifestBytes,
  maxChunks: 4096,
  timeoutMs: 120_000,
};

/** What a header or chunk did. */
export type ReassemblyEvent =
  /** Every chunk arrived: the complete DesiredApp (still to be verified by its revision). */
  | { readonly kind: 'complete'; readonly app: DesiredApp }
  /** More chunks are expected. `abandoned` names an App whose incomplete set this header replaced. */
  | { readonly kind: 'pending'; readonly abandoned?: string }
  /** The header or chunk was refused, or ended the App in flight; nothing of that App is kept. */
  | { readonly kind: 'dropped'; readonly appName: string; readonly reason: string };

interface InFlight {
  readonly header: DesiredAppHeader & { readonly app: DesiredApp };
  readonly startedAtMs: number;
  readonly pieces: Uint8Array[];
  received: number;
}

/**
 * Joins the chunks of big DesiredApps received on one ordered stream. At most one App is in flight
 * (the hub sends a header and its chunks back to back), so memory is bounded by
 * `limits.maxManifestBytes`; a new header abandons an incomplete App, and {@link expire} drops one
 * whose chunks stopped coming. Pure: time comes in as an argument.
 */
export class ManifestReassembler {
  #inFlight: InFlight | undefined;

  constructor(private readonly limits: ReassemblyLimits = DEFAULT_REASSEMBLY_LIMITS) {}

  /** The App being joined and the bytes received so far, if any. */
  get inFlight(): { readonly appName: string; readonly generation: bigint; readonly receivedBytes: number } | undefined {
    const current = this.#inFlight;
    return current && { appName: current.header.app.appName, generation: current.header.app.generation, receivedBytes: current.received };
  }

  /** Starts joining the App a header announces. */
  header(header: DesiredAppHeader, nowMs: number): ReassemblyEvent {
    const abandoned = this.#inFlight?.header.app.appName;
    this.#inFlight = undefined;
    const app = header.app;
    const appName = app?.appName ?? '';
    if (app === undefined) return { kind: 'dropped', appName, reason: 'the chunk header carries no App' };
    if (app.manifestsJson !== '') return { kind: 'dropped', appName, reason: 'the chunk header carries manifests itself' };
    if (header.manifestsBytes > BigInt(this.limits.maxManifestBytes)) {
      return { kind: 'dropped', appName, reason: `the manifests are ${header.manifestsBytes} bytes, over the ${this.limits.maxManifestBytes}-byte cap` };
    }
    const size = Number(header.manifestsBytes);
    if (header.chunkCount < 1 || header.chunkCount > this.limits.maxChunks || header.chunkCount > Math.max(1, size)) {
      return { kind: 'dropped', appName, reason: `the header announces ${header.chunkCount} chunks for ${size} bytes` };
    }
    this.#inFlight = { header: { ...header, app }, startedAtMs: nowMs, pieces: [], received: 0 };
    return abandoned === undefined ? { kind: 'pending' } : { kind: 'pending', abandoned };
  }

  /** Adds the next chunk of the App in flight. */
  chunk(chunk: ManifestChunk, nowMs: number): ReassemblyEvent {
    const expired = this.expire(nowMs);
    if (expired) return expired;
    const current = this.#inFlight;
    if (current === undefined) return { kind: 'dropped', appName: chunk.appName, reason: 'a chunk arrived without its header' };
    const { app, chunkCount, manifestsBytes } = current.header;
    const drop = (reason: string): ReassemblyEvent => {
      this.#inFlight = undefined;
      return { kind: 'dropped', appName: app.appName, reason };
    };
    if (chunk.appName !== app.appName || chunk.generation !== app.generation) {
      return drop(`a chunk of App ${chunk.appName.slice(0, 63)} generation ${chunk.generation} arrived while joining generation ${app.generation}`);
    }
    if (chunk.index !== current.pieces.length) return drop(`chunk ${chunk.index} arrived where chunk ${current.pieces.length} was expected`);
    if (BigInt(current.received + chunk.data.length) > manifestsBytes) return drop(`the chunks exceed the announced ${manifestsBytes} bytes`);
    current.pieces.push(chunk.data);
    current.received += chunk.data.length;
    if (current.pieces.length < chunkCount) return { kind: 'pending' };
    this.#inFlight = undefined;
    if (BigInt(current.received) !== manifestsBytes) return { kind: 'dropped', appName: app.appName, reason: `the chunks hold ${current.received} bytes, not the announced ${manifestsBytes}` };
    const manifestsJson = Buffer.concat(current.pieces, current.received).toString('utf8');
    return { kind: 'complete', app: create(DesiredAppSchema, { ...app, manifestsJson }) };
  }

  /** Drops the App in flight when its chunks stopped coming for longer than the timeout. */
  expire(nowMs: number): ReassemblyEvent | undefined {
    const current = this.#inFlight;
    if (current === undefined || nowMs - current.startedAtMs <= this.limits.timeoutMs) return undefined;
    this.#inFlight = undefined;
    return { kind: 'dropped', appName: current.header.app.appName, reason: `its chunks did not all arrive within ${this.limits.timeoutMs} ms` };
  }

  /** Forgets the App in flight (the stream ended). */
  reset(): void {
    this.#inFlight = undefined;
  }
}
