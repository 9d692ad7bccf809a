import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../test/support/manual-clock.js';
import { RateLimiter } from './rate-limiter.js';

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
}

describe('RateLimiter', () => {
  it('lets a burst through at once, then one request per 1/qps seconds', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ qps: 2, burst: 3 }, clock);
    let granted = 0;
    for (let i = 0; i < 10; i += 1) void limiter.acquire().then(() => (granted += 1));
    await settle();
    expect(granted).toBe(3);

    clock.advance(499);
    await settle();
    expect(granted).toBe(3);
    clock.advance(1);
    await settle();
    expect(granted).toBe(4);
    clock.advance(2_000);
    await settle();
    expect(granted).toBe(8);
  });

  it('never grants more than burst + qps·t in t seconds, however many callers wait', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ qps: 5, burst: 5 }, clock);
    let granted = 0;
    for (let i = 0; i < 1_000; i += 1) void limiter.acquire().then(() => (granted += 1));
    for (let second = 1; second <= 10; second += 1) {
      clock.advance(1_000);
      await settle();
      expect(granted).toBeLessThanOrEqual(5 + 5 * second);
    }
    expect(granted).toBe(55);
  });

  it('refills up to the burst only after a quiet period', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ qps: 10, burst: 2 }, clock);
    await limiter.acquire();
    await limiter.acquire();
    clock.advance(60_000);
    let granted = 0;
    for (let i = 0; i < 5; i += 1) void limiter.acquire().then(() => (granted += 1));
    await settle();
    expect(granted).toBe(2);
  });

  it('rejects waiters and later callers once closed', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ qps: 1, burst: 1 }, clock);
    await limiter.acquire();
    const waiting = limiter.acquire();
    limiter.close();
    await expect(waiting).rejects.toThrow('closed');
    await expect(limiter.acquire()).rejects.toThrow('closed');
    expect(clock.pendingTimers).toBe(0);
  });

  it('refuses a limit that would never grant anything', () => {
    expect(() => new RateLimiter({ qps: 0, burst: 1 }, new ManualClock())).toThrow('qps > 0');
  });
});
