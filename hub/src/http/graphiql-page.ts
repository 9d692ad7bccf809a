import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebConfig } from '../config/web-config';
import { DASHBOARD_DIRECTIVES, policyText } from './security-headers';
import { sendWebFile, type WebFiles } from './web-ui';

/**
 * GraphiQL at /graphiql: a page of the built dashboard (the `web/` package's graphiql.html, with its
 * React, editor and workers bundled under /assets), so it works on a machine without internet. It
 * talks to /graphql and its WebSocket on the same origin; the token goes in its headers editor.
 */

/** The page's route; the authentication edge lets it pass without a credential (auth/http-edge.ts). */
export const GRAPHIQL_ROUTE = '/graphiql';

/** The built page among the dashboard's files. */
const GRAPHIQL_FILE = '/graphiql.html';

/**
 * The page's Content-Security-Policy: the dashboard's, with the three things GraphiQL and its editor
 * (Monaco) need and nothing more. Still no host but the hub, no inline script and no eval.
 * - `style-src 'unsafe-inline'`: Monaco and GraphiQL's dialogs write `<style>` elements and `style`
 *   attributes at run time (theme colours, decorations, layout); without it the editor has no layout.
 * - `worker-src 'self'`: Monaco's language workers, files of the build under /assets (never blob: URLs).
 * - `font-src data:`: GraphiQL's stylesheet embeds its fonts.
 * Nothing else differs from the dashboard's policy; this one is set on the page's response only.
 */
export function graphiqlContentSecurityPolicy(): string {
  return policyText({
    ...DASHBOARD_DIRECTIVES,
    'style-src': ["'self'", "'unsafe-inline'"],
    'font-src': ["'self'", 'data:'],
    'worker-src': ["'self'"],
  });
}

interface FastifyRoutes {
  route(options: { method: string[]; url: string; handler: (request: FastifyRequest, reply: FastifyReply) => Promise<void> }): void;
}

/**
 * Adds GET /graphiql; `files` are the built web dir's files as installWebUi read them (undefined when
 * there were none). Without the page, /graphiql answers with how to build it. Call before the app listens.
 */
export function installGraphiqlPage(app: NestFastifyApplication, config: WebConfig, files: WebFiles | undefined): void {
  const page = files?.get(GRAPHIQL_FILE);
  // A dir with a dashboard but no GraphiQL page is a build of an older version: worth saying (a dir
  // with neither is reported once, by installWebUi).
  if (files?.has('/index.html') && !page) new Logger('GraphiQL').warn(`${join(config.dir, 'graphiql.html')} is missing: ${GRAPHIQL_ROUTE} answers with how to build it`);
  const policy = graphiqlContentSecurityPolicy();
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyRoutes;
  fastify.route({
    method: ['GET'],
    url: GRAPHIQL_ROUTE,
    handler: async (request, reply) => {
      // Set on the raw response, where helmet put the API's policy: this one replaces it.
      reply.raw.setHeader('content-security-policy', policy);
      if (page) return sendWebFile(request, reply, page);
      await reply
        .code(404)
        .type('text/plain; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(
          'The Flotilla GraphiQL page is not built. Run `npm run build -w web` (or `npm run build`) and restart the hub, ' +
            'or set FLOTILLA_WEB_DIR to the folder of a built dashboard. The API is at /graphql.\n',
        );
    },
  });
}
