import type { LabelSelector } from '../app-set/app-set-spec';

/**
 * True when `labels` satisfy every clause of `selector` (Kubernetes semantics: clauses are ANDed;
 * `In`/`NotIn` compare against `values`; `NotIn` and `DoesNotExist` match a missing label; an empty
 * or absent selector matches everything).
 */
export function matchesSelector(labels: Readonly<Record<string, string>>, selector: LabelSelector | undefined): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const requirement of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, requirement.key);
    const value = labels[requirement.key];
    const values = requirement.values ?? [];
    switch (requirement.operator) {
      case 'In':
        if (!has || !values.includes(value!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(value!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}
