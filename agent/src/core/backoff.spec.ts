import { describe, expect, it } from 'vitest';
import { nextBackoffMs } from './backoff.js';

const bounds = { baseMs: 500, maxMs: 30_000 };

describe('nextBackoffMs', () => {
  it.each([
    { name: 'the lowest draw waits half the base delay, never zero', attempt: 0, random: 0, want: 250 },
    { name: 'the first retry never waits more than the base delay', attempt: 0, random: 0.999999, want: 499 },
    { name: 'the ceiling doubles with each attempt', attempt: 3, random: 0.999999, want: 3999 },
    { name: 'a mid draw lands halfway between floor and ceiling', attempt: 2, random: 0.5, want: 1125 },
    { name: 'the ceiling stops at the maximum', attempt: 10, random: 0.999999, want: 29_999 },
    { name: 'a huge attempt does not overflow', attempt: 5000, random: 0.5, want: 15_125 },
    { name: 'an infinite attempt means the maximum ceiling', attempt: Number.POSITIVE_INFINITY, random: 0.5, want: 15_125 },
    { name: 'a negative attempt counts as the first', attempt: -3, random: 0, want: 250 },
    { name: 'a NaN attempt counts as the first', attempt: Number.NaN, random: 0, want: 250 },
    { name: 'a draw above one is clamped', attempt: 0, random: 7, want: 499 },
    { name: 'a NaN draw counts as zero', attempt: 4, random: Number.NaN, want: 250 },
  ])('$name', ({ attempt, random, want }) => {
    expect(nextBackoffMs(attempt, random, bounds)).toBe(want);
  });

  it('never goes below half the base delay nor above the maximum, whatever the draw', () => {
    for (let attempt = 0; attempt < 40; attempt += 1) {
      for (const random of [0, 0.1, 0.5, 0.9, 0.999999]) {
        const delay = nextBackoffMs(attempt, random, bounds);
        expect(delay).toBeGreaterThanOrEqual(250);
        expect(delay).toBeLessThanOrEqual(30_000);
      }
    }
  });

  it('lets a maximum below the base cap even the first retry', () => {
    expect(nextBackoffMs(3, 0.5, { baseMs: 500, maxMs: 200 })).toBe(150);
  });
});
