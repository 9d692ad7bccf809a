import type { ServerResponse } from 'node:http';
import type { ObjectApi } from './objects.js';
import { apiVersionOf, storageKeyOf, type ResourceType } from './resource-types.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { badRequest, expired, statusOf } from './status.js';
import type { ObjectStore, StoreEvent } from './store.js';
import type { KubeObject } from './types.js';

/**
 * Watch streams: newline-delimited `{type, object}` events over a chunked 200 response.
 * - `resourceVersion` unset or "0": ADDED for every current object, then changes.
 * - `resourceVersion` N: the changes after N from history, then live ones; N older than history is a
 *   single ERROR event (410 Expired) and the end of the stream, as kube-apiserver does.
 * - With label or field selectors, an object that starts matching arrives as ADDED and one that stops
 *   matching as DELETED.
 * - `allowWatchBookmarks=true`: a BOOKMARK with the latest resourceVersion every bookmark interval.
 * - `timeoutSeconds`: the server ends the stream cleanly after that long.
 */

export interface WatchRequest {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  readonly query: URLSearchParams;
}

/** A stream that buffers more than this without the client reading is cut off. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export class WatchHub {
  private readonly open = new Set<ServerResponse>();

  constructor(
    private readonly api: ObjectApi,
    private readonly store: ObjectStore,
    private readonly bookmarkIntervalMs: number,
  ) {}

  /** Validates the request; throws a 400 ApiError before anything is sent. Returns the function that starts streaming. */
  prepare(request: WatchRequest): (response: ServerResponse, onStart: () => void) => void {
    const { type, namespace, query } = request;
    const matchesLabels = parseLabelSelector(query.get('labelSelector') ?? undefined);
    const matchesFields = parseFieldSelector(query.get('fieldSelector') ?? undefined, type.kind);
    const matches = (object: KubeObject | undefined): boolean =>
      object !== undefined && (!type.namespaced || namespace === undefined || object.metadata.namespace === namespace) && matchesLabels(object) && matchesFields(object);
    const resourceVersion = query.get('resourceVersion') ?? '';
    if (resourceVersion !== '' && !/^\d+$/.test(resourceVersion)) throw badRequest(`invalid resource version: ${resourceVersion}`);
    const timeoutText = query.get('timeoutSeconds');
    const timeoutSeconds = timeoutText === null || timeoutText === '' ? undefined : Number(timeoutText);
    if (timeoutSeconds !== undefined && !(Number.isFinite(timeoutSeconds) && timeoutSeconds >= 0)) throw badRequest(`invalid timeoutSeconds: ${timeoutText}`);
    const bookmarks = query.get('allowWatchBookmarks') === 'true';
    const initialEvents = query.get('sendInitialEvents') === 'true';
    const storageKey = storageKeyOf(type);

    return (response, onStart) => {
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
      onStart();
      response.flushHeaders();
      const send = (eventType: string, object: unknown): void => {
        if (response.writableEnded || response.destroyed) return;
        response.write(`${JSON.stringify({ type: eventType, object })}\n`);
        if (response.writableLength > MAX_BUFFERED_BYTES) response.destroy();
      };
      const bookmark = (annotations?: Record<string, string>): void =>
        send('BOOKMARK', { kind: type.kind, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(this.store.resourceVersion), ...(annotations === undefined ? {} : { annotations }) } });
      const deliver = (event: StoreEvent): void => {
        if (event.storageKey !== storageKey) return;
        const now = matches(event.object);
        const before = event.previous === undefined ? now : matches(event.previous);
        const object = this.api.present(type, event.object);
        if (event.type === 'MODIFIED') {
          if (now && before) send('MODIFIED', object);
          else if (now) send('ADDED', object);
          else if (before) send('DELETED', object);
        } else if (now) {
          send(event.type, object);
        }
      };

      let replay: StoreEvent[] | undefined = [];
      if (resourceVersion === '' || resourceVersion === '0') {
        for (const object of this.store.list(storageKey, type.namespaced ? namespace : undefined)) if (matches(object)) send('ADDED', this.api.present(type, object));
        if (initialEvents && bookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
      } else {
        replay = this.store.eventsAfter(Number(resourceVersion));
      }
      if (replay === undefined) {
        const oldest = this.store.oldestResumableVersion;
        send('ERROR', statusOf(expired(`too old resource version: ${resourceVersion} (${oldest})`)));
        response.end();
        return;
      }
      for (const event of replay) deliver(event);

      const unsubscribe = this.store.subscribe(deliver);
      const timers: NodeJS.Timeout[] = [];
      if (bookmarks) timers.push(setInterval(() => bookmark(), this.bookmarkIntervalMs));
      if (timeoutSeconds !== undefined && timeoutSeconds > 0) timers.push(setTimeout(() => response.end(), timeoutSeconds * 1000));
      for (const timer of timers) timer.unref();
      const cleanup = (): void => {
        unsubscribe();
        for (const timer of timers) clearTimeout(timer);
        this.open.delete(response);
      };
      this.open.add(response);
      response.once('close', cleanup);
      response.once('finish', cleanup);
    };
  }

  /** Open watch streams. */
  get size(): number {
    return this.open.size;
  }

  /** Cuts every open stream abruptly (the client sees the connection reset, not a clean end). */
  dropAll(): void {
    for (const response of [...this.open]) {
      this.open.delete(response);
      response.socket?.destroy();
      response.destroy();
    }
  }
}
