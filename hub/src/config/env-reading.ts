/** Reads one integer variable of `env`; returned by {@link boundedIntegerReader}. */
export type BoundedIntegerReader = (name: string, fallback: number, min: number, max: number) => number;

/**
 * A reader of integer variables of `env` bounded to `[min, max]`: unset or blank gives `fallback`; a
 * value that is not an integer in the bounds adds `<NAME> must be an integer from <min> to <max> (got
 * "<first 20 characters>")` to `problems` and gives `fallback`, so that every bad value is reported at once.
 */
export function boundedIntegerReader(env: Record<string, string | undefined>, problems: string[]): BoundedIntegerReader {
  return (name, fallback, min, max) => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw.slice(0, 20)}")`);
      return fallback;
    }
    return value;
  };
}
