import { canonicalJson } from '@flotilla/proto';
import type { MergeGeneratorSpec } from '../app-set/app-set-spec';
import { childPath, issue, type Issue } from '../issues';
import { mergeParams, type EvaluateChild } from './matrix';
import type { Evaluated, ParamSet } from './param-set';

/**
 * `merge` generator (Argo CD semantics): the first child is the base. For each set of a later child,
 * the base sets whose values at every merge key are equal (keys are dotted parameter paths such as
 * `cluster.name` or `env`, compared by canonical JSON) take its parameters, deep-merged as Argo CD
 * does: objects on both sides are merged at every depth, and on a conflicting leaf the later set wins. Later sets matching no base set are
 * dropped; base sets matching none stay unchanged; base sets lacking a merge key never match. Two
 * sets of one child with equal merge-key values is `DUPLICATE_MERGE_KEY`. Merging sets that target
 * different clusters is `CONFLICTING_TARGET`. Output keeps the base order and the base sources.
 */
export function evaluateMerge(
  spec: MergeGeneratorSpec,
  path: string,
  inherited: Readonly<Record<string, unknown>> | undefined,
  evaluate: EvaluateChild,
): Evaluated {
  const issues: Issue[] = [];
  const generatorsPath = childPath(path, 'generators');
  const results = spec.generators.map((child, index) => evaluate(child, childPath(generatorsPath, index), inherited));
  for (const result of results) issues.push(...result.issues);
  if (issues.length > 0) return { sets: [], issues };

  const base = [...results[0]!.sets];
  const baseIndex = indexByKey(base, spec.mergeKeys, childPath(generatorsPath, 0), issues);
  results.slice(1).forEach((result, offset) => {
    const later = indexByKey(result.sets, spec.mergeKeys, childPath(generatorsPath, offset + 1), issues);
    for (const [key, at] of later) {
      const set = result.sets[at]!;
      const position = baseIndex.get(key);
      if (position === undefined) continue;
      const merged = mergeSets(base[position]!, set);
      if (typeof merged === 'string') issues.push(issue('CONFLICTING_TARGET', path, merged));
      else base[position] = merged;
    }
  });
  return issues.length > 0 ? { sets: [], issues } : { sets: base, issues };
}

/** Maps merge-key values to positions in `sets`; sets lacking a key are left out. */
function indexByKey(sets: readonly ParamSet[], keys: readonly string[], path: string, issues: Issue[]): Map<string, number> {
  const out = new Map<string, number>();
  sets.forEach((set, position) => {
    const values = keys.map((key) => valueAt(set.params, key));
    if (values.some((v) => v === undefined)) return;
    const key = canonicalJson(values);
    if (out.has(key)) {
      issues.push(issue('DUPLICATE_MERGE_KEY', path, `Two parameter sets (${set.source} and another) have the same merge-key values.`));
      return;
    }
    out.set(key, position);
  });
  return out;
}

/** The value at a dotted path (`cluster.name`), or undefined. */
function valueAt(params: Readonly<Record<string, unknown>>, dotted: string): unknown {
  let current: unknown = params;
  for (const part of dotted.split('.')) {
    if (!isPlainObject(current) || !Object.prototype.hasOwnProperty.call(current, part)) return undefined;
    current = current[part];
  }
  return current;
}

function mergeSets(base: ParamSet, set: ParamSet): ParamSet | string {
  if (base.clusterName !== undefined && set.clusterName !== undefined && base.clusterName !== set.clusterName) {
    return `${base.source} targets cluster ${base.clusterName} but ${set.source} targets cluster ${set.clusterName}.`;
  }
  // Argo CD merges with mergo's override: deep, the later set winning.
  const params = mergeParams(set.params, base.params);
  if (base.clusterName !== undefined) params['cluster'] = base.params['cluster'];
  const clusterName = base.clusterName ?? set.clusterName;
  // The base source names the set in issues; explain lists every element that contributed.
  const origins = [...base.origins, ...set.origins];
  return clusterName === undefined ? { params, source: base.source, origins } : { clusterName, params, source: base.source, origins };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
