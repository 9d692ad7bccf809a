import { describe, expect, it } from 'vitest';
import { findMatchingPattern, isAppPattern, matchesAppPattern } from './app-pattern.js';

describe('matchesAppPattern', () => {
  it.each([
    { name: 'an exact name matches itself', app: 'web', pattern: 'web', want: true },
    { name: 'an exact name does not match a longer App name', app: 'web-2', pattern: 'web', want: false },
    { name: 'a lone star matches any name', app: 'anything-at-all', pattern: '*', want: true },
    { name: 'a trailing star matches a prefix', app: 'web-eu-1', pattern: 'web-*', want: true },
    { name: 'a trailing star matches the bare prefix too', app: 'web-', pattern: 'web-*', want: true },
    { name: 'a leading star matches a suffix', app: 'eu-web', pattern: '*-web', want: true },
    { name: 'a middle star matches across dashes', app: 'web-eu-1-canary', pattern: 'web-*-canary', want: true },
    { name: 'a middle star needs both ends', app: 'web-eu-1', pattern: 'web-*-canary', want: false },
    { name: 'several stars match in order', app: 'a-b-c-d', pattern: '*b*d', want: true },
    { name: 'several stars do not match out of order', app: 'a-d-c-b', pattern: '*b*d', want: false },
    { name: 'a star needs the rest of the pattern after it', app: 'web', pattern: 'web*x', want: false },
    { name: 'an empty name only matches stars', app: '', pattern: '**', want: true },
    { name: 'a pathological pattern still answers quickly', app: 'a'.repeat(200), pattern: '*a*a*a*a*a*a*b', want: false },
  ])('$name', ({ app, pattern, want }) => {
    expect(matchesAppPattern(app, pattern)).toBe(want);
  });
});

describe('isAppPattern', () => {
  it.each([
    { name: 'a plain App name is a pattern', pattern: 'web-1', want: true },
    { name: 'a glob with dots and stars is a pattern', pattern: 'web.*', want: true },
    { name: 'an empty string is not a pattern', pattern: '', want: false },
    { name: 'uppercase letters are not App name characters', pattern: 'Web', want: false },
    { name: 'a question mark is not supported', pattern: 'web-?', want: false },
  ])('$name', ({ pattern, want }) => {
    expect(isAppPattern(pattern)).toBe(want);
  });
});

describe('findMatchingPattern', () => {
  it('returns the first pattern that matches', () => {
    expect(findMatchingPattern('web-eu', ['db-*', 'web-*', '*'])).toBe('web-*');
  });
  it('returns undefined when no pattern matches', () => {
    expect(findMatchingPattern('web', ['db-*'])).toBeUndefined();
  });
});
