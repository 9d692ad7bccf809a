import { LRUCache } from 'lru-cache';
import { msUntilFull, takeToken, type Bucket, type BucketRate } from '../../core/limits/token-bucket';
import type { Principal } from '../../core/auth/principal';

/**
 * Token buckets by key (a principal, a source address), the arithmetic being core's {@link takeToken}.
 * Memory is bounded: at most `trackedKeys` buckets are kept, the least recently used forgotten first
 * (a forgotten key starts again with a full bucket, which only ever lets a request through that the
 * bucket would also have let through after a pause).
 */
export class RateLimiter {
  private readonly buckets: LRUCache<string, Bucket>;
  /** The `now` of the latest call: the cache's clock for expiry, so that time comes only from callers. */
  private latest = 0;

  constructor(
    private readonly rate: BucketRate,
    trackedKeys: number,
  ) {
    this.buckets = new LRUCache<string, Bucket>({ max: trackedKeys, ttlResolution: 0, perf: { now: () => this.latest } });
  }

  /** Takes a token for `key` at `now` (epoch ms): undefined when allowed, else the milliseconds to wait. */
  take(key: string, now: number): number | undefined {
    this.latest = Math.max(this.latest, now);
    const decision = takeToken(this.buckets.get(key), this.rate, now);
    // Kept until it would be full again: a full bucket is the same as none, so idle keys take no memory.
    this.buckets.set(key, decision.bucket, { ttl: msUntilFull(decision.bucket, this.rate) });
    return decision.kind === 'limited' ? decision.retryAfterMs : undefined;
  }

  /** Whether a bucket is kept for `key` as of the latest call. */
  has(key: string): boolean {
    return this.buckets.has(key);
  }

  /** How many keys are tracked (for tests of the bound). */
  get size(): number {
    return this.buckets.size;
  }
}

/** The rate-limit key of a principal: the same caller over HTTP and WebSocket. */
export function principalKey(principal: Principal): string {
  return `${principal.kind}:${principal.issuer ?? ''}:${principal.id}`;
}
