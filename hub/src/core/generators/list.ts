import type { ListGeneratorSpec } from '../app-set/app-set-spec';
import { childPath, issue, type Issue } from '../issues';
import type { TemplateRenderer } from '../render/template-renderer';
import { clusterParam, type ClusterSnapshot, type Evaluated, type ParamSet } from './param-set';

/**
 * `list` generator: each element is one ParamSet. The element's `cluster` key names the target; it is
 * replaced in the parameters by the registered cluster's object so templates use `{{ cluster.name }}`
 * whichever generator they come from. An element naming an unregistered cluster is an issue; an
 * element without `cluster` yields a set without a target (for use inside `matrix` or `merge`).
 *
 * `inherited` holds the parameters of earlier matrix children: when given, every string leaf of each
 * element is rendered over them first. At the top level (no `inherited`) elements are taken literally.
 */
export function evaluateList(
  spec: ListGeneratorSpec,
  clusters: ReadonlyMap<string, ClusterSnapshot>,
  path: string,
  renderer: TemplateRenderer,
  inherited?: Readonly<Record<string, unknown>>,
): Evaluated {
  const sets: ParamSet[] = [];
  const issues: Issue[] = [];
  spec.elements.forEach((raw, index) => {
    const at = childPath(childPath(path, 'elements'), index);
    let element = raw;
    if (inherited) {
      const rendered = renderer.renderTree(raw, inherited, at);
      if (rendered.issues.length > 0) {
        issues.push(...rendered.issues);
        return;
      }
      element = rendered.value as Record<string, unknown>;
    }
    const origins = [{ generator: path, element: `elements[${index}]` }];
    const target = targetOf(element, clusters, childPath(at, 'cluster'));
    if ('code' in target) issues.push(target);
    else sets.push({ ...target, source: at, origins });
  });
  return { sets, issues };
}

/**
 * The target of a parameter object that may name a cluster: without a `cluster` key, no target; with a
 * registered cluster's name, that cluster, its name replaced in the parameters by the cluster object;
 * anything else is `UNKNOWN_CLUSTER` at `at`. Shared by `list` elements and `git` files.
 */
export function targetOf(
  element: Readonly<Record<string, unknown>>,
  clusters: ReadonlyMap<string, ClusterSnapshot>,
  at: string,
): Pick<ParamSet, 'clusterName' | 'params'> | Issue {
  if (!Object.prototype.hasOwnProperty.call(element, 'cluster')) return { params: { ...element } };
  const name = element['cluster'];
  const cluster = typeof name === 'string' ? clusters.get(name) : undefined;
  if (!cluster) {
    const shown = typeof name === 'string' ? `"${name.slice(0, 80)}"` : `(a ${Array.isArray(name) ? 'list' : typeof name})`;
    return issue('UNKNOWN_CLUSTER', at, `Cluster ${shown} is not registered; \`cluster\` must name a registered cluster.`);
  }
  return { clusterName: cluster.name, params: { ...element, cluster: clusterParam(cluster) } };
}
