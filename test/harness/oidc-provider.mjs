#!/usr/bin/env node
// A real OpenID provider (oidc-provider) on loopback for tests: client_credentials clients whose access
// tokens are signed JWTs carrying a `groups` claim. Discovery and JWKS are served as oidc-provider does.
//
// Usage: node oidc-provider.mjs [--port N] [--jwks-file F] [--clients-file F]
// Environment (flags win):
//   OIDC_PORT               port on 127.0.0.1; 0 or unset picks a free one
//   OIDC_JWKS / _FILE       private signing keys, a JWKS `{ "keys": [ { kty, kid, alg, ... } ] }`; the first
//                           key signs, every key is published
//   OIDC_CLIENTS / _FILE    `[{ "clientId", "clientSecret", "groups": [..], "claims": { .. } }]`
//   OIDC_TOKEN_TTL_SECONDS  access token lifetime (default 600)
// Prints `ready <issuer>` once listening; SIGTERM or SIGINT closes it and exits 0.
//
// The `resource` parameter of a token request is the token's audience. An audience that is not an absolute
// URI (which RFC 8707 requires of a resource) is sent as `urn:flotilla:test-audience:<percent-encoded>`.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';

const AUDIENCE_URN = 'urn:flotilla:test-audience:';

const { values: flags } = parseArgs({
  options: { port: { type: 'string' }, 'jwks-file': { type: 'string' }, 'clients-file': { type: 'string' } },
});

function json(name, value, file) {
  const text = file ? readFileSync(file, 'utf8') : value;
  if (!text) throw new Error(`${name} is required (or ${name}_FILE)`);
  return JSON.parse(text);
}

const env = process.env;
const port = Number(flags.port ?? env.OIDC_PORT ?? 0);
const jwks = json('OIDC_JWKS', env.OIDC_JWKS, flags['jwks-file'] ?? env.OIDC_JWKS_FILE);
const clients = json('OIDC_CLIENTS', env.OIDC_CLIENTS, flags['clients-file'] ?? env.OIDC_CLIENTS_FILE);
const ttl = Number(env.OIDC_TOKEN_TTL_SECONDS ?? 600);
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('port must be 0..65535');
if (!Array.isArray(jwks.keys) || jwks.keys.length === 0 || !jwks.keys[0].alg) throw new Error('the JWKS needs at least one key with `alg`');
if (!Number.isSafeInteger(ttl) || ttl <= 0) throw new Error('OIDC_TOKEN_TTL_SECONDS must be a positive integer');
const alg = jwks.keys[0].alg;
const extraClaims = new Map(clients.map((c) => [c.clientId, { ...c.claims, groups: c.groups ?? [] }]));

// The issuer names the port, so with port 0 the server listens first and the provider is attached after.
let handle = (_req, res) => {
  res.statusCode = 503;
  res.end();
};
const server = createServer((req, res) => handle(req, res));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  jwks,
  clients: clients.map((c) => ({
    client_id: c.clientId,
    client_secret: c.clientSecret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  // Without this an ES256-only key set fails at startup: the default ID token algorithm is RS256.
  clientDefaults: { id_token_signed_response_alg: alg },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    // A token request without `resource` gets an opaque access token: name the audience in every request.
    resourceIndicators: {
      enabled: true,
      getResourceServerInfo: async (_ctx, resource) => ({
        scope: 'api',
        audience: resource.startsWith(AUDIENCE_URN) ? decodeURIComponent(resource.slice(AUDIENCE_URN.length)) : resource,
        accessTokenTTL: ttl,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg } },
      }),
    },
  },
  extraTokenClaims: async (_ctx, token) => extraClaims.get(token.clientId),
  ttl: { ClientCredentials: ttl, AccessToken: ttl },
});
provider.on('server_error', (_ctx, error) => console.error(`server_error: ${error.message}`));
handle = provider.callback();

console.log(`ready ${issuer}`);

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
