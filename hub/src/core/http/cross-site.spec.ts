import { describe, expect, it } from 'vitest';
import { refuseCrossSite, refuseGetOperation, type CrossSitePolicy, type EdgeRequest } from './cross-site';

const POLICY: CrossSitePolicy = {
  allowedHosts: [{ name: 'fleet.example.com', port: undefined }],
  allowedOrigins: ['https://dash.example.com', 'http://localhost:5173'],
};

/** A JSON POST to /graphql from a CLI on the hub's machine: what every row changes one thing of. */
const request = (changes: Partial<EdgeRequest> = {}): EdgeRequest => ({
  method: 'POST',
  route: '/graphql',
  host: '127.0.0.1:4000',
  origin: undefined,
  contentType: 'application/json',
  ...changes,
});

describe('refuseCrossSite', () => {
  it.each([
    { name: 'a JSON POST without Origin (curl, the CLI, the test harness)', changes: {} },
    { name: 'a JSON POST with a charset', changes: { contentType: 'application/json; charset=utf-8' } },
    { name: 'a JSON POST in upper case', changes: { contentType: 'Application/JSON' } },
    { name: 'an application/graphql-response+json POST', changes: { contentType: 'application/graphql-response+json' } },
    { name: 'a same-origin POST from the hub’s own page', changes: { origin: 'http://127.0.0.1:4000' } },
    { name: 'a same-origin POST behind a TLS ingress', changes: { host: 'fleet.example.com', origin: 'https://fleet.example.com' } },
    { name: 'a POST from an allow-listed origin', changes: { host: 'fleet.example.com', origin: 'https://dash.example.com' } },
    { name: 'a POST from an allow-listed origin written with its default port', changes: { host: 'fleet.example.com', origin: 'https://dash.example.com:443' } },
    { name: 'a GET of /graphql (its operation is checked after authentication)', changes: { method: 'GET', contentType: undefined } },
    { name: 'a WebSocket upgrade from the hub’s own page', changes: { method: 'GET', contentType: undefined, origin: 'http://127.0.0.1:4000' } },
    { name: 'a form-encoded POST to another route (there is no other POST route; GraphQL is what is guarded)', changes: { route: '/healthz', contentType: 'application/x-www-form-urlencoded' } },
    { name: 'a kubelet probe on the pod IP', changes: { method: 'GET', route: '/healthz', host: '10.244.0.12:4000', contentType: undefined } },
    { name: 'a request to localhost', changes: { host: 'localhost:4000' } },
  ])('lets through $name', ({ changes }) => {
    expect(refuseCrossSite(request(changes), POLICY)).toBeUndefined();
  });

  it.each([
    { name: 'a form-encoded POST', changes: { contentType: 'application/x-www-form-urlencoded' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
    { name: 'a text/plain POST', changes: { contentType: 'text/plain;charset=UTF-8' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
    { name: 'a multipart POST', changes: { contentType: 'multipart/form-data; boundary=x' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
    { name: 'a POST without Content-Type', changes: { contentType: undefined }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
    { name: 'an application/graphql POST', changes: { contentType: 'application/graphql' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
    { name: 'a media type that only starts like JSON', changes: { contentType: 'application/jsonp' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
    { name: 'a foreign Origin', changes: { origin: 'https://evil.example' }, status: 403, code: 'ORIGIN_NOT_ALLOWED' },
    { name: 'the opaque Origin null', changes: { origin: 'null' }, status: 403, code: 'ORIGIN_NOT_ALLOWED' },
    { name: 'an allow-listed origin over the other scheme', changes: { origin: 'http://dash.example.com' }, status: 403, code: 'ORIGIN_NOT_ALLOWED' },
    { name: 'an Origin on another port of the hub’s host', changes: { origin: 'http://127.0.0.1:5173' }, status: 403, code: 'ORIGIN_NOT_ALLOWED' },
    { name: 'an Origin header holding two origins', changes: { origin: 'http://127.0.0.1:4000, https://evil.example' }, status: 403, code: 'ORIGIN_NOT_ALLOWED' },
    { name: 'a cross-origin WebSocket upgrade', changes: { method: 'GET', contentType: undefined, origin: 'https://evil.example' }, status: 403, code: 'ORIGIN_NOT_ALLOWED' },
    { name: 'a foreign Origin on a route other than GraphQL', changes: { method: 'GET', route: '/metrics', contentType: undefined, origin: 'https://evil.example' }, status: 403, code: 'ORIGIN_NOT_ALLOWED' },
    { name: 'a foreign Host (DNS rebinding)', changes: { host: 'evil.example:4000', origin: 'http://evil.example:4000' }, status: 421, code: 'HOST_NOT_ALLOWED' },
    { name: 'a foreign Host on a route that does not exist', changes: { method: 'GET', route: undefined, host: 'evil.example' }, status: 421, code: 'HOST_NOT_ALLOWED' },
    { name: 'no Host at all', changes: { host: undefined }, status: 421, code: 'HOST_NOT_ALLOWED' },
    { name: 'a Host that does not parse', changes: { host: 'a b' }, status: 421, code: 'HOST_NOT_ALLOWED' },
  ])('refuses $name with $status $code', ({ changes, status, code }) => {
    expect(refuseCrossSite(request(changes), POLICY)).toMatchObject({ status, code });
  });

  it('checks Host first, then Origin, then the media type', () => {
    const all = request({ host: 'evil.example', origin: 'https://evil.example', contentType: 'text/plain' });
    expect(refuseCrossSite(all, POLICY)?.code).toBe('HOST_NOT_ALLOWED');
    expect(refuseCrossSite({ ...all, host: '127.0.0.1' }, POLICY)?.code).toBe('ORIGIN_NOT_ALLOWED');
    expect(refuseCrossSite({ ...all, host: '127.0.0.1', origin: undefined }, POLICY)?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('quotes at most 100 characters of a refused header, as JSON', () => {
    const message = refuseCrossSite(request({ origin: `https://${'a'.repeat(300)}.example` }), POLICY)!.message;
    expect(message).toContain(`"https://${'a'.repeat(92)}…"`);
    expect(message).not.toContain('a'.repeat(101));
  });
});

describe('refuseGetOperation', () => {
  it.each([
    { name: 'a query', query: '{ me { actor } }', operationName: undefined },
    { name: 'a named query', query: 'query Me { me { actor } }', operationName: 'Me' },
    { name: 'the query a document’s operationName picks beside a mutation', query: 'query Me { me { actor } } mutation Revoke { revokeApiToken(id: "x") { id } }', operationName: 'Me' },
    { name: 'a document that does not parse (GraphQL reports it)', query: 'mutation {', operationName: undefined },
    { name: 'no query at all (GraphQL reports it)', query: undefined, operationName: undefined },
    { name: 'a query given twice (not a string; GraphQL reports it)', query: ['{ me { actor } }', 'mutation { x }'], operationName: undefined },
  ])('lets through $name', ({ query, operationName }) => {
    expect(refuseGetOperation(query, operationName)).toBeUndefined();
  });

  it.each([
    { name: 'a mutation', query: 'mutation { revokeApiToken(id: "x") { id } }', operationName: undefined, kind: 'mutation' },
    { name: 'a subscription', query: 'subscription { rolloutProgress(id: "x") { phase } }', operationName: undefined, kind: 'subscription' },
    { name: 'the mutation a document’s operationName picks', query: 'query Me { me { actor } } mutation Revoke { revokeApiToken(id: "x") { id } }', operationName: 'Revoke', kind: 'mutation' },
    { name: 'a document with a mutation and no operationName', query: 'query Me { me { actor } } mutation Revoke { revokeApiToken(id: "x") { id } }', operationName: undefined, kind: 'mutation' },
    { name: 'a document with a mutation and an operationName that names nothing', query: 'query Me { me { actor } } mutation Revoke { revokeApiToken(id: "x") { id } }', operationName: 'Other', kind: 'mutation' },
  ])('refuses $name with 405 METHOD_NOT_ALLOWED', ({ query, operationName, kind }) => {
    const refusal = refuseGetOperation(query, operationName);
    expect(refusal).toMatchObject({ status: 405, code: 'METHOD_NOT_ALLOWED' });
    expect(refusal?.message).toContain(`A ${kind} cannot be sent with GET`);
  });
});
