import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../harness/auth.js';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { graphqlClient } from '../harness/graphql.js';
import { startHub, type HubProcess } from '../harness/processes.js';
import { send, upgrade, type RawRequest } from '../harness/raw-requests.js';

/**
 * RELIABILITY.md row 21: cross-site requests are refused before any resolver runs. A real hub process
 * is sent what a hostile page can make a browser send (forms, text/plain and multipart POSTs, GETs and
 * HEADs of mutations, foreign or opaque Origins, a DNS-rebinding Host, cross-origin WebSocket upgrades),
 * each with a valid admin token so that only the cross-site defence can stop it. Each refusal must
 * leave no trace (no AppSet, no audit event) and the hub responsive; the same requests made properly
 * go through. Every kind of response carries the security headers.
 */

const CONFIGURED_HOST = 'fleet.example.test';
const ALLOWED_ORIGIN = 'https://dash.example.test';

/** An AppSet with no cluster to land on: applying it stores it (and audits it) and nothing else. */
const appSetYaml = (name: string) => `
apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata: { name: ${name} }
spec:
  generators:
    - list: { elements: [] }
  template:
    namespace: default
    manifests:
      - { apiVersion: v1, kind: ConfigMap, metadata: { name: ${name} }, data: { a: "1" } }
`;

/** `applyAppSet` of `name` as one self-contained document (no variables), as a form or a URL can carry it. */
const applyMutation = (name: string) => `mutation { applyAppSet(yaml: ${JSON.stringify(appSetYaml(name))}) { changed issues { message } } }`;

