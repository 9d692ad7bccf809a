/** How fast a bucket refills and how much it holds. */
export interface BucketRate {
  /** Tokens added per second (may be fractional, e.g. 0.5 for one request every two seconds); > 0. */
  readonly perSecond: number;
  /** Capacity: the most requests accepted in one burst; >= 1. */
  readonly burst: number;
}

/** A bucket's state: its tokens as of `atMs`. A key seen for the first time has no bucket (a full one). */
export interface Bucket {
  readonly tokens: number;
  /** Epoch milliseconds at which `tokens` was computed. */
  readonly atMs: number;
}

/** The decision for one request against one bucket. */
export type BucketDecision =
  | { readonly kind: 'allowed'; readonly bucket: Bucket }
  | {
      readonly kind: 'limited';
      readonly bucket: Bucket;
      /** Milliseconds until one token is back (>= 1, rounded up): the `Retry-After` to answer. */
      readonly retryAfterMs: number;
    };

/**
 * Takes one token from `bucket` (undefined: a full bucket) refilled at `rate` up to `now` (epoch ms).
 * Allowed: the returned bucket holds one token less. Limited: nothing is taken, the bucket is returned
 * refilled, and `retryAfterMs` says when a token will be there. A clock that went backwards refills
 * nothing (never more than `burst`, never a negative wait). Pure: the input is not changed.
 */
export function takeToken(bucket: Bucket | undefined, rate: BucketRate, now: number): BucketDecision {
  const elapsedMs = bucket === undefined ? 0 : Math.max(0, now - bucket.atMs);
  const tokens = bucket === undefined ? rate.burst : Math.min(rate.burst, bucket.tokens + (elapsedMs * rate.perSecond) / 1000);
  if (tokens >= 1) return { kind: 'allowed', bucket: { tokens: tokens - 1, atMs: now } };
  const retryAfterMs = Math.max(1, Math.ceil(((1 - tokens) * 1000) / rate.perSecond));
  return { kind: 'limited', bucket: { tokens, atMs: now }, retryAfterMs };
}

/**
 * Milliseconds until `bucket` is full again (>= 1): after that it is the same as no bucket, so a
 * store may forget it.
 */
export function msUntilFull(bucket: Bucket, rate: BucketRate): number {
  return Math.max(1, Math.ceil(((rate.burst - bucket.tokens) * 1000) / rate.perSecond));
}
