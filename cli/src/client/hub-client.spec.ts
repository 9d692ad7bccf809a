import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { hubEndpoints } from '../core/server-url.js';
import { MeDocument } from '../gen/graphql.js';
import { HubClient, type TokenSource } from './hub-client.js';

/** A real HTTP server on loopback answering every request with `answer`; records what it was sent. */
async function serve(answer: (request: IncomingMessage, response: ServerResponse, body: string) => void) {
  const seen: { headers: IncomingMessage['headers']; body: string }[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.push({ headers: request.headers, body });
      answer(request, response, body);
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}
const servers: ReturnType<typeof createServer>[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((closed) => s.close(closed))));
});

const TOKEN = 'flt_api_secret-value-that-must-not-show';
const tokens = (refreshed: string[] = []): TokenSource => {
  let token = TOKEN;
  return {
    token: async () => token,
    refresh: async () => {
      if (refreshed.length) return false;
      token = 'fresh';
      refreshed.push(token);
      return true;
    },
    loginHint: 'flotilla login --server http://hub',
  };
};
const json = (response: ServerResponse, status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const me = { actor: 'token:a', kind: 'token', name: 'a', admin: true, expiresAt: null, issuer: null, projects: [] };

describe('HubClient', () => {
  it('posts the operation as JSON with the bearer token, and returns the data', async () => {
    const hub = await serve((_q, r) => json(r, 200, { data: { me } }));
    const client = new HubClient(hubEndpoints(hub.url), tokens());
    expect(await client.request(MeDocument, {})).toEqual({ me });
    expect(hub.seen[0]!.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    expect(hub.seen[0]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(hub.seen[0]!.body)).toMatchObject({ query: expect.stringContaining('query Me'), variables: {} });
  });

  it('refreshes the token once after the hub refuses it, and retries', async () => {
    const hub = await serve((q, r) => (q.headers['authorization'] === 'Bearer fresh' ? json(r, 200, { data: { me } }) : json(r, 401, { errors: [{ message: 'no', extensions: { code: 'UNAUTHENTICATED' } }] })));
    const refreshed: string[] = [];
    expect(await new HubClient(hubEndpoints(hub.url), tokens(refreshed)).request(MeDocument, {})).toEqual({ me });
    expect(refreshed).toEqual(['fresh']);
  });

  it('says how to log in again when the token is refused, without repeating it', async () => {
    const hub = await serve((_q, r) => json(r, 401, { errors: [{ message: 'Invalid token', extensions: { code: 'UNAUTHENTICATED' } }] }));
    const failure = new HubClient(hubEndpoints(hub.url), tokens(['already'])).request(MeDocument, {});
    await expect(failure).rejects.toThrow('log in again with `flotilla login --server http://hub`');
    await expect(failure).rejects.not.toThrow(TOKEN);
  });

  it.each([
    { what: 'PERMISSION_DENIED', status: 200, code: 'PERMISSION_DENIED', message: 'needs ADMIN', want: 'permission denied: needs ADMIN' },
    { what: 'a rate limit', status: 429, code: 'RATE_LIMITED', message: 'slow down', want: 'retry in 3s' },
    { what: 'a refusal of the HTTP edge', status: 421, code: 'HOST_NOT_ALLOWED', message: 'add the name to FLOTILLA_ALLOWED_HOSTS', want: 'HOST_NOT_ALLOWED: add the name' },
  ])('names $what', async ({ status, code, message, want }) => {
    const hub = await serve((_q, r) => json(r, status, { data: null, errors: [{ message, extensions: { code, retryAfterMs: 2500 } }] }));
    await expect(new HubClient(hubEndpoints(hub.url), tokens()).request(MeDocument, {})).rejects.toThrow(want);
  });

  it('says when the server is not a Flotilla hub', async () => {
    const hub = await serve((_q, r) => r.writeHead(404, { 'content-type': 'text/html' }).end('<html>nope</html>'));
    await expect(new HubClient(hubEndpoints(hub.url), tokens()).request(MeDocument, {})).rejects.toThrow('answered HTTP 404 without a GraphQL answer');
  });

  it('says when nothing listens at the address', async () => {
    const hub = await serve((_q, r) => r.end());
    const url = hub.url;
    await new Promise((closed) => servers.pop()!.close(closed));
    await expect(new HubClient(hubEndpoints(url), tokens()).request(MeDocument, {})).rejects.toThrow(`cannot reach the hub at ${url}/graphql (ECONNREFUSED)`);
  });
});
