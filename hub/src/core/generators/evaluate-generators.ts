import type { GeneratorSpec } from '../app-set/app-set-spec';
import { childPath, issue, type Issue } from '../issues';
import type { TemplateRenderer } from '../render/template-renderer';
import { evaluateClusters } from './clusters';
import { evaluateGit } from './git';
import type { GitInputs } from './git-snapshot';
import { evaluateList } from './list';
import { evaluateMatrix } from './matrix';
import { evaluateMerge } from './merge';
import { sourcePath, type ClusterSnapshot, type Evaluated, type ParamSet } from './param-set';
import { filterBySelector } from './post-selector';

/** What every generator evaluation shares. */
export interface GeneratorContext {
  readonly clusters: ReadonlyMap<string, ClusterSnapshot>;
  readonly renderer: TemplateRenderer;
  readonly maxParamSets: number;
  /** Git trees and files for `git` generators; records what it lacks. */
  readonly git: GitInputs;
}

/**
 * Evaluates the top-level generators of an AppSet over a resolved snapshot and returns the union of
 * their ParamSets in generator order. Stops adding sets once `maxParamSets` is exceeded and reports it:
 * an exploded generator never yields a partial result that could be staged. A top-level set without a
 * target cluster is the issue `NO_TARGET_CLUSTER`.
 */
export function evaluateGenerators(generators: readonly GeneratorSpec[], context: GeneratorContext): { sets: ParamSet[]; issues: Issue[] } {
  const { maxParamSets } = context;
  const sets: ParamSet[] = [];
  const issues: Issue[] = [];
  for (const [index, generator] of generators.entries()) {
    const path = childPath('spec.generators', index);
    const result = evaluateGenerator(generator, path, undefined, context);
    for (const set of result.sets) {
      if (set.clusterName === undefined) {
        issues.push(issue('NO_TARGET_CLUSTER', sourcePath(set.source), `The parameter set from ${set.source} names no target cluster.`));
      } else sets.push(set);
    }
    issues.push(...result.issues);
    if (sets.length > maxParamSets) {
      issues.push(issue('TOO_MANY_PARAM_SETS', path, `The generators produce more than ${maxParamSets} parameter sets.`));
      return { sets: [], issues };
    }
  }
  return { sets, issues };
}

/**
 * Evaluates one generator (any kind, nested or not) at `path`, then applies its post `selector`.
 * `inherited` holds the parameters of earlier matrix children (undefined outside a matrix).
 */
export function evaluateGenerator(
  generator: GeneratorSpec,
  path: string,
  inherited: Readonly<Record<string, unknown>> | undefined,
  context: GeneratorContext,
): Evaluated {
  const child = (g: GeneratorSpec, at: string, params: Readonly<Record<string, unknown>> | undefined): Evaluated =>
    evaluateGenerator(g, at, params, context);
  let result: Evaluated;
  if ('list' in generator) result = evaluateList(generator.list, context.clusters, childPath(path, 'list'), context.renderer, inherited);
  else if ('clusters' in generator) result = evaluateClusters(generator.clusters, context.clusters, childPath(path, 'clusters'), context.renderer, inherited);
  else if ('git' in generator) result = evaluateGit(generator.git, childPath(path, 'git'), inherited, context);
  else if ('matrix' in generator) result = evaluateMatrix(generator.matrix, childPath(path, 'matrix'), inherited, context.maxParamSets, child);
  else result = evaluateMerge(generator.merge, childPath(path, 'merge'), inherited, child);
  return { sets: filterBySelector(result.sets, generator.selector), issues: result.issues };
}
