import type { FastifyHelmetOptions } from '@fastify/helmet';

/**
 * The security headers of every response (set by @fastify/helmet before any other hook can answer),
 * and the dashboard's narrower policy (http/web-ui.ts), which the GraphiQL page's builds on
 * (http/graphiql-page.ts).
 */

/** The API's policy: nothing inline, nothing from elsewhere, never framed. */
const API_DIRECTIVES = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

/**
 * The dashboard's policy (http/web-ui.ts): the API's, narrowed. Its own scripts and stylesheets only
 * (none inline), XHR and graphql-ws to the hub itself ('self' covers ws: and wss: to the same host and
 * port), no frames, workers, plugins or form posts, and nothing by default.
 */
export const DASHBOARD_DIRECTIVES = {
  ...API_DIRECTIVES,
  'default-src': ["'none'"],
  'manifest-src': ["'self'"],
  'worker-src': ["'none'"],
  'frame-src': ["'none'"],
  'form-action': ["'none'"],
};

/**
 * The Content-Security-Policy of every response of the dashboard (its page, assets and client routes).
 * `signInOrigins`: where single sign-on makes the page fetch (the OIDC issuer's discovery document and
 * token endpoint), added to `connect-src`; none without a web client. The redirect to the issuer's
 * authorization endpoint is a top-level navigation, which no directive governs, so `form-action` stays 'none'.
 */
export function dashboardContentSecurityPolicy(signInOrigins: readonly string[] = []): string {
  return policyText({ ...DASHBOARD_DIRECTIVES, 'connect-src': [...DASHBOARD_DIRECTIVES['connect-src'], ...signInOrigins] });
}

export const HELMET_OPTIONS: FastifyHelmetOptions = {
  global: true,
  // Explicit directives only: helmet's defaults would add 'unsafe-inline' styles and
  // upgrade-insecure-requests (which breaks a plain-HTTP hub on a LAN address).
  contentSecurityPolicy: { useDefaults: false, directives: API_DIRECTIVES },
  xFrameOptions: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  crossOriginResourcePolicy: { policy: 'same-origin' },
  crossOriginOpenerPolicy: { policy: 'same-origin' },
  // The hub speaks plain HTTP behind whatever terminates TLS; HSTS is that proxy's decision.
  strictTransportSecurity: false,
};

/** Renders directives as a Content-Security-Policy value. */
export function policyText(directives: Record<string, readonly string[]>): string {
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');
}
