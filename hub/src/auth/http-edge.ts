import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Clock } from '../clock';
import type { Principal } from '../core/auth/principal';
import { GIT_WEBHOOK_ROUTE } from '../core/gitops/read-webhook-delivery';
import { FlotillaError } from '../errors';
import { GRAPHIQL_ROUTE } from '../http/graphiql-page';
import { isDashboardRequest } from '../http/web-ui';
import { Authenticator } from './authenticator';
import { AUTH_CONFIG_ROUTE } from './dashboard-sign-in';
import type { RequestContext } from './request-context';

interface FastifyHooks {
  decorateRequest(name: string, value: unknown): void;
  addHook(name: 'preParsing', hook: (request: FastifyRequest, reply: FastifyReply) => Promise<void>): void;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** What answers without a credential: probes, metrics, and the GraphiQL page (its queries need a token); the dashboard's files too (isDashboardRequest). */
const OPEN_PATHS = ['/healthz', '/metrics', GRAPHIQL_ROUTE];

/**
 * Authenticates every HTTP request (but /healthz, /metrics, the GraphiQL page, the dashboard's sign-in settings and the Git webhook, which checks signatures) before GraphQL parses it: anonymous or bad credentials
 * are answered 401 UNAUTHENTICATED (403 PERMISSION_DENIED for a valid identity with no role), so no
 * resolver ever runs for them. WebSocket upgrades pass: graphql-ws carries the token in
 * `connection_init`, checked by {@link websocketConnect}.
 */
export function installHttpAuthentication(app: NestFastifyApplication): void {
  const authenticator = app.get(Authenticator);
  const clock = app.get(Clock);
  // The adapter's own fastify typings differ from the root package's; only the hook API is used.
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyHooks;
  fastify.decorateRequest('principal', undefined);
  // preParsing runs after every onRequest hook, so that @fastify/websocket has marked real upgrades
  // (`request.ws`), and before the body is read.
  fastify.addHook('preParsing', async (request: FastifyRequest, reply: FastifyReply) => {
    if (isOpen(pathOf(request.url)) || isDashboardRequest(request) || isWebSocketUpgrade(request) || isGitWebhook(request) || isAuthConfig(request)) return;
    try {
      request.principal = await authenticator.authenticate(request.headers.authorization, clock.now());
    } catch (error) {
      if (!(error instanceof FlotillaError)) throw error;
      const status = error.code === 'PERMISSION_DENIED' ? 403 : 401;
      if (status === 401) void reply.header('www-authenticate', 'Bearer');
      await reply.code(status).type('application/json').send({ data: null, errors: [{ message: error.message, extensions: { code: error.code } }] });
    }
  });
}

/** The GraphQL context of an HTTP request. */
export function httpContext(request: FastifyRequest): RequestContext {
  return { principal: request.principal, remoteAddress: request.ip ?? '', transport: 'http' };
}

/**
 * graphql-ws `connection_init`: the payload's `authorization` (or `Authorization`) is a bearer token as
 * on HTTP. Refused connections get the protocol's error and are closed; accepted ones carry the
 * principal in their context.
 */
export function websocketConnect(app: () => NestFastifyApplication) {
  return async ({ payload, socket }: { payload?: Record<string, unknown>; socket?: unknown }): Promise<RequestContext | false> => {
    const authorization = payload?.['authorization'] ?? payload?.['Authorization'];
    try {
      const principal = await app().get(Authenticator).authenticate(authorization, app().get(Clock).now());
      return { principal, remoteAddress: remoteOf(socket), transport: 'websocket' };
    } catch (error) {
      if (error instanceof FlotillaError) return false;
      throw error;
    }
  };
}

function remoteOf(socket: unknown): string {
  const address = (socket as { _socket?: { remoteAddress?: string } } | undefined)?._socket?.remoteAddress;
  return typeof address === 'string' ? address : '';
}

/**
 * A POST matched to the Git webhook route: Git hosts send no bearer token, so the webhook checks each
 * provider's signature instead (git-sources/git-webhook.controller.ts). The matched route, not the raw
 * path, so that no other route can be reached through an encoded or altered path; a hub without the
 * webhook module has no such route, and the request is authenticated as any other.
 */
function isGitWebhook(request: FastifyRequest): boolean {
  return request.method === 'POST' && request.routeOptions.url === GIT_WEBHOOK_ROUTE;
}

/** GET (or HEAD) /api/auth/config: how the dashboard signs in, asked before it has a token; nothing secret. */
function isAuthConfig(request: FastifyRequest): boolean {
  return (request.method === 'GET' || request.method === 'HEAD') && request.routeOptions.url === AUTH_CONFIG_ROUTE;
}

function isOpen(path: string): boolean {
  return OPEN_PATHS.includes(path);
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** A connection that Node really upgraded (a forged `Upgrade` header on a plain request is not one). */
function isWebSocketUpgrade(request: FastifyRequest): boolean {
  return (request as { ws?: unknown }).ws === true;
}
