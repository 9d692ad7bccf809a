import * as oauth from 'oauth4webapi';
import { CALLBACK_PATH, checkCallback, isLoopbackHttp, readPendingSignIn, readSsoConfig, type PendingSignIn, type SsoConfig } from './sso-callback';

/**
 * Single sign-on in the browser (OpenID Connect authorization code + PKCE S256 + state + nonce, with
 * oauth4webapi, as the command line): leave for the identity provider, come back to /auth/callback,
 * exchange the code for an access token at the provider's token endpoint (which must answer CORS
 * from the hub's origin). The PKCE verifier, state and nonce live in sessionStorage for that round
 * trip only. No refresh token is asked for or kept: the session ends with the access token.
 */

/** GET /api/auth/config: public, answered without a token. */
const AUTH_CONFIG_PATH = '/api/auth/config';
const PENDING_KEY = 'flotilla.sso.pending';

/** The hub's single sign-on settings; undefined when it offers API tokens only or cannot say. */
export async function fetchSsoConfig(signal?: AbortSignal): Promise<SsoConfig | undefined> {
  const response = await fetch(AUTH_CONFIG_PATH, { headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) });
  if (!response.ok) return undefined;
  return readSsoConfig(await response.json());
}

/** Drops the round trip's secrets of a sign-in that never came back (the person returned to the sign-in page instead). */
export function forgetPendingSignIn(): void {
  sessionStorage.removeItem(PENDING_KEY);
}

/** True when this page is the identity provider's redirect back. */
export function isSsoCallback(location: Location): boolean {
  return location.pathname === CALLBACK_PATH;
}

function redirectUri(): string {
  return new URL(CALLBACK_PATH, window.location.origin).toString();
}

function requestOptions(issuer: string): { [oauth.allowInsecureRequests]?: boolean } {
  // oauth4webapi refuses plain http; a provider on this machine (a local trial) is allowed it.
  return isLoopbackHttp(issuer) ? { [oauth.allowInsecureRequests]: true } : {};
}

async function discover(config: SsoConfig): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(config.issuer);
  try {
    return await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...requestOptions(config.issuer) }));
  } catch (error) {
    throw new Error(`Cannot read the discovery document of ${config.issuer}: ${describe(error)}`, { cause: error });
  }
}

/** Sends the browser to the identity provider's sign-in page; rejects (nothing stored) when that cannot start. */
export async function startSingleSignOn(config: SsoConfig, now: number): Promise<void> {
  const as = await discover(config);
  if (!as.authorization_endpoint) throw new Error(`${config.issuer} has no authorization endpoint`);
  const pending: PendingSignIn = {
    issuer: config.issuer,
    clientId: config.clientId,
    state: oauth.generateRandomState(),
    nonce: oauth.generateRandomNonce(),
    verifier: oauth.generateRandomCodeVerifier(),
    startedAt: now,
  };
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: config.clientId,
    response_type: 'code',
    redirect_uri: redirectUri(),
    scope: config.scopes,
    resource: config.audience,
    code_challenge: await oauth.calculatePKCECodeChallenge(pending.verifier),
    code_challenge_method: 'S256',
    state: pending.state,
    nonce: pending.nonce,
  }).toString();
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  window.location.assign(url.toString());
}

/**
 * Completes the sign-in this tab started: checks what came back (`callback`: the current URL), then
 * exchanges the code for an access token. The round trip's secrets are removed first, whatever the
 * outcome, so a code is never tried twice. Rejects with a sentence for the person.
 */
export async function finishSingleSignOn(callback: URL, now: number): Promise<string> {
  const pending = readPendingSignIn(sessionStorage.getItem(PENDING_KEY));
  sessionStorage.removeItem(PENDING_KEY);
  let config: SsoConfig | undefined;
  try {
    config = await fetchSsoConfig();
  } catch (error) {
    throw new Error(`Cannot reach the hub to finish the sign-in: ${describe(error)}`, { cause: error });
  }
  const check = checkCallback(callback.searchParams, pending, config, now);
  if (check.kind === 'refused') throw new Error(check.message);
  // checkCallback refuses a missing pending sign-in or configuration.
  const { verifier, state, nonce } = pending!;
  const as = await discover(config!);
  const client: oauth.Client = { client_id: config!.clientId };
  const options = { ...requestOptions(config!.issuer), additionalParameters: { resource: config!.audience } };
  try {
    const parameters = oauth.validateAuthResponse(as, client, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), parameters, redirectUri(), verifier, options);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true });
    return tokens.access_token;
  } catch (error) {
    throw new Error(`The identity provider did not sign you in: ${describe(error)}. Start the sign-in again.`, { cause: error });
  }
}

function describe(error: unknown): string {
  if (error instanceof oauth.ResponseBodyError || error instanceof oauth.AuthorizationResponseError) {
    return `${error.error}${error.error_description ? ` (${error.error_description})` : ''}`;
  }
  // A fetch the page's policy or the provider's CORS refused surfaces as a bare TypeError.
  if (error instanceof TypeError && /fetch/i.test(error.message)) return `${error.message} (is the identity provider reachable, and does it allow this origin?)`;
  return error instanceof Error ? error.message : String(error);
}
