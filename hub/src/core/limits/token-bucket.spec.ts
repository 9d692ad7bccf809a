import { describe, expect, it } from 'vitest';
import { msUntilFull, takeToken, type Bucket, type BucketRate } from './token-bucket';

const RATE: BucketRate = { perSecond: 2, burst: 3 };
const T0 = 1_700_000_000_000;

/** Takes `count` tokens at `now`, threading the bucket; returns the decisions' kinds and the last bucket. */
function takeMany(bucket: Bucket | undefined, count: number, now: number) {
  const kinds: string[] = [];
  let current = bucket;
  for (let i = 0; i < count; i += 1) {
    const decision = takeToken(current, RATE, now);
    kinds.push(decision.kind);
    current = decision.bucket;
  }
  return { kinds, bucket: current };
}

describe('takeToken', () => {
  it('lets a new key burst up to the capacity, then refuses', () => {
    expect(takeMany(undefined, 4, T0).kinds).toEqual(['allowed', 'allowed', 'allowed', 'limited']);
  });

  it.each([
    { case: 'an empty bucket waits for one token', tokens: 0, retryAfterMs: 500 },
    { case: 'a bucket with half a token waits for the other half', tokens: 0.5, retryAfterMs: 250 },
    { case: 'a bucket short by a sliver waits at least a millisecond', tokens: 0.9999999, retryAfterMs: 1 },
  ])('says how long to wait: $case', ({ tokens, retryAfterMs }) => {
    const decision = takeToken({ tokens, atMs: T0 }, RATE, T0);
    expect(decision).toEqual({ kind: 'limited', bucket: { tokens, atMs: T0 }, retryAfterMs });
  });

  it.each([
    { case: 'half a second refills one token', elapsedMs: 500, allowed: 1 },
    { case: 'a second refills two', elapsedMs: 1000, allowed: 2 },
    { case: 'a long pause refills no more than the burst', elapsedMs: 3_600_000, allowed: 3 },
    { case: 'a clock that went backwards refills nothing', elapsedMs: -60_000, allowed: 0 },
  ])('refills at the rate: $case', ({ elapsedMs, allowed }) => {
    const empty = takeMany(undefined, 3, T0).bucket;
    const later = takeMany(empty, 4, T0 + elapsedMs).kinds;
    expect(later.filter((k) => k === 'allowed')).toHaveLength(allowed);
  });

  it('takes nothing from a refused request, so a steady client at the rate keeps being served', () => {
    let bucket = takeMany(undefined, 3, T0).bucket;
    const kinds: string[] = [];
    for (let i = 1; i <= 10; i += 1) {
      const decision = takeToken(bucket, RATE, T0 + i * 500);
      kinds.push(decision.kind);
      bucket = decision.bucket;
    }
    expect(kinds.every((k) => k === 'allowed')).toBe(true);
  });

  it('does not change the bucket it is given', () => {
    const bucket = Object.freeze({ tokens: 2, atMs: T0 });
    takeToken(bucket, RATE, T0 + 100);
    expect(bucket).toEqual({ tokens: 2, atMs: T0 });
  });
});

describe('msUntilFull', () => {
  it.each([
    { case: 'a bucket just drawn from refills its one token in 1 / rate seconds', bucket: { tokens: 2, atMs: T0 }, ms: 500 },
    { case: 'an empty bucket takes burst / rate seconds', bucket: { tokens: 0, atMs: T0 }, ms: 1500 },
    { case: 'a full bucket is full within a millisecond', bucket: { tokens: 3, atMs: T0 }, ms: 1 },
  ])('$case', ({ bucket, ms }) => {
    expect(msUntilFull(bucket, RATE)).toBe(ms);
  });
});
