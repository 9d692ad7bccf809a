import type { ListGeneratorSpec } from '../app-set/app-set-spec';
import { parseAllDocuments, type Document } from 'yaml';
import { childPath, issue, type Issue } from '../issues';
import type { TemplateRenderer } from '../render/template-renderer';
import { clusterParam, type ClusterSnapshot, type Evaluated, type ParamSet } from './param-set';

/** Most YAML alias expansions in `elementsYaml` (guards against "billion laughs"). */
const MAX_ALIAS_COUNT = 100;

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
  if (spec.elementsYaml !== undefined) {
    const at = childPath(path, 'elementsYaml');
    const more = yamlElements(spec.elementsYaml, at, renderer, inherited);
    if ('code' in more) issues.push(more);
    else {
      more.forEach((element, index) => {
        const elementPath = `${at}[${index}]`;
        const target = targetOf(element, clusters, childPath(elementPath, 'cluster'));
        if ('code' in target) issues.push(target);
        else sets.push({ ...target, source: elementPath, origins: [{ generator: path, element: `elementsYaml[${index}]` }] });
      });
    }
  }
  return { sets, issues };
}

/**
 * The elements of Argo CD's `elementsYaml`: inside a matrix the text is first rendered over the
 * earlier children's parameters (typically `{{ app.components | toJson }}`); at the top level it is
 * literal, like `elements`. The result must be a YAML/JSON list of objects (empty or `null`: none).
 * The elements are parameters, never rendered again.
 */
function yamlElements(text: string, at: string, renderer: TemplateRenderer, inherited: Readonly<Record<string, unknown>> | undefined): Record<string, unknown>[] | Issue {
  let source = text;
  if (inherited) {
    const rendered = renderer.renderTree(text, inherited, at);
    if (rendered.issues.length > 0) return rendered.issues[0]!;
    source = String(rendered.value);
  }
  const docs = parseAllDocuments(source, { uniqueKeys: true, prettyErrors: false }) as Document[] | { empty: true };
  if (!Array.isArray(docs) || docs.length === 0) return [];
  if (docs.length > 1) return issue('INVALID_ELEMENTS_YAML', at, `elementsYaml holds ${docs.length} YAML documents; expected one list of objects.`);
  const doc = docs[0]!;
  const error = doc.errors[0];
  if (error) return issue('INVALID_ELEMENTS_YAML', at, `elementsYaml is not valid YAML or JSON: ${(error.message.split('\n')[0] ?? '').slice(0, 200)}`);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch {
    return issue('INVALID_ELEMENTS_YAML', at, 'elementsYaml expands too many YAML aliases.');
  }
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value) || value.some((item) => item === null || typeof item !== 'object' || Array.isArray(item))) {
    return issue('INVALID_ELEMENTS_YAML', at, 'elementsYaml must be a list of objects.');
  }
  return value as Record<string, unknown>[];
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
