import type { LabelSelector } from '../app-set/app-set-spec';
import { matchesSelector } from './label-selector';
import type { ParamSet } from './param-set';

/**
 * The generator-level `selector` (Argo CD's post selector): keeps the sets whose flattened parameters
 * satisfy it. Keys are dotted parameter paths (`cluster.labels.region`, `env`), list items by index as
 * in Argo CD (`values.0`, `hosts.1.name`); values are compared as strings (`3` matches `"3"`, `true`
 * matches `"true"`); a list is also comparable whole, as its JSON text (a Flotilla addition).
 * `In`/`NotIn` with no values are refused by the schema (as in Kubernetes), never an empty result.
 */
export function filterBySelector(sets: readonly ParamSet[], selector: LabelSelector | undefined): ParamSet[] {
  if (!selector) return [...sets];
  return sets.filter((set) => matchesSelector(flattenParams(set.params), selector));
}

/**
 * Flattens nested parameters into `{ "a.b.c": "value" }` with every value as a string: objects by key,
 * list items by index (`a.0`, `a.1.b`), and each list also whole as its JSON text (`a: '["x","y"]'`).
 */
export function flattenParams(params: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (value: unknown, key: string): void => {
    const join = (child: string | number) => (key === '' ? String(child) : `${key}.${child}`);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [child, inner] of Object.entries(value)) walk(inner, join(child));
    } else if (Array.isArray(value)) {
      if (key !== '') out[key] = JSON.stringify(value);
      value.forEach((item, index) => walk(item, join(index)));
    } else if (key !== '') {
      out[key] = String(value);
    }
  };
  walk(params, '');
  return out;
}
