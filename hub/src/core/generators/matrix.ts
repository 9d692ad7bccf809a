import type { GeneratorSpec, MatrixGeneratorSpec } from '../app-set/app-set-spec';
import { childPath, issue, type Issue } from '../issues';
import { SOURCE_SEPARATOR, type Evaluated, type ParamSet } from './param-set';

/** Evaluates one child generator at `path` with the parameters of earlier matrix children. */
export type EvaluateChild = (generator: GeneratorSpec, path: string, inherited: Readonly<Record<string, unknown>> | undefined) => Evaluated;

/**
 * `matrix` generator: the Cartesian product of its children's ParamSets, in child order (the first
 * child varies slowest). Each later child is evaluated once per combination of the earlier ones, with
 * their merged parameters as `inherited`, so its spec may use them (`matchLabels: { region: "{{ region }}" }`).
 * Parameters merge left to right (later keys win) except `cluster`, which comes from whichever child
 * targets a cluster; two children targeting different clusters is the issue `CONFLICTING_TARGET`.
 * More than `maxParamSets` combinations is `TOO_MANY_PARAM_SETS` and yields no sets.
 */
export function evaluateMatrix(
  spec: MatrixGeneratorSpec,
  path: string,
  inherited: Readonly<Record<string, unknown>> | undefined,
  maxParamSets: number,
  evaluate: EvaluateChild,
): Evaluated {
  const issues: Issue[] = [];
  const generatorsPath = childPath(path, 'generators');
  let combos: ParamSet[] = [{ params: {}, source: '', origins: [] }];
  for (const [index, child] of spec.generators.entries()) {
    const next: ParamSet[] = [];
    for (const combo of combos) {
      const result = evaluate(child, childPath(generatorsPath, index), index === 0 ? inherited : { ...inherited, ...combo.params });
      issues.push(...result.issues);
      for (const set of result.sets) {
        const joined = joinSets(combo, set);
        if (typeof joined === 'string') {
          issues.push(issue('CONFLICTING_TARGET', path, joined));
          continue;
        }
        next.push(joined);
      }
      if (next.length > maxParamSets) {
        issues.push(issue('TOO_MANY_PARAM_SETS', path, `The matrix produces more than ${maxParamSets} parameter sets.`));
        return { sets: [], issues };
      }
    }
    combos = next;
  }
  return issues.length > 0 ? { sets: [], issues } : { sets: combos, issues };
}

/** Merges a later set into a combination, or explains why the two target different clusters. */
function joinSets(combo: ParamSet, set: ParamSet): ParamSet | string {
  if (combo.clusterName !== undefined && set.clusterName !== undefined && combo.clusterName !== set.clusterName) {
    return `${combo.source} targets cluster ${combo.clusterName} but ${set.source} targets cluster ${set.clusterName}.`;
  }
  const params: Record<string, unknown> = { ...combo.params, ...set.params };
  const clusterName = combo.clusterName ?? set.clusterName;
  if (combo.clusterName !== undefined) params['cluster'] = combo.params['cluster'];
  else if (set.clusterName === undefined) delete params['cluster'];
  const source = combo.source === '' ? set.source : `${combo.source}${SOURCE_SEPARATOR}${set.source}`;
  const origins = [...combo.origins, ...set.origins];
  return clusterName === undefined ? { params, source, origins } : { clusterName, params, source, origins };
}
