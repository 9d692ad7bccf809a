import { describe, expect, it } from 'vitest';
import { formatAge, formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1m30s', 90_000],
  ])('reads %s as %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '5', '-5s', '5d', '1.5s', 's', '5 s', '5S'])('refuses %j', (text) => expect(parseDuration(text)).toBeUndefined());
});

describe('formatDuration', () => {
  it.each([
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [500, '500ms'],
    [0, '0s'],
  ])('writes %d ms as %s', (ms, text) => expect(formatDuration(ms)).toBe(text));

  it('writes what parseDuration reads back to the same value', () => {
    for (const ms of [1, 999, 1000, 61_000, 3_723_004]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});

describe('formatAge', () => {
  const now = new Date('2026-12-06T12:00:00Z');
  it.each([
    ['2026-12-06T11:59:55Z', '5s'],
    ['2026-12-06T11:55:00Z', '5m'],
    ['2026-12-06T09:00:00Z', '3h'],
    ['2026-12-01T12:00:00Z', '5d'],
    ['2026-12-06T12:00:10Z', '0s'],
  ])('shows %s as %s old', (at, age) => expect(formatAge(at, now)).toBe(age));

  it('shows nothing for no time or a time it cannot read', () => {
    expect(formatAge(null, now)).toBe('');
    expect(formatAge('yesterday', now)).toBe('');
  });
});
