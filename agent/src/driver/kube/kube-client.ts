import * as http from 'node:http';
import * as https from 'node:https';
import type { Clock } from '../../clock.js';
import { isRecord, type KubeObject } from '../../core/kube/object-ref.js';
import { RateLimiter, type RateLimit } from './rate-limiter.js';

/**
 * A small JSON client of the Kubernetes API. Configuration and credentials come from client-node's
 * `KubeConfig` (see kube-config.ts); requests are plain HTTP so that manifests travel exactly as
 * written. (client-node's generic `KubernetesObjectApi` serialises through its typed models, which
 * silently drops unknown fields and renames others: a CRD's `x-kubernetes-preserve-unknown-fields`
 * and `$ref` disappear, a misspelt field vanishes instead of being refused. Its `Watch` has no way to
 * abort a request that hangs before the response headers.)
 *
 * Every request, watches included, first takes a token from one {@link RateLimiter}, so that the
 * number of requests per second stays bounded whatever the callers do.
 */

/** Content type of a server-side apply. JSON is YAML, so the body is JSON. */
export const APPLY_PATCH = 'application/apply-patch+yaml';
/** Content type of a JSON merge patch. */
export const MERGE_PATCH = 'application/merge-patch+json';

/** A failed request. `status` 0: no HTTP answer (refused, reset, timed out). */
export class KubeApiError extends Error {
  readonly status: number;
  /** The Status `reason` (`Conflict`, `NotFound`, `Expired`...), or '' when none was sent. */
  readonly reason: string;
  /** The parsed response body (usually a `Status`), undefined when there was none. */
  readonly body: unknown;
  /** The server's Retry-After, in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(status: number, message: string, options: { reason?: string; body?: unknown; retryAfterMs?: number | undefined } = {}) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = options.reason ?? '';
    this.body = options.body;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** Worth trying again later without any change: no answer, throttled, or a server-side failure. */
  get isTransient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** One watch event as the API server sends it. */
export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: KubeObject;
}

/** How to reach and authenticate to the API server. */
export interface KubeEndpoint {
  /** Base URL, e.g. `https://10.0.0.1:443`. */
  readonly server: string;
  /** Headers (credentials) and the connection agent of the next request; called per request so tokens can refresh. */
  authorize(): Promise<{ readonly headers: Readonly<Record<string, string>>; readonly agent: http.Agent | undefined }>;
}

/** Settings of {@link KubeClient}. */
export interface KubeClientOptions {
  readonly endpoint: KubeEndpoint;
  readonly clock: Clock;
  readonly rateLimit: RateLimit;
  /** Timeout of a request that is not a watch (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Largest response body accepted (default 64 MiB). */
  readonly maxResponseBytes?: number;
}

/** Options of one request. */
export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly timeoutMs?: number;
}

/** Default rate limit: generous for one agent, and a hard ceiling when the API server is down. */
export const DEFAULT_RATE_LIMIT: RateLimit = { qps: 20, burst: 40 };

const MAX_WATCH_LINE_BYTES = 16 * 1024 * 1024;

/** The Kubernetes API as JSON over HTTP, rate limited. */
export class KubeClient {
  readonly #endpoint: KubeEndpoint;
  readonly #limiter: RateLimiter;
  readonly #requestTimeoutMs: number;
  readonly #maxResponseBytes: number;
  readonly #closing = new AbortController();

  constructor(options: KubeClientOptions) {
    this.#endpoint = options.endpoint;
    this.#limiter = new RateLimiter(options.rateLimit, options.clock);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
  }

  /** The server URL (for messages). */
  get server(): string {
    return this.#endpoint.server;
  }

  /** True once {@link close} was called. */
  get isClosed(): boolean {
    return this.#closing.signal.aborted;
  }

