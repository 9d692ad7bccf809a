import type { ClustersGeneratorSpec, LabelSelector } from '../app-set/app-set-spec';
import { childPath, type Issue } from '../issues';
import type { TemplateRenderer } from '../render/template-renderer';
import { matchesSelector } from './label-selector';
import { clusterParam, type ClusterSnapshot, type Evaluated, type ParamSet } from './param-set';

/**
 * `clusters` generator: one ParamSet per registered cluster whose labels match the selector, in name
 * order. Parameters: `cluster` (`{ name, labels, values }`) and `values`, the generator's own values
 * rendered over the cluster parameters (so `values.url: "https://{{ cluster.name }}.example"` works).
 *
 * `inherited` holds the parameters of earlier matrix children: when given, the selector's string leaves
 * are rendered over them (`matchLabels: { region: "{{ region }}" }`) and `values` see them too.
 */
export function evaluateClusters(
  spec: ClustersGeneratorSpec,
  clusters: ReadonlyMap<string, ClusterSnapshot>,
  path: string,
  renderer: TemplateRenderer,
  inherited?: Readonly<Record<string, unknown>>,
): Evaluated {
  const sets: ParamSet[] = [];
  const issues: Issue[] = [];
  let selector = spec.selector;
  if (inherited && selector) {
    const rendered = renderer.renderTree(selector, inherited, childPath(path, 'selector'));
    if (rendered.issues.length > 0) return { sets, issues: rendered.issues };
    selector = rendered.value as LabelSelector;
  }
  const selected = [...clusters.values()].filter((c) => matchesSelector(c.labels, selector));
  for (const cluster of selected.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const base = { cluster: clusterParam(cluster) };
    const rendered = renderer.renderTree(spec.values ?? {}, { ...inherited, ...base }, childPath(path, 'values'));
    if (rendered.issues.length > 0) {
      issues.push(...rendered.issues.map((i) => ({ ...i, message: `${i.message} (cluster ${cluster.name})` })));
      continue;
    }
    sets.push({
      clusterName: cluster.name,
      params: { ...base, values: rendered.value },
      source: `${path}[${cluster.name}]`,
      origins: [{ generator: path, element: cluster.name }],
    });
  }
  return { sets, issues };
}
