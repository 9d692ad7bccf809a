const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration such as `90s`, `5m`, `1h30m` or `250ms` into milliseconds. Returns undefined for
 * anything else (negative, empty, unknown unit) so that callers report it as an issue.
 */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+(ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|s|m|h)/g)) total += Number(amount) * UNIT_MS[unit!]!;
  return total;
}

/**
 * Resolves a count or percentage against a group size. Percentages round up; `min` is the floor
 * (1 for concurrency, so a wave always makes progress; 0 for failures). Undefined for a bad value.
 */
export function resolveCount(value: number | string, size: number, min: number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? Math.max(min, value) : undefined;
  const match = /^(\d{1,3})%$/.exec(value);
  if (!match || Number(match[1]) > 100) return undefined;
  return Math.max(min, Math.ceil((Number(match[1]) * size) / 100));
}
