import { Inject, Injectable, Logger } from '@nestjs/common';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { isExpired, oidcPrincipal, type Principal } from '../core/auth/principal';
import { FlotillaError } from '../errors';
import { API_TOKEN_PREFIX, ApiTokensService } from './api-tokens.service';
import { OidcTokenRefused, OidcVerifier, looksLikeJwt } from './oidc-verifier';

/** The one message for a missing, unknown, revoked or expired credential: they must look the same. */
const UNAUTHENTICATED = 'Authentication required: send "Authorization: Bearer <token>" with an API token or an OIDC access token.';

/**
 * The edge of the API: turns a bearer credential into a {@link Principal}, or refuses it. API tokens
 * (prefix `flt_api_`) are looked up by hash on every call, so a revocation holds on every replica at
 * once; JWTs are verified against the configured OIDC issuer.
 */
@Injectable()
export class Authenticator {
  private readonly log = new Logger('Auth');
  private readonly oidc: OidcVerifier | undefined;

  constructor(
    private readonly tokens: ApiTokensService,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {
    const oidc = config.auth.oidc;
    this.oidc = oidc && new OidcVerifier(oidc);
  }

  /** The principal behind an `Authorization` header value (or a bare token). Throws UNAUTHENTICATED or PERMISSION_DENIED. */
  async authenticate(authorization: unknown, now: Date): Promise<Principal> {
    const token = bearerToken(authorization);
    if (token === undefined) throw new FlotillaError('UNAUTHENTICATED', UNAUTHENTICATED);
    if (token.startsWith(API_TOKEN_PREFIX)) {
      const principal = await this.tokens.authenticate(token, now);
      if (!principal) throw new FlotillaError('UNAUTHENTICATED', UNAUTHENTICATED);
      return principal;
    }
    if (!this.oidc || !looksLikeJwt(token)) throw new FlotillaError('UNAUTHENTICATED', UNAUTHENTICATED);
    let identity;
    try {
      identity = await this.oidc.verify(token);
    } catch (error) {
      if (!(error instanceof OidcTokenRefused)) throw error;
      this.log.debug(`OIDC token refused: ${error.reason}`);
      throw new FlotillaError('UNAUTHENTICATED', `${UNAUTHENTICATED} The OIDC token was refused: ${error.reason}.`);
    }
    const principal = oidcPrincipal(identity, this.config.auth.oidc!.bindings);
    if (!principal) {
      throw new FlotillaError('PERMISSION_DENIED', `OIDC subject "${identity.subject.slice(0, 120)}" has no role on this hub: none of its groups is bound to a role (FLOTILLA_OIDC_ROLE_BINDINGS).`);
    }
    return principal;
  }

  /** True while a principal's credential still holds (subscriptions re-check this; revoked or expired ends them). */
  async isStillValid(principal: Principal, now: Date): Promise<boolean> {
    if (isExpired(principal, now)) return false;
    return principal.kind === 'token' ? this.tokens.isActive(principal.id, now) : true;
  }
}

/** The token of `Bearer <token>` (case-insensitive scheme), or undefined. */
export function bearerToken(authorization: unknown): string | undefined {
  if (typeof authorization !== 'string' || authorization.length > 8192) return undefined;
  const match = /^Bearer +([^\s]+)\s*$/i.exec(authorization.trim());
  return match?.[1];
}
