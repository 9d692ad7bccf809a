import type { ClustersGeneratorSpec } from '../app-set/app-set-spec';
import { childPath, type Issue } from '../issues';
import type { TemplateRenderer } from '../render/template-renderer';
import { matchesSelector } from './label-selector';
import { clusterParam, type ClusterSnapshot, type ParamSet } from './param-set';

/**
 * `clusters` generator: one ParamSet per registered cluster whose labels match the selector, in name
 * order. Parameters: `cluster` (`{ name, labels, values }`) and `values`, the generator's own values
 * rendered over the cluster parameters (so `values.url: "https://{{ cluster.name }}.example"` works).
 */
export function evaluateClusters(
  spec: ClustersGeneratorSpec,
  clusters: ReadonlyMap<string, ClusterSnapshot>,
  path: string,
  renderer: TemplateRenderer,
): { sets: ParamSet[]; issues: Issue[] } {
  const sets: ParamSet[] = [];
  const issues: Issue[] = [];
  const selected = [...clusters.values()].filter((c) => matchesSelector(c.labels, spec.selector));
  for (const cluster of selected.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const base = { cluster: clusterParam(cluster) };
    const rendered = renderer.renderTree(spec.values ?? {}, base, childPath(path, 'values'));
    if (rendered.issues.length > 0) {
      issues.push(...rendered.issues.map((i) => ({ ...i, message: `${i.message} (cluster ${cluster.name})` })));
      continue;
    }
    sets.push({ clusterName: cluster.name, params: { ...base, values: rendered.value }, source: `${path}[${cluster.name}]` });
  }
  return { sets, issues };
}
