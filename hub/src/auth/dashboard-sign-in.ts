import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HubConfig } from '../config/hub-config';

/** The one unauthenticated API route a browser needs before it has a token: how to sign in. */
export const AUTH_CONFIG_ROUTE = '/api/auth/config';

/** What GET /api/auth/config answers: nothing secret, only what a public OIDC client needs. */
export interface DashboardAuthConfig {
  /** Null when the dashboard offers API tokens only. */
  readonly oidc: {
    /** FLOTILLA_OIDC_ISSUER. */
    readonly issuer: string;
    /** FLOTILLA_OIDC_WEB_CLIENT_ID. */
    readonly clientId: string;
    /** FLOTILLA_OIDC_WEB_SCOPES, space-separated as in an authorization request. */
    readonly scopes: string;
    /** FLOTILLA_OIDC_AUDIENCE: sent as the RFC 8707 `resource`, so the access token is for this hub. */
    readonly audience: string;
  } | null;
}

/** Reading the issuer's discovery document at start gives up after this long. */
const DISCOVERY_TIMEOUT_MS = 5_000;

/** The public sign-in settings of the dashboard, from the validated configuration. */
export function dashboardAuthConfig(config: Pick<HubConfig, 'auth' | 'oidcWeb'>): DashboardAuthConfig {
  const oidc = config.auth.oidc;
  const web = config.oidcWeb;
  if (!oidc || !web) return { oidc: null };
  return { oidc: { issuer: oidc.issuer, clientId: web.clientId, scopes: web.scopes.join(' '), audience: oidc.audience } };
}

/**
 * The origins the dashboard's page must reach to sign in: the issuer's (its discovery document) and
 * the token endpoint's when the discovery document names one elsewhere. Sorted, without duplicates.
 * A document that is missing, foreign (another `issuer`) or names no http(s) token endpoint adds nothing.
 */
export function signInOrigins(issuer: string, discovery: unknown): string[] {
  const origins = new Set([new URL(issuer).origin]);
  if (typeof discovery === 'object' && discovery !== null) {
    const document = discovery as Record<string, unknown>;
    const tokenEndpoint = document['token_endpoint'];
    if (document['issuer'] === issuer && typeof tokenEndpoint === 'string' && /^https?:\/\//.test(tokenEndpoint)) {
      try {
        origins.add(new URL(tokenEndpoint).origin);
      } catch {
        // Not a URL: the issuer's origin alone.
      }
    }
  }
  return [...origins].sort();
}

interface FastifyRoutes {
  route(options: { method: string[]; url: string; handler: (request: FastifyRequest, reply: FastifyReply) => Promise<void> }): void;
}

/**
 * Adds GET /api/auth/config (let through without a credential by auth/http-edge.ts) and resolves the
 * origins the dashboard's Content-Security-Policy must allow `connect-src` to (none without a web
 * client). The issuer's discovery document is read once, bounded by a timeout; when it cannot be read
 * the issuer's origin is used alone and a warning says what to expect.
 */
export async function installDashboardSignIn(app: NestFastifyApplication, config: Pick<HubConfig, 'auth' | 'oidcWeb'>): Promise<{ readonly connectOrigins: readonly string[] }> {
  const body = JSON.stringify(dashboardAuthConfig(config));
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyRoutes;
  fastify.route({
    method: ['GET'],
    url: AUTH_CONFIG_ROUTE,
    handler: async (_request, reply) => {
      await reply.code(200).type('application/json; charset=utf-8').header('cache-control', 'no-cache').send(body);
    },
  });
  const issuer = config.oidcWeb ? config.auth.oidc?.issuer : undefined;
  if (issuer === undefined) return { connectOrigins: [] };
  return { connectOrigins: signInOrigins(issuer, await readDiscovery(issuer)) };
}

async function readDiscovery(issuer: string): Promise<unknown> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS), redirect: 'manual', headers: { accept: 'application/json' } });
    if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
    return await response.json();
  } catch (error) {
    new Logger('DashboardSignIn').warn(
      `cannot read the discovery document of ${issuer} (${(error as Error).message}): the dashboard may reach ${new URL(issuer).origin} only; ` +
        'single sign-on fails if the token endpoint is elsewhere, until the hub restarts with the issuer reachable',
    );
    return undefined;
  }
}
