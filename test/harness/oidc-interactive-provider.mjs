#!/usr/bin/env node
// A real OpenID provider (oidc-provider) on loopback for tests where a person signs in: public clients
// for the authorization code flow with PKCE and the device authorization grant (RFC 8628), and JWT
// access tokens for the hub's audience carrying `groups`. Its development login form (devInteractions)
// accepts any user name and password, then asks for consent.
//
// Environment:
//   OIDC_PORT       port on 127.0.0.1 (required: the issuer names it)
//   OIDC_AUDIENCE   the audience of every access token (the default `resource`)
//   OIDC_CLIENTS    `[{ "clientId", "redirectUris": [..], "grantTypes": [..], "applicationType": "web"|"native" }]`;
//                   every client is public (no secret, PKCE required)
//   OIDC_USERS      `{ "<user>": { "groups": [..], "accessTokenTtlSeconds": N } }`; the entry "*" is for any
//                   other user; default: every user in group `platform`
//   OIDC_ACCESS_TOKEN_TTL_SECONDS  access token lifetime of users without their own (default 600)
// Prints `ready <issuer>` once listening; SIGTERM or SIGINT exits 0.
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const env = process.env;
const port = Number(env.OIDC_PORT);
const audience = env.OIDC_AUDIENCE;
const clients = JSON.parse(env.OIDC_CLIENTS ?? '[]');
const users = JSON.parse(env.OIDC_USERS ?? '{"*":{"groups":["platform"]}}');
const defaultTtl = Number(env.OIDC_ACCESS_TOKEN_TTL_SECONDS ?? 600);
if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error('OIDC_PORT must be 1..65535');
if (!audience) throw new Error('OIDC_AUDIENCE is required');
if (!Array.isArray(clients) || clients.length === 0) throw new Error('OIDC_CLIENTS must list at least one client');
if (!Number.isSafeInteger(defaultTtl) || defaultTtl <= 0) throw new Error('OIDC_ACCESS_TOKEN_TTL_SECONDS must be a positive integer');

const userOf = (accountId) => users[accountId] ?? users['*'] ?? { groups: [] };
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: clients.map((c) => ({
    client_id: c.clientId,
    token_endpoint_auth_method: 'none',
    application_type: c.applicationType ?? 'native',
    grant_types: c.grantTypes ?? ['authorization_code'],
    response_types: ['code'],
    redirect_uris: c.redirectUris ?? [],
  })),
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access', 'api'],
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: 'api', audience, accessTokenFormat: 'jwt' }),
    },
  },
  // Refresh tokens for the clients that may use them (the command line), none for a browser's.
  issueRefreshToken: async (_ctx, client) => client.grantTypes.includes('refresh_token'),
  ttl: { AccessToken: (_ctx, token) => userOf(token.accountId).accessTokenTtlSeconds ?? defaultTtl },
  extraTokenClaims: async (_ctx, token) => ({ groups: userOf(token.accountId).groups ?? [] }),
  findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
});
provider.on('server_error', (_ctx, error) => console.error(`server_error: ${error.message}`));
// The development pages import a web font from Google; a test browser must ask no host but the hub and this one.
provider.use(async (ctx, next) => {
  await next();
  if (typeof ctx.body === 'string' && ctx.type === 'text/html') ctx.body = ctx.body.replace(/@import url\(https:\/\/fonts\.googleapis\.com[^)]*\);?/g, '');
});
provider.listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));
process.once('SIGTERM', () => process.exit(0));
process.once('SIGINT', () => process.exit(0));
