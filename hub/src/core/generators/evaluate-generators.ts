import type { GeneratorSpec, GeneratorTemplateSpec } from '../app-set/app-set-spec';
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
    const nested = nestedTemplates(generator, path);
    if (nested.length > 0) {
      issues.push(...nested);
      continue;
    }
    const result = evaluateGenerator(generator, path, undefined, context);
    const template = templateOf(generator);
    for (const set of result.sets) {
      if (set.clusterName === undefined) {
        issues.push(issue('NO_TARGET_CLUSTER', sourcePath(set.source), `The parameter set from ${set.source} names no target cluster.`));
      } else sets.push(template ? { ...set, template: { spec: template, path: childPath(childPath(path, kindOf(generator)), 'template') } } : set);
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

/** The kind key of a generator (`list`, `clusters`, `git`, `matrix`, `merge`). */
function kindOf(generator: GeneratorSpec): 'list' | 'clusters' | 'git' | 'matrix' | 'merge' {
  if ('list' in generator) return 'list';
  if ('clusters' in generator) return 'clusters';
  if ('git' in generator) return 'git';
  if ('matrix' in generator) return 'matrix';
  return 'merge';
}

/** A generator's own `template` (Argo CD's generator template), if it has one. */
function templateOf(generator: GeneratorSpec): GeneratorTemplateSpec | undefined {
  if ('list' in generator) return generator.list.template;
  if ('clusters' in generator) return generator.clusters.template;
  if ('git' in generator) return generator.git.template;
  if ('matrix' in generator) return generator.matrix.template;
  return generator.merge.template;
}

/**
 * A `template` on a generator inside `matrix` or `merge` is an issue: Argo CD ignores it silently
 * (its documented restriction); here it is said, so that a ported AppSet does not lose it unnoticed.
 */
function nestedTemplates(generator: GeneratorSpec, path: string): Issue[] {
  const children = 'matrix' in generator ? generator.matrix.generators : 'merge' in generator ? generator.merge.generators : [];
  const kind = kindOf(generator);
  return children.flatMap((child, index) => {
    const at = childPath(childPath(childPath(path, kind), 'generators'), index);
    const own = templateOf(child)
      ? [issue('NESTED_TEMPLATE_OVERRIDE', childPath(childPath(at, kindOf(child)), 'template'), 'A generator template is only applied on a top-level generator; move it to the top-level matrix or merge (Argo CD ignores it silently).')]
      : [];
    return [...own, ...nestedTemplates(child, at)];
  });
}
