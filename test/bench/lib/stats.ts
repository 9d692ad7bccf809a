/** Small statistics over samples in milliseconds (or any unit): percentiles, medians, ranges. */

/** Nearest-rank percentile of `values` (0 < p ≤ 100); NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** p50, p99, min and max of a series. */
export interface Spread {
  readonly p50: number;
  readonly p99: number;
  readonly min: number;
  readonly max: number;
}

export function spread(values: readonly number[]): Spread {
  return { p50: percentile(values, 50), p99: percentile(values, 99), min: Math.min(...values), max: Math.max(...values) };
}

/** Median, min and max of the per-pair ratios project / baseline. */
export interface RatioSummary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function ratioSummary(ratios: readonly number[]): RatioSummary {
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
}

/** Rounds for display and JSON (3 significant decimals below 10, 1 above). */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  return Math.abs(value) >= 10 ? Math.round(value * 10) / 10 : Math.round(value * 1000) / 1000;
}
