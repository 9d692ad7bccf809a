import { FlotillaError } from '../errors';

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
/** Lifetime of a token created without `expiresIn`. */
export const DEFAULT_TOKEN_LIFETIME = '90d';
const MAX_LIFETIME_MS = 3650 * UNIT_MS['d']!;

/** Parses a token lifetime such as `30m`, `12h` or `90d` into milliseconds (1 minute to 10 years). */
export function parseExpiresIn(text: string | undefined): number {
  const value = text ?? DEFAULT_TOKEN_LIFETIME;
  const match = /^(\d{1,7})(m|h|d)$/.exec(value);
  const ms = match ? Number(match[1]) * UNIT_MS[match[2]!]! : NaN;
  if (!(ms >= UNIT_MS['m']! && ms <= MAX_LIFETIME_MS)) {
    throw new FlotillaError('INVALID_ARGUMENT', `expiresIn must be a number of minutes, hours or days such as "30m", "12h" or "90d", from 1m to 3650d (got "${value.slice(0, 40)}").`);
  }
  return ms;
}
