import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

/** How the hub checks bearer JWTs issued by an OpenID Connect provider. Validated once at boot. */
export interface OidcConfig {
  /** The exact `iss` expected, e.g. `https://login.example.com/realms/ops`. */
  readonly issuer: string;
  /** The `aud` expected (one of the token's audiences). */
  readonly audience: string;
  /** Where the signing keys are; undefined: `jwks_uri` from the issuer's discovery document, read on first use. */
  readonly jwksUrl: string | undefined;
  /** Claim holding group names: a string or an array of strings; a dotted path (`realm_access.roles`) reaches into objects. */
  readonly groupsClaim: string;
  /** Accepted signature algorithms. HMAC (`HS*`) and `none` are dropped even if listed. */
  readonly algorithms: readonly string[];
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. */
  readonly clockToleranceSeconds: number;
  /** Least time between two key-set refetches caused by an unknown `kid`, in seconds. */
  readonly jwksCooldownSeconds: number;
}

/** The defaults of the optional {@link OidcConfig} settings. */
export const OIDC_DEFAULTS = {
  groupsClaim: 'groups',
  algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
  clockToleranceSeconds: 30,
  jwksCooldownSeconds: 30,
} as const satisfies Partial<OidcConfig>;

/** Who a verified token speaks for. */
export interface OidcIdentity {
  /** `sub`. */
  readonly subject: string;
  /** `iss` (equal to the configured issuer). */
  readonly issuer: string;
  /** For display and audit: `preferred_username`, else `email`, else `sub`. */
  readonly name: string;
  /** Group names from the configured claim, in token order, without duplicates; empty when the claim is absent. */
  readonly groups: readonly string[];
  readonly expiresAt: Date;
}

/**
 * Why a bearer JWT was refused: one short sentence per cause, stable so that callers and tests can compare.
 * None of them contains any part of the token.
 */
export const OIDC_REFUSALS = {
  notJwt: 'not a JWT',
  malformed: 'malformed token',
  unsigned: 'unsigned token (alg none)',
  hmac: 'HMAC-signed token (only asymmetric signatures are accepted)',
  algorithmNotAllowed: 'signing algorithm not allowed',
  unknownKey: 'unknown signing key',
  ambiguousKey: 'token names no signing key and the issuer publishes several',
  unsupportedKey: 'unsupported signing key',
  badSignature: 'invalid signature',
  wrongIssuer: 'wrong issuer',
  wrongAudience: 'wrong audience',
  expired: 'token expired',
  notYetValid: 'token not yet valid',
  issuedInFuture: 'token issued in the future',
  noExpiry: 'token has no expiry',
  noSubject: 'token has no subject',
  invalidClaims: 'invalid token claims',
  keysUnreadable: "could not read the issuer's signing keys",
} as const;

/**
 * A bearer JWT that does not authenticate anyone. `transient` is true only when the issuer's keys could not be
 * read (issuer down, slow or answering garbage): the same token may verify later.
 */
export class OidcTokenRefused extends Error {
  constructor(
    readonly reason: string,
    readonly transient = false,
    options?: ErrorOptions,
  ) {
    super(`OIDC token refused: ${reason}`, options);
    this.name = 'OidcTokenRefused';
  }
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Cheap shape test: three base64url segments (the last may be empty, as in `alg: none` tokens), so that a
 * caller can tell a JWT from an opaque API token before doing any cryptography. Proves nothing.
 */
export function looksLikeJwt(token: string): boolean {
  return token.length <= 16_384 && JWT_SHAPE.test(token);
}

/** Every request for the issuer's documents gives up after this long. */
const FETCH_TIMEOUT_MS = 5_000;
/** Keys are refetched at least this often, so that a removed key stops verifying. */
const JWKS_MAX_AGE_MS = 10 * 60_000;
/** After a failed discovery, requests fail fast for this long instead of each hitting the issuer. */
const DISCOVERY_RETRY_MS = 2_000;

/**
 * Verifies bearer JWTs against one issuer's published keys (`kid` picks the key, so rotation at the issuer is
 * followed without a restart). Safe for concurrent use; never logs.
 */
export class OidcVerifier {
  private readonly algorithms: readonly string[];
  private keys: JWTVerifyGetKey | undefined;
  private discovery: Promise<JWTVerifyGetKey> | undefined;
  private discoveryFailure: { readonly until: number; readonly error: OidcTokenRefused } | undefined;

