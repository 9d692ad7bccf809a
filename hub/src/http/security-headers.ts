import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import type { FastifyHelmetOptions } from '@fastify/helmet';

/**
 * The security headers of every response (set by @fastify/helmet before any other hook can answer),
 * the dashboard's narrower policy (http/web-ui.ts), and the one exception: the GraphiQL page
 * Mercurius serves, whose scripts and stylesheet come from a CDN until it is bundled with the hub.
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
const DASHBOARD_DIRECTIVES = {
  ...API_DIRECTIVES,
  'default-src': ["'none'"],
  'manifest-src': ["'self'"],
  'worker-src': ["'none'"],
  'frame-src': ["'none'"],
  'form-action': ["'none'"],
};

/** The Content-Security-Policy of every response of the dashboard (its page, assets and client routes). */
export function dashboardContentSecurityPolicy(): string {
  return policyText(DASHBOARD_DIRECTIVES);
}

/** Where Mercurius' GraphiQL page loads React, GraphiQL and its stylesheet from (mercurius/static/main.js). */
const GRAPHIQL_CDN = 'https://unpkg.com';

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
function policyText(directives: Record<string, readonly string[]>): string {
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');
}

/**
 * The GraphiQL page's policy: its own scripts (`/graphiql/config.js`, `/graphiql/main.js`) and the CDN
 * scripts main.js adds, still no inline script; the page's one inline `<style>` by its hash; the
 * service worker it registers (served under /graphiql too, so this policy is also the worker's: it
 * pre-caches the CDN files with fetch); XHR and graphql-ws to the hub itself.
 */
export function graphiqlContentSecurityPolicy(): string {
  const styleHashes = graphiqlInlineStyleHashes();
  return policyText({
    ...API_DIRECTIVES,
    'script-src': ["'self'", GRAPHIQL_CDN],
    'style-src': ["'self'", GRAPHIQL_CDN, ...styleHashes],
    'font-src': ["'self'", 'data:', GRAPHIQL_CDN],
    'connect-src': ["'self'", GRAPHIQL_CDN],
    'worker-src': ["'self'"],
  });
}

/** `'sha256-…'` of each inline `<style>` of Mercurius' graphiql.html, read from the installed package so that an upgrade keeps matching. */
function graphiqlInlineStyleHashes(): string[] {
  try {
    const html = readFileSync(require.resolve('mercurius/static/graphiql.html'), 'utf8');
    return [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((match) => `'sha256-${createHash('sha256').update(match[1]!, 'utf8').digest('base64')}'`);
  } catch (error) {
    new Logger('SecurityHeaders').warn(`cannot read Mercurius' GraphiQL page to hash its inline style (the page will render unstyled): ${(error as Error).message}`);
    return [];
  }
}
