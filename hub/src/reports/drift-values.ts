import { LIMITS, truncateText, type DriftedValue } from '@flotilla/proto';

/** The values of one drifted field as stored with an App's status (the `resources` jsonb). */
export interface DriftedValueRecord {
  path: string;
  /** Compact JSON of the value the applied configuration results in; null when absent there or redacted. */
  expected: string | null;
  /** Compact JSON of the live value; null when absent from the live object or redacted. */
  live: string | null;
  redacted: boolean;
}

/** What is left of a Report's value budget while its resources are stored, in characters. */
export interface DriftValueBudget {
  left: number;
}

/** A fresh budget for one Report. */
export function driftValueBudget(): DriftValueBudget {
  return { left: LIMITS.maxDriftValueCharsPerReport };
}

/**
 * The drifted values an agent sent for one resource, as the hub stores them. Agents bound them too,
 * but nothing an agent sends is trusted: only entries whose path (cut as stored paths are cut) is one
 * of the resource's stored `paths`, the first per path, in the order of `paths`; each value cut to
 * LIMITS.maxDriftValueChars; once the Report's `budget` is spent, later entries are dropped (their
 * paths stay, with values unknown). A redacted entry keeps no value, and a field under `data` or
 * `stringData` of a core Secret is stored redacted whatever the agent says.
 */
export function storedDriftValues(
  resource: { readonly apiVersion: string; readonly kind: string },
  paths: readonly string[],
  values: readonly DriftedValue[],
  maxPathChars: number,
  budget: DriftValueBudget,
): DriftedValueRecord[] {
  const byPath = new Map<string, DriftedValue>();
  for (const value of values.slice(0, LIMITS.maxDriftedFields * 2)) {
    const path = truncateText(value.path, maxPathChars);
    if (!byPath.has(path)) byPath.set(path, value);
  }
  const stored: DriftedValueRecord[] = [];
  for (const path of paths) {
    const value = byPath.get(path);
    if (value === undefined) continue;
    if (value.redacted || isSecretData(resource, path)) {
      stored.push({ path, expected: null, live: null, redacted: true });
      continue;
    }
    const expected = value.expected === undefined ? null : truncateText(value.expected, LIMITS.maxDriftValueChars);
    const live = value.live === undefined ? null : truncateText(value.live, LIMITS.maxDriftValueChars);
    const cost = (expected?.length ?? 0) + (live?.length ?? 0);
    if (cost > budget.left) {
      budget.left = 0;
      continue;
    }
    budget.left -= cost;
    stored.push({ path, expected, live, redacted: false });
  }
  return stored;
}

function isSecretData(resource: { readonly apiVersion: string; readonly kind: string }, path: string): boolean {
  if (resource.kind !== 'Secret' || resource.apiVersion !== 'v1') return false;
  return /^(data|stringData)($|[.[])/.test(path);
}
