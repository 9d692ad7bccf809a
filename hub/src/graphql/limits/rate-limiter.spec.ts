import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter';

const T0 = 1_700_000_000_000;

describe('RateLimiter', () => {
  it('limits each key on its own', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 2 }, 100);
    const answers = ['a', 'a', 'a', 'b', 'b', 'b'].map((key) => limiter.take(key, T0));
    expect(answers).toEqual([undefined, undefined, 1000, undefined, undefined, 1000]);
  });

  it('remembers at most the configured number of keys, forgetting the least recently used', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 1 }, 100);
    for (let i = 0; i < 10_000; i += 1) limiter.take(`address-${i}`, T0);
    expect(limiter.size).toBe(100);
    // The most recent keys are still limited; a forgotten one starts again with a full bucket.
    expect(limiter.take('address-9999', T0)).toBe(1000);
    expect(limiter.take('address-0', T0)).toBeUndefined();
  });

  it('forgets a key once its bucket is full again, so idle callers take no memory', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 2 }, 100);
    limiter.take('a', T0);
    expect(limiter.has('a')).toBe(true);
    limiter.take('b', T0 + 999);
    expect(limiter.has('a')).toBe(true);
    limiter.take('b', T0 + 1001);
    expect(limiter.has('a')).toBe(false);
  });
});
