import type { LabelSelector } from '../app-set/app-set-spec';
import { matchesSelector } from './label-selector';
import type { ParamSet } from './param-set';

/**
 * The generator-level `selector` (Argo CD's post selector): keeps the sets whose flattened parameters
 * satisfy it. Keys are dotted parameter paths (`cluster.labels.region`, `env`); values are compared as
 * strings (`3` matches `"3"`, `true` matches `"true"`); arrays are compared as their JSON text.
 */
export function filterBySelector(sets: readonly ParamSet[], selector: LabelSelector | undefined): ParamSet[] {
  if (!selector) return [...sets];
  return sets.filter((set) => matchesSelector(flattenParams(set.params), selector));
}

/** Flattens nested parameters into `{ "a.b.c": "value" }` with every value as a string. */
export function flattenParams(params: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (value: unknown, key: string): void => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [child, inner] of Object.entries(value)) walk(inner, key === '' ? child : `${key}.${child}`);
    } else if (key !== '') {
      out[key] = Array.isArray(value) ? JSON.stringify(value) : String(value);
    }
  };
  walk(params, '');
  return out;
}
