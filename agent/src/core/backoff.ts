/** Bounds of an exponential backoff, in milliseconds. */
export interface BackoffOptions {
  /** Delay ceiling of the first retry; half of it is the smallest delay ever returned. */
  readonly baseMs: number;
  /** Largest delay ever returned. */
  readonly maxMs: number;
}

/**
 * Delay before retry number `attempt` (0 for the first retry): exponential growth with full jitter.
 *
 * The ceiling is `min(maxMs, baseMs * 2^attempt)` and the delay is spread uniformly by `random01`
 * over `[baseMs / 2, ceiling]`. The floor is half the base rather than 0 so that a retry never happens
 * at once (against a hub that refuses immediately, a zero delay would make a tight loop), while even
 * the first retry is still spread out so that agents dropped together do not return together.
 *
 * Total: a negative or NaN `attempt` counts as 0, `Infinity` reaches the ceiling, `random01` is
 * clamped to [0, 1), and `maxMs` wins over `baseMs` when smaller. Returns whole milliseconds.
 */
export function nextBackoffMs(attempt: number, random01: number, { baseMs, maxMs }: BackoffOptions): number {
  const max = Math.max(0, maxMs);
  const base = Math.min(Math.max(0, baseMs), max);
  const exponent = Number.isNaN(attempt) || attempt < 0 ? 0 : Math.min(Math.floor(attempt), 64);
  const ceiling = Math.min(max, base * 2 ** exponent);
  const floor = base / 2;
  const spread = Number.isFinite(random01) ? Math.min(Math.max(random01, 0), 1 - Number.EPSILON) : 0;
  return Math.floor(floor + spread * (ceiling - floor));
}
