/**
 * The pure part of single sign-on (authorization code + PKCE): what the hub publishes about it, what a
 * tab keeps between leaving for the identity provider and coming back, and whether what came back may
 * be exchanged for a token. No storage, network or clock here: callers pass `now`.
 */

/** Where the identity provider sends the browser back (a client route; the hub serves index.html there). */
export const CALLBACK_PATH = '/auth/callback';

/** A sign-in that has not come back in this long is refused: the authorization code would be stale anyway. */
export const MAX_ROUND_TRIP_MS = 10 * 60_000;

/** GET /api/auth/config's `oidc`: how this hub's dashboard signs in with single sign-on. */
export interface SsoConfig {
  readonly issuer: string;
  readonly clientId: string;
  /** Space-separated. */
  readonly scopes: string;
  /** Sent as `resource`: the access token must be for the hub (its FLOTILLA_OIDC_AUDIENCE). */
  readonly audience: string;
}

/** What a tab keeps in sessionStorage for one round trip to the identity provider, and nothing longer. */
export interface PendingSignIn {
  readonly issuer: string;
  readonly clientId: string;
  readonly state: string;
  readonly nonce: string;
  /** The PKCE code verifier (its S256 challenge went to the provider). */
  readonly verifier: string;
  /** Epoch milliseconds. */
  readonly startedAt: number;
}

export type CallbackCheck = { readonly kind: 'exchange' } | { readonly kind: 'refused'; readonly message: string };

/** The `oidc` of GET /api/auth/config when it is well-formed; undefined for null or anything else (API tokens only). */
export function readSsoConfig(body: unknown): SsoConfig | undefined {
  const oidc = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['oidc'] : undefined;
  if (typeof oidc !== 'object' || oidc === null) return undefined;
  const { issuer, clientId, scopes, audience } = oidc as Record<string, unknown>;
  if (![issuer, clientId, scopes, audience].every((v) => typeof v === 'string' && v !== '')) return undefined;
  if (!/^https?:\/\//.test(issuer as string)) return undefined;
  return { issuer: issuer as string, clientId: clientId as string, scopes: scopes as string, audience: audience as string };
}

/** A {@link PendingSignIn} read back from storage (JSON text); undefined when absent or not one. */
export function readPendingSignIn(text: string | null | undefined): PendingSignIn | undefined {
  if (!text) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { issuer, clientId, state, nonce, verifier, startedAt } = value as Record<string, unknown>;
  if (![issuer, clientId, state, nonce, verifier].every((v) => typeof v === 'string' && v !== '')) return undefined;
  if (typeof startedAt !== 'number' || !Number.isFinite(startedAt)) return undefined;
  return { issuer, clientId, state, nonce, verifier, startedAt } as PendingSignIn;
}

/**
 * Whether the parameters the identity provider sent back (`?code=…&state=…` or `?error=…`) may be
 * exchanged for a token, for the sign-in this tab started (`pending`) and the hub's current settings.
 * Refusals carry a sentence for the person: what happened and what to do.
 */
export function checkCallback(params: URLSearchParams, pending: PendingSignIn | undefined, config: SsoConfig | undefined, now: number): CallbackCheck {
  const error = params.get('error');
  if (error !== null) {
    const description = params.get('error_description');
    return refused(`The identity provider did not sign you in (${error}${description ? `: ${description}` : ''}). Try again, or sign in with an API token.`);
  }
  if (!pending) return refused('This sign-in was not started in this tab, or was already used. Start it again from the sign-in page.');
  if (now - pending.startedAt > MAX_ROUND_TRIP_MS || now < pending.startedAt) {
    return refused('This sign-in took longer than 10 minutes. Start it again from the sign-in page.');
  }
  if (params.get('state') !== pending.state) {
    return refused('The answer of the identity provider does not belong to the sign-in this tab started (state mismatch). Start it again from the sign-in page.');
  }
  if (!config) return refused('This hub no longer offers single sign-on. Sign in with an API token.');
  if (config.issuer !== pending.issuer || config.clientId !== pending.clientId) {
    return refused("The hub's single sign-on settings changed during the sign-in. Start it again from the sign-in page.");
  }
  if (!params.get('code')) return refused('The identity provider sent no authorization code. Start the sign-in again.');
  return { kind: 'exchange' };
}

function refused(message: string): CallbackCheck {
  return { kind: 'refused', message };
}

/** Whether `issuer` is plain http on this machine (a local trial), the one case where http is allowed, as the command line allows it. */
export function isLoopbackHttp(issuer: string): boolean {
  const url = new URL(issuer);
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}
