import type { GeneratorSpec } from '../app-set/app-set-spec';
import { childPath, issue, type Issue } from '../issues';
import type { TemplateRenderer } from '../render/template-renderer';
import { evaluateClusters } from './clusters';
import { evaluateList } from './list';
import type { ClusterSnapshot, ParamSet } from './param-set';

/**
 * Evaluates the top-level generators of an AppSet over a resolved snapshot and returns the union of
 * their ParamSets in generator order. Stops adding sets once `maxParamSets` is exceeded and reports it:
 * an exploded generator never yields a partial result that could be staged.
 */
export function evaluateGenerators(
  generators: readonly GeneratorSpec[],
  clusters: ReadonlyMap<string, ClusterSnapshot>,
  renderer: TemplateRenderer,
  maxParamSets: number,
): { sets: ParamSet[]; issues: Issue[] } {
  const sets: ParamSet[] = [];
  const issues: Issue[] = [];
  for (const [index, generator] of generators.entries()) {
    const path = childPath('spec.generators', index);
    const result =
      'list' in generator
        ? evaluateList(generator.list, clusters, childPath(path, 'list'))
        : evaluateClusters(generator.clusters, clusters, childPath(path, 'clusters'), renderer);
    sets.push(...result.sets);
    issues.push(...result.issues);
    if (sets.length > maxParamSets) {
      issues.push(issue('TOO_MANY_PARAM_SETS', path, `The generators produce more than ${maxParamSets} parameter sets.`));
      return { sets: [], issues };
    }
  }
  return { sets, issues };
}