  /** Sends a request and parses the JSON answer; throws {@link KubeApiError} on any failure. */
  async request<T = KubeObject>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    await this.#acquire();
    const signal = AbortSignal.any([this.#closing.signal, AbortSignal.timeout(options.timeoutMs ?? this.#requestTimeoutMs)]);
    const response = await this.#send(method, path, options, signal);
    const text = await readBody(response, this.#maxResponseBytes, signal);
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) throw errorOf(status, text, response.headers['retry-after'], method, path);
    try {
      return (text === '' ? {} : JSON.parse(text)) as T;
    } catch {
      throw new KubeApiError(0, `${method} ${path}: the API server answered ${status} with a body that is not JSON`);
    }
  }

  /**
   * Watches `path` (with `watch=true` and `query`), calling `onEvent` for each event line. Resolves when
   * the server ends the stream or `signal` aborts it; rejects with {@link KubeApiError} when the
   * request fails or the connection breaks.
   */
  async watch(path: string, query: RequestOptions['query'], onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    await this.#acquire();
    const combined = AbortSignal.any([this.#closing.signal, signal]);
    const response = await this.#send('GET', path, { query: { ...query, watch: true } }, combined);
    const status = response.statusCode ?? 0;
    if (status !== 200) {
      const text = await readBody(response, this.#maxResponseBytes, combined);
      throw errorOf(status, text, response.headers['retry-after'], 'WATCH', path);
    }
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      const finish = (error?: unknown): void => {
        combined.removeEventListener('abort', onAbort);
        response.removeAllListeners('data');
        if (error === undefined) resolve();
        else reject(error instanceof KubeApiError ? error : new KubeApiError(0, `WATCH ${path}: ${messageOf(error)}`));
      };
      const onAbort = (): void => {
        response.destroy();
        finish();
      };
      combined.addEventListener('abort', onAbort, { once: true });
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffered += chunk;
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line !== '') {
            const event = parseEvent(line);
            if (event !== undefined) onEvent(event);
          }
          newline = buffered.indexOf('\n');
        }
        if (buffered.length > MAX_WATCH_LINE_BYTES) {
          response.destroy();
          finish(new KubeApiError(0, `WATCH ${path}: an event is larger than ${MAX_WATCH_LINE_BYTES} bytes`));
        }
      });
      response.on('end', () => {
        const line = buffered.trim();
        if (line !== '') {
          const event = parseEvent(line);
          if (event !== undefined) onEvent(event);
        }
        finish();
      });
      response.on('error', (error) => (combined.aborted ? finish() : finish(error)));
      response.on('close', () => (combined.aborted ? finish() : finish()));
      if (combined.aborted) onAbort();
    });
  }

  /** Aborts every request and watch, and refuses new ones. */
  close(): void {
    this.#closing.abort();
    this.#limiter.close();
  }

  async #acquire(): Promise<void> {
    try {
      await this.#limiter.acquire();
    } catch (error) {
      throw new KubeApiError(0, messageOf(error));
    }
  }

  async #send(method: string, path: string, options: RequestOptions, signal: AbortSignal): Promise<http.IncomingMessage> {
    if (signal.aborted) throw new KubeApiError(0, `${method} ${path}: ${this.isClosed ? 'Kubernetes client is closed' : 'aborted'}`);
    const url = new URL(this.#endpoint.server.replace(/\/+$/, '') + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    let authorization: Awaited<ReturnType<KubeEndpoint['authorize']>>;
    try {
      authorization = await this.#endpoint.authorize();
    } catch (error) {
      throw new KubeApiError(0, `cannot authenticate to the Kubernetes API: ${messageOf(error)}`);
    }
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { ...authorization.headers, accept: 'application/json' };
    if (body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const send = url.protocol === 'https:' ? https.request : http.request;
    return new Promise<http.IncomingMessage>((resolve, reject) => {
      const request = send(url, { method, headers, agent: authorization.agent, signal });
      request.on('response', resolve);
      request.on('error', (error) => {
        const reason = signal.aborted ? (this.isClosed ? 'Kubernetes client is closed' : 'timed out or aborted') : messageOf(error);
        reject(new KubeApiError(0, `${method} ${url.pathname}: ${reason}`));
      });
      request.end(body);
    });
  }
}

function readBody(response: http.IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        response.destroy();
        reject(new KubeApiError(0, `response larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', (error) => reject(new KubeApiError(0, signal.aborted ? 'timed out or aborted' : messageOf(error))));
    response.on('aborted', () => reject(new KubeApiError(0, 'connection closed before the response ended')));
  });
}

function errorOf(status: number, text: string, retryAfter: string | string[] | undefined, method: string, path: string): KubeApiError {
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const reason = isRecord(body) && typeof body['reason'] === 'string' ? body['reason'] : '';
  const detail = isRecord(body) && typeof body['message'] === 'string' ? body['message'] : text.slice(0, 200) || http.STATUS_CODES[status] || 'no message';
  const seconds = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
  return new KubeApiError(status, `${method} ${path}: ${status} ${reason !== '' ? `${reason}: ` : ''}${detail}`, {
    reason,
    body,
    retryAfterMs: Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 600) * 1000 : undefined,
  });
}

function parseEvent(line: string): WatchEvent | undefined {
  try {
    const parsed: unknown = JSON.parse(line);
    if (!isRecord(parsed) || typeof parsed['type'] !== 'string' || !isRecord(parsed['object'])) return undefined;
    return { type: parsed['type'] as WatchEvent['type'], object: parsed['object'] };
  } catch {
    // A torn line is dropped; the watch's resourceVersion bookkeeping makes a later re-list catch up.
    return undefined;
  }
}

/** The message of an unknown thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
