const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration as the hub writes them (`500ms`, `30s`, `5m`, `1h30m`) into milliseconds.
 * Returns undefined for anything else (empty, negative, no unit, unknown unit).
 */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+(ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|s|m|h)/g)) total += Number(amount) * UNIT_MS[unit!]!;
  return total;
}

/** Writes milliseconds the way {@link parseDuration} reads them, largest units first (`90000` → `1m30s`). */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    const amount = Math.floor(rest / size);
    if (amount > 0) parts.push(`${amount}${unit}`);
    rest -= amount * size;
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join('');
}

/** How long ago `at` was, relative to `now`, in the largest whole unit (`5s`, `3m`, `2h`, `4d`); '' for no time. */
export function formatAge(at: string | null | undefined, now: Date): string {
  if (!at) return '';
  const ms = now.getTime() - new Date(at).getTime();
  if (!Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}
