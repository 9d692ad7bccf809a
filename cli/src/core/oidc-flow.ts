import type { OidcSession } from './cli-config.js';

/** The login flow an issuer allows: RFC 8628 device code when it has a device endpoint, else PKCE. */
export type OidcFlow = 'device' | 'pkce';

/** Picks the flow from the issuer's discovery document (device code when it offers it, unless `forced`). */
export function chooseOidcFlow(discovery: { device_authorization_endpoint?: string | undefined }, forced?: OidcFlow): OidcFlow {
  if (forced === 'pkce') return 'pkce';
  if (discovery.device_authorization_endpoint) return 'device';
  if (forced === 'device') throw new Error('the issuer offers no device authorization endpoint (its discovery document has no device_authorization_endpoint): use the browser flow');
  return 'pkce';
}

/**
 * The session to keep after a token response: the access token, the refresh token (a response
 * without one keeps the previous one, as refresh responses may), and when the access token expires.
 */
export function sessionFromTokens(
  base: Pick<OidcSession, 'issuer' | 'clientId' | 'audience' | 'scope'>,
  tokens: { access_token: string; refresh_token?: string | undefined; expires_in?: number | undefined },
  now: Date,
  previousRefreshToken?: string,
): OidcSession {
  const refreshToken = tokens.refresh_token ?? previousRefreshToken;
  return {
    ...base,
    accessToken: tokens.access_token,
    ...(refreshToken ? { refreshToken } : {}),
    ...(tokens.expires_in !== undefined ? { expiresAt: new Date(now.getTime() + tokens.expires_in * 1000).toISOString() } : {}),
  };
}

/** True for an issuer URL whose host is this machine, the only place plain http is accepted. */
export function isLoopbackUrl(url: URL): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}
