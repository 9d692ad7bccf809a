import type { GeneratorSpec, MatrixGeneratorSpec } from '../app-set/app-set-spec';
import { childPath, issue, type Issue } from '../issues';
import { SOURCE_SEPARATOR, type Evaluated, type ParamSet } from './param-set';

/** Evaluates one child generator at `path` with the parameters of earlier matrix children. */
export type EvaluateChild = (generator: GeneratorSpec, path: string, inherited: Readonly<Record<string, unknown>> | undefined) => Evaluated;

/**
 * `matrix` generator: the Cartesian product of its children's ParamSets, in child order (the first
 * child varies slowest). Each later child is evaluated once per combination of the earlier ones, with
 * their merged parameters as `inherited`, so its spec may use them (`matchLabels: { region: "{{ region }}" }`).
 * Parameters are deep-merged as Argo CD does in goTemplate mode (see {@link mergeParams}): nested
 * objects from every child survive, and on a conflicting leaf the earlier child wins. `cluster` is the
 * exception: it comes from whichever child targets a cluster; two children targeting different clusters
 * is the issue `CONFLICTING_TARGET`. More than `maxParamSets` combinations is `TOO_MANY_PARAM_SETS` and
 * yields no sets.
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
      // Parameters of an outer matrix's earlier children come first, so they win as they will when it joins.
      const result = evaluate(child, childPath(generatorsPath, index), index === 0 ? inherited : mergeParams(inherited ?? {}, combo.params));
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
  const params = mergeParams(combo.params, set.params);
  const clusterName = combo.clusterName ?? set.clusterName;
  if (combo.clusterName !== undefined) params['cluster'] = combo.params['cluster'];
  else if (set.clusterName !== undefined) params['cluster'] = set.params['cluster'];
  else delete params['cluster'];
  const source = combo.source === '' ? set.source : `${combo.source}${SOURCE_SEPARATOR}${set.source}`;
  const origins = [...combo.origins, ...set.origins];
  return clusterName === undefined ? { params, source, origins } : { clusterName, params, source, origins };
}

/**
 * Argo CD's matrix merge in goTemplate mode: a deep merge of two parameter objects in which `first`
 * wins. Keys of either side are kept; where both hold a plain object the two are merged the same way,
 * recursively; anywhere else (a string, a number, a list) the value of `first` is kept. Unlike Argo CD
 * (mergo, which lets an empty value be overwritten), an empty string, `0` or `false` of `first` wins
 * too: "the first child wins" holds for every value. Returns a new object; never mutates either side.
 */
export function mergeParams(first: Readonly<Record<string, unknown>>, later: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...later };
  for (const [key, value] of Object.entries(first)) {
    const other = out[key];
    out[key] = isPlainObject(value) && isPlainObject(other) ? mergeParams(value, other) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
