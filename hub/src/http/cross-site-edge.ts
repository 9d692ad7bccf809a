import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CrossSiteConfig } from '../config/cross-site-config';
import { GRAPHQL_ROUTE, refuseCrossSite, refuseGetOperation, type EdgeRefusal } from '../core/http/cross-site';
import { parseOrigin, serializeOrigin } from '../core/http/origins';
import { HELMET_OPTIONS } from './security-headers';

type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

interface FastifyEdge {
  addHook(name: 'onRequest' | 'preValidation', hook: Hook): void;
  register(plugin: unknown, options: unknown): PromiseLike<unknown>;
}

/**
 * Installs the cross-site defences of the HTTP edge, before authentication (auth/http-edge.ts) and
 * before any body is read:
 * - security headers on every response (@fastify/helmet, registered first so that even a refusal
 *   below carries them; the dashboard and the GraphiQL page replace the policy with their own);
 * - on every request, WebSocket upgrades included, the `Host` and `Origin` checks, and on POST
 *   /graphql the media type ({@link refuseCrossSite});
 * - CORS answers (preflights included) for the origins in FLOTILLA_ALLOWED_ORIGINS only, after the
 *   checks above;
 * - after authentication, a GET or HEAD of /graphql that would run a mutation or subscription is
 *   refused ({@link refuseGetOperation}; Mercurius' own check covers GET but not HEAD).
 * Refusals are answered as GraphQL errors with `extensions.code`, as the authentication edge answers.
 */
export async function installCrossSiteProtection(app: NestFastifyApplication, config: CrossSiteConfig): Promise<void> {
  // The adapter's own fastify typings differ from the root package's; only the hook API is used.
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyEdge;
  // Awaited: helmet's onRequest hooks must run before the refusing hook added below.
  await fastify.register(fastifyHelmet, HELMET_OPTIONS);

  fastify.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    const refusal = refuseCrossSite(
      { method: request.method, route, host: request.headers.host, origin: headerOf(request, 'origin'), contentType: headerOf(request, 'content-type') },
      config,
    );
    if (refusal) return refuse(reply, refusal);
    if (route === GRAPHQL_ROUTE && request.method === 'POST') {
      // application/graphql-response+json is read by the same JSON parser (and limits) as application/json.
      const contentType = headerOf(request, 'content-type') ?? '';
      if (/^\s*application\/graphql-response\+json/i.test(contentType)) {
        request.headers = { 'content-type': contentType.replace(/^\s*application\/graphql-response\+json/i, 'application/json') };
      }
    }
  });

  const allowedOrigins = new Set(config.allowedOrigins);
  await fastify.register(fastifyCors, {
    hook: 'onRequest',
    origin: (origin: string | undefined, callback: (error: Error | null, allow: boolean) => void) => {
      const parsed = origin === undefined ? undefined : parseOrigin(origin);
      callback(null, parsed !== undefined && allowedOrigins.has(serializeOrigin(parsed)));
    },
    methods: ['GET', 'POST'],
    allowedHeaders: ['authorization', 'content-type'],
    maxAge: 600,
  });

  fastify.addHook('preValidation', async (request, reply) => {
    if (request.routeOptions.url !== GRAPHQL_ROUTE || !['GET', 'HEAD'].includes(request.method) || isWebSocketUpgrade(request)) return;
    const query = (request.query ?? {}) as Record<string, unknown>;
    const refusal = refuseGetOperation(query['query'], query['operationName']);
    if (refusal) return refuse(reply, refusal);
  });
}

async function refuse(reply: FastifyReply, refusal: EdgeRefusal): Promise<void> {
  if (refusal.status === 405) void reply.header('allow', 'POST');
  await reply
    .code(refusal.status)
    .type('application/json')
    .send({ data: null, errors: [{ message: refusal.message, extensions: { code: refusal.code } }] });
}

/** A header's value; repeated headers Node did not merge are refused by joining them (no single origin parses). */
function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** A connection that Node really upgraded (@fastify/websocket marks it). */
function isWebSocketUpgrade(request: FastifyRequest): boolean {
  return (request as { ws?: unknown }).ws === true;
}
