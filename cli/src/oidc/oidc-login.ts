import { createServer } from 'node:http';
import * as oauth from 'oauth4webapi';
import { chooseOidcFlow, isLoopbackUrl, sessionFromTokens, type OidcFlow } from '../core/oidc-flow.js';
import type { OidcSession } from '../core/cli-config.js';
import { CliError } from '../errors.js';

/** Longest a login waits for the user (device code or browser). */
const LOGIN_TIMEOUT_MS = 10 * 60_000;

export interface OidcLoginOptions {
  readonly issuer: string;
  readonly clientId: string;
  /** Sent as the RFC 8707 `resource` (the hub's FLOTILLA_OIDC_AUDIENCE) when given. */
  readonly audience?: string;
  readonly scope?: string;
  readonly flow?: OidcFlow;
  /** Where to tell the user what to open or type (standard error). */
  readonly say: (line: string) => void;
  readonly now: () => Date;
}

interface Issuer {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  auth: oauth.ClientAuth;
  options: { [oauth.allowInsecureRequests]?: boolean };
}

async function discover(issuer: string, clientId: string): Promise<Issuer> {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new CliError(`--issuer "${issuer}" is not a URL`);
  }
  // oauth4webapi refuses plain http; a provider on this machine (a local trial) is allowed it.
  const options = url.protocol === 'http:' && isLoopbackUrl(url) ? { [oauth.allowInsecureRequests]: true } : {};
  try {
    const as = await oauth.processDiscoveryResponse(url, await oauth.discoveryRequest(url, { algorithm: 'oidc', ...options }));
    return { as, client: { client_id: clientId }, auth: oauth.None(), options };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new CliError(`cannot read the OIDC discovery document of ${issuer}: ${(error as Error).message}${cause ? ` (${cause})` : ''}`);
  }
}

function extraParameters(options: Pick<OidcLoginOptions, 'audience' | 'scope'>): Record<string, string> {
  return { scope: options.scope ?? 'openid offline_access', ...(options.audience ? { resource: options.audience } : {}) };
}

/** Logs in with the device-code flow when the issuer offers it, else authorization code + PKCE on a loopback redirect. */
export async function oidcLogin(options: OidcLoginOptions): Promise<OidcSession> {
  const issuer = await discover(options.issuer, options.clientId);
  const flow = chooseOidcFlow(issuer.as, options.flow);
  const tokens = flow === 'device' ? await deviceFlow(issuer, options) : await pkceFlow(issuer, options);
  return sessionFromTokens(
    { issuer: options.issuer, clientId: options.clientId, ...(options.audience ? { audience: options.audience } : {}), ...(options.scope ? { scope: options.scope } : {}) },
    tokens,
    options.now(),
  );
}

async function deviceFlow(issuer: Issuer, options: OidcLoginOptions): Promise<oauth.TokenEndpointResponse> {
  const { as, client, auth } = issuer;
  const started = await oauth.processDeviceAuthorizationResponse(
    as,
    client,
    await oauth.deviceAuthorizationRequest(as, client, auth, extraParameters(options), issuer.options),
  );
  options.say(`To log in, open ${started.verification_uri_complete ?? started.verification_uri} and enter the code ${started.user_code}`);
  let intervalMs = (started.interval ?? 5) * 1000;
  const deadline = Date.now() + Math.min(started.expires_in * 1000, LOGIN_TIMEOUT_MS);
  // Bounded by the device code's lifetime (at most LOGIN_TIMEOUT_MS).
  while (Date.now() < deadline) {
    await new Promise((done) => setTimeout(done, intervalMs));
    try {
      return await oauth.processDeviceCodeResponse(as, client, await oauth.deviceCodeGrantRequest(as, client, auth, started.device_code, issuer.options));
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError && error.error === 'authorization_pending') continue;
      if (error instanceof oauth.ResponseBodyError && error.error === 'slow_down') {
        intervalMs += 5000;
        continue;
      }
      throw new CliError(`the OIDC login failed: ${describe(error)}`);
    }
  }
  throw new CliError('the OIDC login timed out: the code was not entered in time');
}

async function pkceFlow(issuer: Issuer, options: OidcLoginOptions): Promise<oauth.TokenEndpointResponse> {
  const { as, client, auth } = issuer;
  if (!as.authorization_endpoint) throw new CliError('the issuer has neither a device authorization endpoint nor an authorization endpoint');
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const port = (server.address() as { port: number }).port;
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  try {
    const url = new URL(as.authorization_endpoint);
    url.search = new URLSearchParams({
      client_id: client.client_id,
      response_type: 'code',
      redirect_uri: redirectUri,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      ...extraParameters(options),
    }).toString();
    options.say(`To log in, open this address in a browser on this machine:\n  ${url.toString()}`);
    const callback = await new Promise<URL>((resolve, reject) => {
      const timer = setTimeout(() => reject(new CliError('the OIDC login timed out: the browser did not come back')), LOGIN_TIMEOUT_MS);
      server.on('request', (request, response) => {
        const current = new URL(request.url ?? '/', redirectUri);
        if (current.pathname !== '/callback') {
          response.writeHead(404).end();
          return;
        }
        response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('flotilla: you can close this window and return to the terminal.\n');
        clearTimeout(timer);
        resolve(current);
      });
    });
    let parameters: URLSearchParams;
    try {
      parameters = oauth.validateAuthResponse(as, client, callback, state);
    } catch (error) {
      throw new CliError(`the OIDC login failed: ${describe(error)}`);
    }
    return await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, auth, parameters, redirectUri, verifier, issuer.options),
    );
  } finally {
    server.close();
  }
}

/** A fresh access token from the session's refresh token; throws a CliError saying to log in again when that fails. */
export async function refreshOidcSession(session: OidcSession, now: () => Date, loginHint: string): Promise<OidcSession> {
  if (!session.refreshToken) throw new CliError(`the OIDC access token expired and there is no refresh token: log in again with \`${loginHint}\``);
  const issuer = await discover(session.issuer, session.clientId);
  try {
    const tokens = await oauth.processRefreshTokenResponse(
      issuer.as,
      issuer.client,
      await oauth.refreshTokenGrantRequest(issuer.as, issuer.client, issuer.auth, session.refreshToken, {
        ...issuer.options,
        ...(session.audience ? { additionalParameters: { resource: session.audience } } : {}),
      }),
    );
    return sessionFromTokens(session, tokens, now(), session.refreshToken);
  } catch (error) {
    throw new CliError(`the OIDC session could not be refreshed (${describe(error)}): log in again with \`${loginHint}\``);
  }
}

function describe(error: unknown): string {
  if (error instanceof oauth.ResponseBodyError) return `${error.error}${error.error_description ? `: ${error.error_description}` : ''}`;
  if (error instanceof oauth.AuthorizationResponseError) return `${error.error}${error.error_description ? `: ${error.error_description}` : ''}`;
  return error instanceof Error ? error.message : String(error);
}
