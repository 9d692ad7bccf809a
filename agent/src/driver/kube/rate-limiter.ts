import type { Clock, Timer } from '../../clock.js';

/** Settings of {@link RateLimiter}. */
export interface RateLimit {
  /** Sustained requests per second. */
  readonly qps: number;
  /** Requests allowed at once after a quiet period. */
  readonly burst: number;
}

/**
 * A token bucket shared by every request the driver makes, so that whatever the loops above it do
 * (watch restarts, retries, heals, many Apps at once), the API server never sees more than `burst`
 * requests at once and `qps` per second on average. Callers wait in FIFO order; `close` rejects them.
 */
export class RateLimiter {
  readonly #clock: Clock;
  readonly #qps: number;
  readonly #burst: number;
  #tokens: number;
  #refilledAt: number;
  readonly #waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  #timer: Timer | undefined;
  #closed = false;

  constructor(limit: RateLimit, clock: Clock) {
    if (!(limit.qps > 0) || !(limit.burst >= 1)) throw new Error(`rate limit needs qps > 0 and burst >= 1; got qps ${limit.qps}, burst ${limit.burst}`);
    this.#clock = clock;
    this.#qps = limit.qps;
    this.#burst = Math.floor(limit.burst);
    this.#tokens = this.#burst;
    this.#refilledAt = clock.now();
  }

  /** Resolves when the caller may send one request; rejects once the limiter is closed. */
  acquire(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('Kubernetes client is closed'));
    this.#refill();
    if (this.#waiters.length === 0 && this.#tokens >= 1) {
      this.#tokens -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#schedule();
    });
  }

  /** Rejects every waiter and every later `acquire`. */
  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error('Kubernetes client is closed'));
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#refilledAt);
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed * this.#qps) / 1000);
    this.#refilledAt = now;
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const waitMs = Math.max(1, Math.ceil(((1 - this.#tokens) * 1000) / this.#qps));
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = undefined;
      this.#refill();
      while (this.#waiters.length > 0 && this.#tokens >= 1) {
        this.#tokens -= 1;
        this.#waiters.shift()?.resolve();
      }
      if (this.#waiters.length > 0) this.#schedule();
    }, waitMs);
  }
}
