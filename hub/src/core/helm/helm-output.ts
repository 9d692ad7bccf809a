import { isMap, parseAllDocuments, type Document } from 'yaml';
import { markHelmHooks, type DroppedHook } from './helm-hooks';

const MAX_ALIAS_COUNT = 100;

/** The objects of one `helm template` run, ready to become an App's manifests. */
export type HelmOutput =
  | { readonly ok: true; readonly manifests: readonly Record<string, unknown>[]; readonly dropped: readonly DroppedHook[] }
  | { readonly ok: false; readonly message: string };

/**
 * Parses the YAML stream `helm template` printed into objects (empty documents and `# Source:`
 * comments skipped), marks hooks as phases (see helm-hooks.ts) and, with `createNamespace`, puts a
 * Namespace object first. The text is parsed as data only: nothing in it is ever templated again, so a
 * `{{ }}` a chart meant literally arrives as written.
 */
export function readHelmOutput(text: string, options: { readonly namespace: string; readonly createNamespace: boolean }): HelmOutput {
  const docs = parseAllDocuments(text, { uniqueKeys: false, prettyErrors: false }) as Document[] | { empty: true };
  const objects: Record<string, unknown>[] = [];
  for (const [index, doc] of (Array.isArray(docs) ? docs : []).entries()) {
    const error = doc.errors[0];
    if (error) return { ok: false, message: `the chart rendered invalid YAML (document ${index}): ${error.message.split('\n')[0]}` };
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch {
      return { ok: false, message: `the chart rendered document ${index} with too many YAML aliases.` };
    }
    if (value === null || value === undefined) continue;
    if (!isMap(doc.contents)) return { ok: false, message: `the chart rendered document ${index} that is not a Kubernetes object (a mapping).` };
    objects.push(value as Record<string, unknown>);
  }
  const { manifests, dropped } = markHelmHooks(objects);
  const withNamespace = options.createNamespace && !manifests.some((m) => m['kind'] === 'Namespace' && (m['metadata'] as { name?: unknown } | undefined)?.name === options.namespace);
  const namespaceObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: options.namespace } };
  return { ok: true, manifests: withNamespace ? [namespaceObject, ...manifests] : manifests, dropped };
}

/** One `helm template` run, as data: what decides its output (and its cache key). */
export interface HelmTemplateRequest {
  readonly releaseName: string;
  readonly namespace: string;
  /** Local paths of values files inside the unpacked chart, in order, then the values file of `values`. */
  readonly valueFiles: readonly string[];
  readonly includeCrds: boolean;
  readonly kubeVersion?: string;
  readonly apiVersions?: readonly string[];
}

/**
 * The argument list of `helm template` for a local, dependency-complete chart: no repository flags,
 * no `--dependency-update`, so helm reads nothing but the chart and the values files. Tests are skipped
 * (`--skip-tests`); CRDs are included unless asked not to.
 */
export function helmTemplateArgs(chartPath: string, request: HelmTemplateRequest): string[] {
  const args = ['template', request.releaseName, chartPath, '--namespace', request.namespace, '--skip-tests'];
  if (request.includeCrds) args.push('--include-crds');
  if (request.kubeVersion !== undefined) args.push('--kube-version', request.kubeVersion);
  for (const api of request.apiVersions ?? []) args.push('--api-versions', api);
  for (const file of request.valueFiles) args.push('--values', file);
  return args;
}
