/**
 * How the dashboard signs people in with the OIDC issuer the hub trusts (FLOTILLA_OIDC_ISSUER): the
 * public client it uses for authorization code + PKCE. Nothing here is secret: a browser cannot keep a
 * client secret, so the client is a public one and its id is published at GET /api/auth/config.
 */
export interface OidcWebConfig {
  /** FLOTILLA_OIDC_WEB_CLIENT_ID: the dashboard's public client at the issuer. */
  readonly clientId: string;
  /** FLOTILLA_OIDC_WEB_SCOPES: the scopes asked for, `openid` always among them; default `openid`. */
  readonly scopes: readonly string[];
}

export const DEFAULT_OIDC_WEB_SCOPES: readonly string[] = ['openid'];

/** RFC 6749 §3.3 scope-token: printable ASCII but space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
/** A client id as issuers hand them out: printable ASCII without blanks. */
const CLIENT_ID = /^[\x21-\x7E]{1,256}$/;

/**
 * Reads FLOTILLA_OIDC_WEB_CLIENT_ID and FLOTILLA_OIDC_WEB_SCOPES; undefined when no web client is set
 * (the dashboard then offers API tokens only). Bad values are added to `problems`, naming the variable.
 */
export function loadOidcWebConfig(env: Record<string, string | undefined>, problems: string[]): OidcWebConfig | undefined {
  const read = (name: string) => env[name]?.trim() || undefined;
  const clientId = read('FLOTILLA_OIDC_WEB_CLIENT_ID');
  const scopesText = read('FLOTILLA_OIDC_WEB_SCOPES');
  if (clientId === undefined) {
    if (scopesText !== undefined) problems.push('FLOTILLA_OIDC_WEB_SCOPES needs FLOTILLA_OIDC_WEB_CLIENT_ID (the dashboard\'s public client at the issuer)');
    return undefined;
  }
  if (read('FLOTILLA_OIDC_ISSUER') === undefined) {
    problems.push('FLOTILLA_OIDC_WEB_CLIENT_ID needs FLOTILLA_OIDC_ISSUER (the issuer the hub trusts and the dashboard signs in with)');
    return undefined;
  }
  if (!CLIENT_ID.test(clientId)) {
    problems.push('FLOTILLA_OIDC_WEB_CLIENT_ID must be 1 to 256 printable ASCII characters without blanks');
    return undefined;
  }
  if (scopesText === undefined) return { clientId, scopes: DEFAULT_OIDC_WEB_SCOPES };
  const scopes = [...new Set(scopesText.split(/[\s,]+/).filter((scope) => scope !== ''))];
  const refused = scopes.filter((scope) => !SCOPE_TOKEN.test(scope));
  if (refused.length > 0) {
    problems.push(`FLOTILLA_OIDC_WEB_SCOPES must list scopes separated by blanks or commas; refused: ${refused.map((s) => JSON.stringify(s.slice(0, 40))).join(', ')}`);
    return undefined;
  }
  if (!scopes.includes('openid')) {
    problems.push(`FLOTILLA_OIDC_WEB_SCOPES must include openid (got "${scopes.join(' ').slice(0, 200)}")`);
    return undefined;
  }
  // No refresh in the browser: a refresh token would have to sit in the tab's storage beside the access token.
  if (scopes.includes('offline_access')) {
    problems.push('FLOTILLA_OIDC_WEB_SCOPES must not include offline_access: the dashboard does not keep refresh tokens (people sign in again when the access token expires)');
    return undefined;
  }
  return { clientId, scopes };
}
