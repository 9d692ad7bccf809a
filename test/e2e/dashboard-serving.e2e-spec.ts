import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { startHub, type HubProcess } from '../harness/processes.js';

/** A built dashboard as Vite lays it out: index.html and hashed assets. */
function fakeDashboard(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-web-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Flotilla</title><script type="module" src="/assets/app-1a2b3c.js"></script>');
  writeFileSync(join(dir, 'assets', 'app-1a2b3c.js'), `console.log(${JSON.stringify('x'.repeat(4000))});`);
  writeFileSync(join(dir, 'assets', 'app-1a2b3c.css'), 'body { margin: 0 }');
  return dir;
}

describe('the hub serves the dashboard at / beside its API', () => {
  let db: TestDatabase;
  let hub: HubProcess;
  let origin: string;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${origin}${path}`, { headers });
  /** A GET with the path exactly as given (fetch would normalise dot segments away). */
  const raw = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(origin);
      const request = httpRequest({ host: url.hostname, port: url.port, path, method: 'GET' }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('error', reject);
      request.end();
    });

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startHub({ databaseUrl: db.url, env: { FLOTILLA_WEB_DIR: fakeDashboard() } });
    origin = new URL(hub.graphqlUrl).origin;
  });

  afterAll(async () => {
    await hub?.stop();
    await db?.drop();
  });

  it.each([
    ['/', 'text/html; charset=utf-8', 'no-cache'],
    ['/index.html', 'text/html; charset=utf-8', 'no-cache'],
    ['/assets/app-1a2b3c.js', 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable'],
    ['/assets/app-1a2b3c.css', 'text/css; charset=utf-8', 'public, max-age=31536000, immutable'],
  ])('serves %s without a token, typed and cached as it should be', async (path, type, cache) => {
    const response = await get(path);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(type);
    expect(response.headers.get('cache-control')).toBe(cache);
  });

  it.each(['/fleet', '/rollouts/0b0e5c1e-3f1d-4c59-a1b4-1c2d3e4f5a6b', '/app-sets/default/web', '/audit?kind=pauseRollout'])(
    'answers the client route %s with index.html, so that a reload or a shared link opens the page',
    async (path) => {
      const response = await get(path);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('<title>Flotilla</title>');
    },
  );

  it('gives every dashboard response a policy without inline script or style, and nothing from another host', async () => {
    const policy = (await get('/fleet')).headers.get('content-security-policy') ?? '';
    const directives = Object.fromEntries(policy.split(';').map((part) => part.trim().split(/\s+/)).map(([name, ...sources]) => [name, sources]));
    expect(directives['default-src']).toEqual(["'none'"]);
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['style-src']).toEqual(["'self'"]);
    expect(directives['connect-src']).toEqual(["'self'"]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(policy).not.toMatch(/unsafe|https?:/);
  });

  it('sends text assets gzipped to a client that accepts it', async () => {
    const response = await fetch(`${origin}/assets/app-1a2b3c.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(await response.text()).toContain('console.log');
  });

  it.each([
    ['a missing asset', '/assets/missing-000.js'],
    ['a file name that is no page', '/favicon.ico'],
    ['a path out of the folder to a file', '/assets/../../../etc/hostname.txt'],
  ])('answers %s with 404', async (_case, path) => {
    const response = await raw(path);
    expect(response.status).toBe(404);
  });

  it.each([
    ['a path out of the folder', '/assets/../../../etc/passwd'],
    ['an encoded path out of the folder', '/%2e%2e/%2e%2e/etc/passwd'],
  ])('answers %s (sent as is) with the page itself: only files listed at start are ever served', async (_case, path) => {
    const response = await raw(path);
    expect(response.status).toBe(200);
    expect(response.body).toContain('<title>Flotilla</title>');
    expect(response.body).not.toContain('root:');
  });

  it('leaves the API as it was: probes open, GraphQL and unknown API paths behind the token', async () => {
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/metrics')).status).toBe(200);
    const graphql = await get('/graphql?query=%7B__typename%7D');
    expect(graphql.status).toBe(401);
    expect((await graphql.json()) as unknown).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    expect((await get('/api/webhook')).status).toBe(401);
    expect((await get('/api/anything')).status).toBe(401);
    const known = await get('/api/anything', { authorization: `Bearer ${hub.adminToken}` });
    expect(known.status).toBe(404);
    expect(known.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await get('/graphql?query=%7B__typename%7D', { authorization: `Bearer ${hub.adminToken}` })).status).toBe(200);
  });
});

describe('a hub whose dashboard is not built', () => {
  let db: TestDatabase;
  let hub: HubProcess;

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startHub({ databaseUrl: db.url, env: { FLOTILLA_WEB_DIR: mkdtempSync(join(tmpdir(), 'flotilla-web-empty-')) } });
  });

  afterAll(async () => {
    await hub?.stop();
    await db?.drop();
  });

  it.each([
    { page: '/', what: 'the dashboard' },
    { page: '/graphiql', what: 'GraphiQL' },
  ])('answers $page with how to build $what, and keeps serving the API', async ({ page: path }) => {
    const origin = new URL(hub.graphqlUrl).origin;
    const page = await fetch(`${origin}${path}`);
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await page.text()).toContain('npm run build -w web');
    expect((await fetch(`${origin}/healthz`)).status).toBe(200);
    const api = await fetch(hub.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.adminToken}` }, body: JSON.stringify({ query: '{ me { actor } }' }) });
    expect(api.status).toBe(200);
    expect(hub.tail()).toContain('holds no built dashboard');
  });
});