  /** `now` is read for `exp`/`nbf` checks only; the key cache keeps real time. */
  constructor(
    private readonly config: OidcConfig,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.algorithms = config.algorithms.filter(isAsymmetric);
    if (this.algorithms.length === 0) throw new TypeError('OidcConfig.algorithms lists no asymmetric signature algorithm');
    if (config.jwksUrl !== undefined) this.keys = this.remoteKeys(new URL(config.jwksUrl));
  }

  /** Resolves the identity of a valid token; rejects with {@link OidcTokenRefused} and nothing else. */
  async verify(jwt: string): Promise<OidcIdentity> {
    if (!looksLikeJwt(jwt)) throw new OidcTokenRefused(OIDC_REFUSALS.notJwt);
    this.checkAlgorithm(jwt);
    const keys = await this.signingKeys();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, keys, {
        issuer: this.config.issuer,
        audience: this.config.audience,
        algorithms: [...this.algorithms],
        clockTolerance: this.config.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
        currentDate: this.now(),
      }));
    } catch (error) {
      throw refusalFor(error);
    }
    return this.identityOf(payload);
  }

  /** Refuses `none`, HMAC and unlisted algorithms with their own reasons before any key lookup. */
  private checkAlgorithm(jwt: string): void {
    let alg: unknown;
    try {
      ({ alg } = decodeProtectedHeader(jwt));
    } catch {
      throw new OidcTokenRefused(OIDC_REFUSALS.malformed);
    }
    if (typeof alg !== 'string' || alg.toLowerCase() === 'none') throw new OidcTokenRefused(OIDC_REFUSALS.unsigned);
    if (/^HS/i.test(alg)) throw new OidcTokenRefused(OIDC_REFUSALS.hmac);
    if (!this.algorithms.includes(alg)) throw new OidcTokenRefused(OIDC_REFUSALS.algorithmNotAllowed);
  }

  private identityOf(payload: JWTPayload): OidcIdentity {
    const subject = payload.sub;
    if (typeof subject !== 'string' || subject === '') throw new OidcTokenRefused(OIDC_REFUSALS.noSubject);
    // jose has checked `exp` is present and a number.
    const expiresAt = new Date((payload.exp ?? 0) * 1000);
    const name = [payload['preferred_username'], payload['email']].find((v): v is string => typeof v === 'string' && v !== '') ?? subject;
    return { subject, issuer: this.config.issuer, name, groups: groupsOf(payload, this.config.groupsClaim), expiresAt };
  }

  private async signingKeys(): Promise<JWTVerifyGetKey> {
    if (this.keys) return this.keys;
    if (this.discoveryFailure && Date.now() < this.discoveryFailure.until) throw this.discoveryFailure.error;
    // Concurrent first requests share one discovery.
    this.discovery ??= this.discover().then(
      (keys) => {
        this.keys = keys;
        this.discoveryFailure = undefined;
        return keys;
      },
      (error: unknown) => {
        const refusal = error instanceof OidcTokenRefused ? error : keysUnreadable(error);
        this.discoveryFailure = { until: Date.now() + DISCOVERY_RETRY_MS, error: refusal };
        throw refusal;
      },
    );
    try {
      return await this.discovery;
    } finally {
      this.discovery = undefined;
    }
  }

  /** Reads `jwks_uri` from `${issuer}/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4). */
  private async discover(): Promise<JWTVerifyGetKey> {
    const url = `${this.config.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'manual', headers: { accept: 'application/json' } });
    if (response.status !== 200) throw new Error(`discovery document answered HTTP ${response.status}`);
    const document: unknown = await response.json();
    if (typeof document !== 'object' || document === null) throw new Error('discovery document is not a JSON object');
    const { issuer, jwks_uri: jwksUri } = document as Record<string, unknown>;
    // Discovery §4.3: the document must name the issuer it was fetched for, or its keys could be anyone's.
    if (issuer !== this.config.issuer) throw new Error('discovery document names another issuer');
    if (typeof jwksUri !== 'string' || !/^https?:\/\//.test(jwksUri)) throw new Error('discovery document has no http(s) jwks_uri');
    return this.remoteKeys(new URL(jwksUri));
  }

  private remoteKeys(url: URL): JWTVerifyGetKey {
    return createRemoteJWKSet(url, {
      timeoutDuration: FETCH_TIMEOUT_MS,
      cacheMaxAge: JWKS_MAX_AGE_MS,
      cooldownDuration: this.config.jwksCooldownSeconds * 1000,
    });
  }
}

function isAsymmetric(alg: string): boolean {
  return alg.toLowerCase() !== 'none' && !/^HS/i.test(alg);
}

function keysUnreadable(cause: unknown): OidcTokenRefused {
  return new OidcTokenRefused(OIDC_REFUSALS.keysUnreadable, true, { cause });
}

/** Maps a jose failure to one refusal. Claim errors carry the payload: it is not passed on. */
function refusalFor(error: unknown): OidcTokenRefused {
  if (error instanceof OidcTokenRefused) return error;
  if (error instanceof errors.JWTExpired) return new OidcTokenRefused(error.claim === 'exp' ? OIDC_REFUSALS.expired : OIDC_REFUSALS.invalidClaims);
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') {
      if (error.claim === 'exp') return new OidcTokenRefused(OIDC_REFUSALS.noExpiry);
      if (error.claim === 'sub') return new OidcTokenRefused(OIDC_REFUSALS.noSubject);
    }
    switch (error.claim) {
      case 'iss':
        return new OidcTokenRefused(OIDC_REFUSALS.wrongIssuer);
      case 'aud':
        return new OidcTokenRefused(OIDC_REFUSALS.wrongAudience);
      case 'nbf':
        return new OidcTokenRefused(OIDC_REFUSALS.notYetValid);
      case 'iat':
        return new OidcTokenRefused(OIDC_REFUSALS.issuedInFuture);
      default:
        return new OidcTokenRefused(OIDC_REFUSALS.invalidClaims);
    }
  }
  if (error instanceof errors.JWKSNoMatchingKey) return new OidcTokenRefused(OIDC_REFUSALS.unknownKey);
  if (error instanceof errors.JWKSMultipleMatchingKeys) return new OidcTokenRefused(OIDC_REFUSALS.ambiguousKey);
  if (error instanceof errors.JWSSignatureVerificationFailed) return new OidcTokenRefused(OIDC_REFUSALS.badSignature);
  if (error instanceof errors.JOSEAlgNotAllowed) return new OidcTokenRefused(OIDC_REFUSALS.algorithmNotAllowed);
  if (error instanceof errors.JOSENotSupported || error instanceof errors.JWKInvalid) return new OidcTokenRefused(OIDC_REFUSALS.unsupportedKey);
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return new OidcTokenRefused(OIDC_REFUSALS.malformed);
  // Anything else came from reading the key set: a network error, a timeout (JWKSTimeout), a non-200 answer
  // or a body that is not a key set (JWKSInvalid, JOSEError).
  return keysUnreadable(error);
}

/**
 * Group names under `claim`: an own claim of that exact name first (URL-like names contain dots), else the
 * dotted path. A string is one group; non-string array members are dropped; anything else means no groups.
 */
function groupsOf(payload: JWTPayload, claim: string): string[] {
  let value: unknown = Object.hasOwn(payload, claim) ? payload[claim] : undefined;
  if (value === undefined && claim.includes('.')) {
    value = payload;
    for (const part of claim.split('.')) {
      value = typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, part) ? (value as Record<string, unknown>)[part] : undefined;
    }
  }
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (!Array.isArray(value)) return [];
  return [...new Set(value.filter((g): g is string => typeof g === 'string' && g !== ''))];
}
