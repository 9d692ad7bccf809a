import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebhookDelivery } from '../core/gitops/read-webhook-delivery';

/**
 * What the webhook handler gets instead of a parsed body: the bytes as sent (or that they were too
 * many, or that too many other bodies were being read to read this one) and the media type they were
 * sent as.
 */
export type WebhookBody = (WebhookDelivery['body'] | { readonly kind: 'busy' }) & { readonly contentType: string | undefined };

/**
 * Webhook bodies read at once. A body is read before it can be verified, so this bounds what
 * unauthenticated senders can make the hub hold: this many times FLOTILLA_GIT_WEBHOOK_MAX_BODY_KB
 * (16 MiB by default). A delivery past it is answered 503 unread; reading one body takes
 * milliseconds, so Git hosts' own traffic stays far below it.
 */
export const MAX_CONCURRENT_WEBHOOK_BODIES = 16;

/** The route option (Nest `@RouteConfig`) that marks the routes whose body {@link installWebhookBodyReader} reads. */
export const RAW_WEBHOOK_BODY = { flotillaRawWebhookBody: true } as const;

type PayloadStream = NodeJS.ReadableStream & { pause(): unknown };

interface FastifyHooks {
  addHook(name: 'preParsing', hook: (request: FastifyRequest, reply: FastifyReply, payload: PayloadStream) => Promise<PayloadStream>): void;
}

const bodies = new WeakMap<object, WebhookBody>();

/**
 * Reads the body of the routes marked {@link RAW_WEBHOOK_BODY} before Fastify's parsers would: whole
 * and unchanged (a signature covers the exact bytes, which re-serialised JSON is not), at most
 * `maxBytes` of it (a longer body, announced or not, is not read further and the handler learns it
 * was too large), and whatever its media type (the handler checks it after the signature, so that a
 * refusal of an unsigned body is audited like any other). The other routes, GraphQL's among them,
 * keep their parsers and limits.
 */
export function installWebhookBodyReader(fastify: unknown, maxBytes: number, maxConcurrent = MAX_CONCURRENT_WEBHOOK_BODIES): void {
  let reading = 0;
  (fastify as FastifyHooks).addHook('preParsing', async (request, _reply, payload) => {
    const config = request.routeOptions.config as unknown as Record<string, unknown> | undefined;
    if (config?.['flotillaRawWebhookBody'] !== true) return payload;
    const contentType = typeof request.headers['content-type'] === 'string' ? request.headers['content-type'] : undefined;
    if (reading >= maxConcurrent) {
      bodies.set(request.raw, { kind: 'busy', contentType });
    } else {
      reading += 1;
      try {
        bodies.set(request.raw, { ...(await readBounded(payload, maxBytes, request.headers['content-length'])), contentType });
      } finally {
        reading -= 1;
      }
    }
    // The body is read (or left unread for good): what Fastify sees now is a request without one,
    // which goes to the handler unparsed. The handler reads the original headers from request.raw.
    request.headers = { 'content-type': undefined, 'content-length': '0', 'transfer-encoding': undefined };
    return payload;
  });
}

/** The body {@link installWebhookBodyReader} read for `request`; an empty one when it read none (a route without the marker). */
export function webhookBodyOf(request: FastifyRequest): WebhookBody {
  return bodies.get(request.raw) ?? { kind: 'bytes', bytes: new Uint8Array(0), contentType: undefined };
}

/**
 * The stream's bytes, or `tooLarge` as soon as they (or the announced Content-Length) pass `limit`.
 * A too-large body is left unread: the answer closes the connection. Rejects when the client goes away.
 */
function readBounded(stream: PayloadStream, limit: number, declared: string | undefined): Promise<WebhookDelivery['body']> {
  const tooLarge = { kind: 'tooLarge', limitBytes: limit } as const;
  if (declared !== undefined && Number(declared) > limit) return Promise.resolve(tooLarge);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
      stream.removeListener('aborted', onAborted);
    };
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += bytes.length;
      if (size > limit) {
        done();
        stream.pause();
        resolve(tooLarge);
        return;
      }
      chunks.push(bytes);
    };
    const onEnd = () => {
      done();
      resolve({ kind: 'bytes', bytes: Buffer.concat(chunks, size) });
    };
    const onError = (error: Error) => {
      done();
      reject(Object.assign(error, { statusCode: 400 }));
    };
    const onAborted = () => onError(new Error('the client closed the connection before the body was read'));
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('aborted', onAborted);
    stream.resume();
  });
}
