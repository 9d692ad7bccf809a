import type { ListGeneratorSpec } from '../app-set/app-set-spec';
import { childPath, issue, type Issue } from '../issues';
import { clusterParam, type ClusterSnapshot, type ParamSet } from './param-set';

/**
 * `list` generator: each element is one ParamSet. The element's `cluster` key names the target; it is
 * replaced in the parameters by the registered cluster's object so templates use `{{ cluster.name }}`
 * whichever generator they come from. An element naming an unregistered cluster is an issue.
 */
export function evaluateList(
  spec: ListGeneratorSpec,
  clusters: ReadonlyMap<string, ClusterSnapshot>,
  path: string,
): { sets: ParamSet[]; issues: Issue[] } {
  const sets: ParamSet[] = [];
  const issues: Issue[] = [];
  spec.elements.forEach((element, index) => {
    const at = childPath(childPath(path, 'elements'), index);
    const name = element['cluster'];
    const cluster = typeof name === 'string' ? clusters.get(name) : undefined;
    if (!cluster) {
      issues.push(issue('UNKNOWN_CLUSTER', childPath(at, 'cluster'), `Cluster "${String(name)}" is not registered.`));
      return;
    }
    sets.push({ clusterName: cluster.name, params: { ...element, cluster: clusterParam(cluster) }, source: at });
  });
  return { sets, issues };
}