const json = (name: string) => JSON.stringify({ query: applyMutation(name) });
const form = (name: string) => new URLSearchParams({ query: applyMutation(name) }).toString();
const multipart = (name: string) => {
  const boundary = 'flotilla-cross-site';
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${json(name)}\r\n--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{}\r\n--${boundary}--\r\n`,
  };
};
const getPath = (query: string) => `/graphql?${new URLSearchParams({ query }).toString()}`;

describe('cross-site requests against a real hub (row 21)', () => {
  let db: TestDatabase;
  let hub: HubProcess;
  let port: number;
  let admin: ReturnType<typeof graphqlClient>;
  /** The admin token as a header, on every request below unless the row says otherwise. */
  let authorization: Record<string, string>;
  const self = () => `127.0.0.1:${port}`;

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startHub({
      databaseUrl: db.url,
      env: { FLOTILLA_ALLOWED_HOSTS: `${CONFIGURED_HOST},*.apps.example.test`, FLOTILLA_ALLOWED_ORIGINS: ALLOWED_ORIGIN },
    });
    port = Number(new URL(hub.graphqlUrl).port);
    admin = graphqlClient(hub.graphqlUrl, hub.adminToken);
    authorization = { authorization: bearer(hub.adminToken) };
  });

  afterAll(async () => {
    await hub?.stop();
    await db?.drop();
  });

  /** Whether `applyAppSet` of `name` ran: the AppSet exists, or an applyAppSet audit event names it. */
  const traces = async (name: string) => {
    const seen = await admin.must<{ appSets: { name: string }[]; auditEvents: { nodes: { message: string }[] } }>(
      `{ appSets { name } auditEvents(first: 500, filter: { kind: "applyAppSet" }) { nodes { message } } }`,
    );
    return { appSet: seen.appSets.some((appSet) => appSet.name === name), audited: seen.auditEvents.nodes.filter((event) => event.message.includes(name)).length };
  };
  /** The hub still answers its probe and an authenticated query. */
  const expectResponsive = async () => {
    expect((await send(port, { method: 'GET', path: '/healthz', headers: { host: self() } })).status).toBe(200);
    expect(await admin.must<{ me: { actor: string } }>('{ me { actor } }')).toEqual({ me: { actor: 'token:bootstrap-admin' } });
  };
  const name = () => `xs-${randomBytes(4).toString('hex')}`;

  describe('refused before any resolver runs', () => {
    const REFUSED: { case: string; request: (name: string) => RawRequest; status: number; code: string }[] = [
      {
        case: 'a form-encoded POST of applyAppSet with a valid admin token',
        request: (n) => ({ method: 'POST', path: '/graphql', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form(n) }),
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        case: 'a text/plain POST of a JSON applyAppSet',
        request: (n) => ({ method: 'POST', path: '/graphql', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: json(n) }),
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        case: 'a multipart POST of applyAppSet',
        request: (n) => ({ method: 'POST', path: '/graphql', headers: { 'content-type': multipart(n).contentType }, body: multipart(n).body }),
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      { case: 'a POST of applyAppSet without Content-Type', request: (n) => ({ method: 'POST', path: '/graphql', body: json(n) }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
      { case: 'an application/graphql POST of applyAppSet', request: (n) => ({ method: 'POST', path: '/graphql', headers: { 'content-type': 'application/graphql' }, body: applyMutation(n) }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
      { case: 'a GET of applyAppSet', request: (n) => ({ method: 'GET', path: getPath(applyMutation(n)) }), status: 405, code: 'METHOD_NOT_ALLOWED' },
      { case: 'a HEAD of applyAppSet', request: (n) => ({ method: 'HEAD', path: getPath(applyMutation(n)) }), status: 405, code: 'METHOD_NOT_ALLOWED' },
      {
        case: 'a GET whose operationName picks the applyAppSet beside a query',
        request: (n) => ({ method: 'GET', path: `${getPath(`query Me { me { actor } } ${applyMutation(n).replace('mutation', 'mutation Apply')}`)}&operationName=Apply` }),
        status: 405,
        code: 'METHOD_NOT_ALLOWED',
      },
      {
        case: 'a JSON POST of applyAppSet from a foreign Origin',
        request: (n) => ({ method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: json(n) }),
        status: 403,
        code: 'ORIGIN_NOT_ALLOWED',
      },
      {
        case: 'a JSON POST of applyAppSet from the opaque Origin null (a sandboxed frame)',
        request: (n) => ({ method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', origin: 'null' }, body: json(n) }),
        status: 403,
        code: 'ORIGIN_NOT_ALLOWED',
      },
      {
        case: 'a JSON POST of applyAppSet from another port of the hub’s own host',
        request: (n) => ({ method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', origin: 'http://127.0.0.1:1' }, body: json(n) }),
        status: 403,
        code: 'ORIGIN_NOT_ALLOWED',
      },
      {
        case: 'a JSON POST of applyAppSet to a foreign Host (DNS rebinding: same-origin to the attacker’s name)',
        request: (n) => ({ method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', host: 'evil.example', origin: 'http://evil.example' }, body: json(n) }),
        status: 421,
        code: 'HOST_NOT_ALLOWED',
      },
      {
        case: 'a form-encoded POST of applyAppSet to a foreign Host and from a foreign Origin (the Host is checked first)',
        request: (n) => ({ method: 'POST', path: '/graphql', headers: { 'content-type': 'application/x-www-form-urlencoded', host: 'rebind.evil.example:80', origin: 'https://evil.example' }, body: form(n) }),
        status: 421,
        code: 'HOST_NOT_ALLOWED',
      },
    ];

    it.each(REFUSED.map((row) => [row.case, row] as const))('refuses %s, and nothing ran', async (_title, row) => {
      const appSet = name();
      const sent = row.request(appSet);
      const answer = await send(port, { ...sent, headers: { host: self(), ...authorization, ...sent.headers } });
      expect(answer.status).toBe(row.status);
      // HEAD answers carry no body; every other refusal says why in a GraphQL error
      if (sent.method !== 'HEAD') expect({ codes: answer.codes, data: answer.data }).toEqual({ codes: [row.code], data: null });
      expect(await traces(appSet)).toEqual({ appSet: false, audited: 0 });
      await expectResponsive();
    });

    it('refuses a foreign Host before authentication: no token gets 421, not 401', async () => {
      const answer = await send(port, { method: 'POST', path: '/graphql', headers: { host: 'evil.example', 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ me { actor } }' }) });
      expect({ status: answer.status, codes: answer.codes }).toEqual({ status: 421, codes: ['HOST_NOT_ALLOWED'] });
    });

    it.each([
      { case: 'from a foreign Origin', options: { origin: 'https://evil.example' }, status: 403, code: 'ORIGIN_NOT_ALLOWED' },
      { case: 'from the opaque Origin null', options: { origin: 'null' }, status: 403, code: 'ORIGIN_NOT_ALLOWED' },
      { case: 'to a foreign Host', options: { host: 'evil.example' }, status: 421, code: 'HOST_NOT_ALLOWED' },
    ])('refuses a graphql-ws upgrade $case before connection_init is read', async ({ options, status, code }) => {
      const answer = await upgrade(port, hub.adminToken, options);
      expect({ status: answer.status, codes: answer.codes, acked: answer.acked }).toEqual({ status, codes: [code], acked: false });
      await expectResponsive();
    });
  });

  describe('accepted', () => {
    const ACCEPTED: { case: string; headers: () => Record<string, string>; corsOrigin?: string }[] = [
      { case: 'a JSON POST without Origin (curl, the CLI, agents, the test harness)', headers: () => ({}) },
      { case: 'a same-origin JSON POST (the hub’s own page)', headers: () => ({ origin: `http://${self()}` }) },
      { case: 'a JSON POST from the allow-listed origin, which gets CORS headers', headers: () => ({ origin: ALLOWED_ORIGIN }), corsOrigin: ALLOWED_ORIGIN },
      { case: 'a JSON POST to an IPv4 literal Host', headers: () => ({ host: `10.11.12.13:${port}` }) },
      { case: 'a JSON POST to an IPv6 literal Host', headers: () => ({ host: `[::1]:${port}` }) },
      { case: 'a JSON POST to localhost', headers: () => ({ host: `localhost:${port}` }) },
      { case: 'a JSON POST to the configured Host, same-origin behind a TLS ingress', headers: () => ({ host: CONFIGURED_HOST, origin: `https://${CONFIGURED_HOST}` }) },
      { case: 'a JSON POST to a Host under the configured wildcard', headers: () => ({ host: `fleet.apps.example.test:${port}` }) },
      { case: 'an application/graphql-response+json POST', headers: () => ({ 'content-type': 'application/graphql-response+json; charset=utf-8' }) },
    ];

    it.each(ACCEPTED.map((row) => [row.case, row] as const))('runs applyAppSet for %s', async (_title, row) => {
      const appSet = name();
      const answer = await send(port, { method: 'POST', path: '/graphql', headers: { host: self(), 'content-type': 'application/json', ...authorization, ...row.headers() }, body: json(appSet) });
      expect({ status: answer.status, codes: answer.codes, data: answer.data }).toEqual({ status: 200, codes: [], data: { applyAppSet: { changed: true, issues: [] } } });
      expect(answer.headers['access-control-allow-origin']).toBe(row.corsOrigin);
      expect(await traces(appSet)).toEqual({ appSet: true, audited: 1 });
    });

    it('answers a preflight from the allow-listed origin with CORS headers (and no preflight from a foreign one)', async () => {
      const preflight = (origin: string) =>
        send(port, { method: 'OPTIONS', path: '/graphql', headers: { host: CONFIGURED_HOST, origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
      const allowed = await preflight(ALLOWED_ORIGIN);
      expect({ status: allowed.status, origin: allowed.headers['access-control-allow-origin'], methods: allowed.headers['access-control-allow-methods'], headers: allowed.headers['access-control-allow-headers'] }).toEqual({
        status: 204,
        origin: ALLOWED_ORIGIN,
        methods: 'GET, POST',
        headers: 'authorization, content-type',
      });
      const foreign = await preflight('https://evil.example');
      expect({ status: foreign.status, codes: foreign.codes, origin: foreign.headers['access-control-allow-origin'] }).toEqual({ status: 403, codes: ['ORIGIN_NOT_ALLOWED'], origin: undefined });
    });

    it('answers a query over GET, from no Origin and from the hub’s own', async () => {
      for (const origin of [undefined, `http://${self()}`]) {
        const answer = await send(port, { method: 'GET', path: getPath('{ me { actor } }'), headers: { host: self(), ...authorization, ...(origin ? { origin } : {}) } });
        expect({ status: answer.status, data: answer.data }).toEqual({ status: 200, data: { me: { actor: 'token:bootstrap-admin' } } });
      }
    });

    it.each([
      { case: 'without Origin', options: {} },
      { case: 'from the hub’s own origin', options: { origin: 'same' } },
      { case: 'from the allow-listed origin', options: { origin: ALLOWED_ORIGIN } },
      { case: 'to the configured Host', options: { host: CONFIGURED_HOST } },
    ])('accepts a graphql-ws upgrade $case', async ({ options }) => {
      const answer = await upgrade(port, hub.adminToken, { ...options, ...(options.origin === 'same' ? { origin: `http://${self()}` } : {}) });
      expect({ status: answer.status, acked: answer.acked }).toEqual({ status: 101, acked: true });
    });
  });

  describe('security headers', () => {
    const expectSecurityHeaders = (headers: IncomingHttpHeaders, what: string) => {
      const csp = String(headers['content-security-policy']);
      const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([directive, ...sources]) => [directive!, sources]));
      expect(
        {
          nosniff: headers['x-content-type-options'],
          frame: headers['x-frame-options'],
          referrer: headers['referrer-policy'],
          corp: headers['cross-origin-resource-policy'],
          frameAncestors: directives.get('frame-ancestors'),
          objectSrc: directives.get('object-src'),
          baseUri: directives.get('base-uri'),
          inlineScripts: (directives.get('script-src') ?? directives.get('default-src') ?? ['(none)']).filter((source) => ["'unsafe-inline'", "'unsafe-eval'", '*', 'http:', 'https:', 'data:'].includes(source)),
        },
        what,
      ).toEqual({ nosniff: 'nosniff', frame: 'DENY', referrer: 'no-referrer', corp: 'same-origin', frameAncestors: ["'none'"], objectSrc: ["'none'"], baseUri: ["'none'"], inlineScripts: [] });
      return directives;
    };

    it('are on every kind of response: success, probes, metrics, 400, 401, 403, 404, 405, 415, 421, and refused upgrades', async () => {
      const host = { host: self() };
      const post = (headers: Record<string, string>, body: string) => ({ method: 'POST', path: '/graphql', headers: { ...host, 'content-type': 'application/json', ...headers }, body });
      const responses: [string, RawRequest, number][] = [
        ['a query', post(authorization, JSON.stringify({ query: '{ me { actor } }' })), 200],
        ['/healthz', { method: 'GET', path: '/healthz', headers: host }, 200],
        ['/metrics', { method: 'GET', path: '/metrics', headers: host }, 200],
        ['malformed JSON', post(authorization, '{"query":'), 400],
        ['no token', post({}, JSON.stringify({ query: '{ me { actor } }' })), 401],
        ['a foreign Origin', post({ ...authorization, origin: 'https://evil.example' }, JSON.stringify({ query: '{ me { actor } }' })), 403],
        // Other paths without an extension are the dashboard's client routes (its own policy: dashboard-serving.e2e-spec.ts).
        ['an unknown path of the API', { method: 'GET', path: '/api/nothing-here', headers: { ...host, ...authorization } }, 404],
        ['a GET mutation', { method: 'GET', path: getPath(applyMutation('never')), headers: { ...host, ...authorization } }, 405],
        ['a form POST', { method: 'POST', path: '/graphql', headers: { ...host, 'content-type': 'application/x-www-form-urlencoded' }, body: 'query=x' }, 415],
        ['a foreign Host', { method: 'GET', path: '/healthz', headers: { host: 'evil.example' } }, 421],
      ];
      for (const [what, sent, status] of responses) {
        const answer = await send(port, sent);
        expect(answer.status, what).toBe(status);
        const directives = expectSecurityHeaders(answer.headers, what);
        expect(directives.get('script-src'), what).toEqual(["'self'"]);
      }
      for (const options of [{ origin: 'https://evil.example' }, { host: 'evil.example' }]) {
        const refused = await upgrade(port, hub.adminToken, options);
        expectSecurityHeaders(refused.headers, `upgrade ${JSON.stringify(options)}`);
      }
    });

    it('give the GraphiQL page a policy of its own: no host but the hub, no inline script or eval; inline styles and its own workers only', async () => {
      const page = await send(port, { method: 'GET', path: '/graphiql', headers: { host: self() } });
      expect(page.status).toBe(200);
      const directives = expectSecurityHeaders(page.headers, '/graphiql');
      const scripts = [...page.body.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBeGreaterThan(0);
      expect(scripts.map(([, attributes, inline]) => ({ external: /\ssrc=/.test(attributes!), inline: inline!.trim() }))).toEqual(scripts.map(() => ({ external: true, inline: '' })));
      expect([...directives.values()].flat().filter((source) => !source.startsWith("'") && source !== 'data:')).toEqual([]);
      expect([...directives.values()].flat()).not.toContain("'unsafe-eval'");
      expect({
        default: directives.get('default-src'),
        script: directives.get('script-src'),
        style: directives.get('style-src'),
        worker: directives.get('worker-src'),
        connect: directives.get('connect-src'),
      }).toEqual({ default: ["'none'"], script: ["'self'"], style: ["'self'", "'unsafe-inline'"], worker: ["'self'"], connect: ["'self'"] });
      for (const [, attributes] of scripts) {
        const path = /\ssrc="([^"]+)"/.exec(attributes!)![1]!;
        const script = await send(port, { method: 'GET', path, headers: { host: self() } });
        expect(script.status, path).toBe(200);
        expectSecurityHeaders(script.headers, path);
      }
    });
  });
});

