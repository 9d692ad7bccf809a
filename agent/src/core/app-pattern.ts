/**
 * App name patterns: an App name, or a glob where `*` matches any run of characters (including none).
 * Used by FLOTILLA_SIM_FAIL_APPS; kept in core because matching is pure and table-testable.
 */

/** Characters a pattern may hold: those of App names (lowercase DNS-1123 subdomain) plus `*`. */
const PATTERN_SHAPE = /^[a-z0-9.*-]+$/;

/** True when `pattern` is a usable App name pattern (non-empty, lowercase name characters and `*`). */
export function isAppPattern(pattern: string): boolean {
  return pattern.length <= 253 && PATTERN_SHAPE.test(pattern);
}

/**
 * True when `name` matches `pattern` as a whole. `*` matches any run of characters, every other
 * character matches itself. Linear-time two-pointer matching, so no pattern can make it backtrack.
 */
export function matchesAppPattern(name: string, pattern: string): boolean {
  let n = 0;
  let p = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (n < name.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === name[n]) {
      n += 1;
      p += 1;
    } else if (p < pattern.length && pattern[p] === '*') {
      starAt = p;
      resumeAt = n;
      p += 1;
    } else if (starAt >= 0) {
      // Let the last star swallow one more character and retry from there.
      resumeAt += 1;
      n = resumeAt;
      p = starAt + 1;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p += 1;
  return p === pattern.length;
}

/** The first pattern of `patterns` that `name` matches, or `undefined` when none does. */
export function findMatchingPattern(name: string, patterns: readonly string[]): string | undefined {
  return patterns.find((pattern) => matchesAppPattern(name, pattern));
}
