/**
 * Timing of the agent's NATS user JWT (decentralized auth). Pure: the JWT's signature is the server's
 * business; the agent only reads when it was issued and when it expires to plan its renewal.
 */

/** When a user JWT was issued and when it expires (undefined: never), in epoch milliseconds. */
export interface UserJwtTimes {
  readonly issuedAtMs: number;
  readonly expiresAtMs: number | undefined;
}

/** Reads `iat` and `exp` from a JWT's payload; undefined when it is not a JWT with a numeric `iat`. */
export function userJwtTimes(jwt: string): UserJwtTimes | undefined {
  const payload = jwt.split('.')[1];
  if (payload === undefined) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (claims === null || typeof claims !== 'object') return undefined;
  const { iat, exp } = claims as { iat?: unknown; exp?: unknown };
  if (typeof iat !== 'number') return undefined;
  return { issuedAtMs: iat * 1000, expiresAtMs: typeof exp === 'number' && exp > 0 ? exp * 1000 : undefined };
}

/**
 * When to renew: at two thirds of the lifetime, so that failed attempts have a third of it to retry.
 * Undefined for a JWT that never expires.
 */
export function renewAtMs(times: UserJwtTimes): number | undefined {
  if (times.expiresAtMs === undefined) return undefined;
  return times.issuedAtMs + Math.floor(((times.expiresAtMs - times.issuedAtMs) * 2) / 3);
}

/** True while the JWT is still valid at `nowMs` (with `marginMs` to spare for connecting). */
export function isUserJwtUsable(times: UserJwtTimes | undefined, nowMs: number, marginMs = 1000): boolean {
  return times !== undefined && (times.expiresAtMs === undefined || times.expiresAtMs - marginMs > nowMs);
}