describe('a hub left at the default hosts and origins', () => {
  let db: TestDatabase;
  let hub: HubProcess;
  let port: number;

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startHub({ databaseUrl: db.url });
    port = Number(new URL(hub.graphqlUrl).port);
  });

  afterAll(async () => {
    await hub?.stop();
    await db?.drop();
  });

  it.each([
    { case: 'the machine’s hostname', host: () => `${hostname()}:${port}`, status: 200, codes: [] },
    { case: 'localhost', host: () => `localhost:${port}`, status: 200, codes: [] },
    { case: 'the IP it listens on', host: () => `127.0.0.1:${port}`, status: 200, codes: [] },
    { case: 'another name', host: () => `evil.example:${port}`, status: 421, codes: ['HOST_NOT_ALLOWED'] },
  ])('answers a Host of $case with $status', async ({ host, status, codes }) => {
    const answer = await send(port, { method: 'POST', path: '/graphql', headers: { host: host(), 'content-type': 'application/json', authorization: bearer(hub.adminToken) }, body: JSON.stringify({ query: '{ me { actor } }' }) });
    expect({ status: answer.status, codes: answer.codes }).toEqual({ status, codes });
  });

  it('refuses every cross-origin caller, even one on the same machine', async () => {
    const answer = await send(port, { method: 'POST', path: '/graphql', headers: { host: `127.0.0.1:${port}`, origin: 'http://localhost:5173', 'content-type': 'application/json', authorization: bearer(hub.adminToken) }, body: JSON.stringify({ query: '{ me { actor } }' }) });
    expect({ status: answer.status, codes: answer.codes }).toEqual({ status: 403, codes: ['ORIGIN_NOT_ALLOWED'] });
  });
});
