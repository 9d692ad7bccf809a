import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebConfig } from '../config/web-config';
import { dashboardContentSecurityPolicy } from './security-headers';

/**
 * The dashboard (the `web/` package, built to static files) at `/`, on the same origin as /graphql:
 * its files by their exact path, and index.html for any other path that looks like one of its pages
 * (client routes such as /fleet or /rollouts/12), so that a reload or a shared link opens the page.
 * Routes the hub already has (/graphql, /graphiql, /healthz, /metrics, /api/...) are more specific
 * and keep answering as before.
 *
 * The files are read once at start into memory (a few hundred KiB): a request can only name a file
 * that was listed then, so no path from a request ever reaches the file system.
 */

/** The routes of the dashboard; the authentication edge lets GET and HEAD on them pass (http-edge.ts). */
const DASHBOARD_ROUTES: ReadonlySet<string> = new Set(['/', '/*']);

/** Paths that belong to the API, never to the dashboard: unknown ones there are 404, not index.html. */
const API_PREFIXES = ['/api', '/graphql', '/graphiql', '/healthz', '/metrics'];

/** Bounds of what is read at start: a wrong FLOTILLA_WEB_DIR (say, `/`) stops early instead of reading a disk. */
const MAX_FILES = 2_000;
const MAX_TOTAL_BYTES = 64 * 1024 * 1024;
const MAX_DEPTH = 6;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

export interface WebFile {
  readonly body: Buffer;
  /** The body gzipped, when that is smaller (text files). */
  readonly gzipped?: Buffer;
  readonly contentType: string;
  readonly cacheControl: string;
}

/** The built web dir's files by URL path (`/index.html`, `/assets/index-abc.js`), as read at start. */
export type WebFiles = ReadonlyMap<string, WebFile>;

interface FastifyRoutes {
  route(options: { method: string[]; url: string; handler: (request: FastifyRequest, reply: FastifyReply) => Promise<void> }): void;
}

/** True for a GET or HEAD that matched a dashboard route (the matched route, not the raw path). */
export function isDashboardRequest(request: FastifyRequest): boolean {
  return (request.method === 'GET' || request.method === 'HEAD') && DASHBOARD_ROUTES.has(request.routeOptions.url ?? '') && !isApiPath(pathOf(request.url));
}

/**
 * Adds the dashboard's routes; call before the app listens. `signInOrigins`: see {@link dashboardContentSecurityPolicy}.
 * Returns the files it read (undefined when none), which the GraphiQL page is one of (graphiql-page.ts).
 */
export function installWebUi(app: NestFastifyApplication, config: WebConfig, signInOrigins: readonly string[] = []): WebFiles | undefined {
  const log = new Logger('WebUi');
  const files = readDashboard(config.dir, log);
  const index = files?.get('/index.html');
  if (!files || !index) {
    const how = config.explicit
      ? `FLOTILLA_WEB_DIR (${config.dir}) holds no built dashboard (index.html)`
      : 'the dashboard is not built';
    if (config.explicit) log.warn(`${how}: / answers with how to build it`);
    else log.log(`${how} (no ${join(config.dir, 'index.html')}): / answers with how to build it`);
  }
  const policy = dashboardContentSecurityPolicy(signInOrigins);
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyRoutes;

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const path = pathOf(request.url);
    // An API path no route took (GET /api/webhook, /graphql/x): answered as before the dashboard, by
    // the application's not-found handler, after authentication (isDashboardRequest leaves it out).
    if (isApiPath(path)) return reply.callNotFound();
    // GraphiQL's page of the build is served at /graphiql, under its own policy (graphiql-page.ts).
    if (path === '/graphiql.html') return reply.redirect('/graphiql', 301);
    // Set on the raw response, where helmet put the API's policy: this one replaces it.
    reply.raw.setHeader('content-security-policy', policy);
    const file = files?.get(path === '/' ? '/index.html' : path) ?? (isPagePath(path) ? index : undefined);
    if (!file) {
      if (!index && isPagePath(path)) {
        await reply
          .code(404)
          .type('text/plain; charset=utf-8')
          .header('cache-control', 'no-store')
          .send(
            'The Flotilla dashboard is not built. Run `npm run build -w web` (or `npm run build`) and restart the hub, ' +
              'or set FLOTILLA_WEB_DIR to the folder of a built dashboard. The API is at /graphql.\n',
          );
        return;
      }
      await reply.code(404).type('text/plain; charset=utf-8').send('Not found\n');
      return;
    }
    await sendWebFile(request, reply, file);
  };
  fastify.route({ method: ['GET'], url: '/', handler });
  fastify.route({ method: ['GET'], url: '/*', handler });
  return files;
}

/** Answers 200 with one of the files, gzipped when the client accepts it. */
export async function sendWebFile(request: FastifyRequest, reply: FastifyReply, file: WebFile): Promise<void> {
  const gzip = file.gzipped !== undefined && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
  void reply.header('content-type', file.contentType).header('cache-control', file.cacheControl).header('vary', 'accept-encoding');
  if (gzip) void reply.header('content-encoding', 'gzip');
  await reply.code(200).send(gzip ? file.gzipped : file.body);
}

/** A path under one of the API's prefixes (or one of them). */
function isApiPath(path: string): boolean {
  return API_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

/** A page of the dashboard rather than a file: no extension in its last segment. */
function isPagePath(path: string): boolean {
  const last = path.slice(path.lastIndexOf('/') + 1);
  return !last.includes('.');
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Every file under `dir` by its URL path (`/index.html`, `/assets/index-abc.js`); undefined when `dir` cannot be read. */
function readDashboard(dir: string, log: Logger): Map<string, WebFile> | undefined {
  const files = new Map<string, WebFile>();
  let total = 0;
  const walk = (folder: string, depth: number): void => {
    if (depth > MAX_DEPTH) throw new Error(`${folder} is nested more than ${MAX_DEPTH} levels deep`);
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(folder, entry.name);
      if (entry.isDirectory()) {
        walk(full, depth + 1);
        continue;
      }
      if (!entry.isFile()) continue;
      if (files.size >= MAX_FILES) throw new Error(`more than ${MAX_FILES} files`);
      total += statSync(full).size;
      if (total > MAX_TOTAL_BYTES) throw new Error(`more than ${MAX_TOTAL_BYTES / 1024 / 1024} MiB of files`);
      const urlPath = '/' + relative(dir, full).split(sep).join('/');
      files.set(urlPath, webFile(urlPath, readFileSync(full)));
    }
  };
  try {
    walk(dir, 0);
    return files;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') log.warn(`cannot read the dashboard in ${dir}: ${(error as Error).message}`);
    return undefined;
  }
}

function webFile(urlPath: string, body: Buffer): WebFile {
  const contentType = CONTENT_TYPES[extname(urlPath).toLowerCase()] ?? 'application/octet-stream';
  // Vite names built assets by their content hash: they never change under the same name.
  const cacheControl = urlPath.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
  const text = /^(text\/|application\/json|image\/svg)/.test(contentType);
  const gzipped = text ? gzipSync(body) : undefined;
  return { body, contentType, cacheControl, ...(gzipped && gzipped.length < body.length ? { gzipped } : {}) };
}
