import { canonicalJson, revisionOf } from '@flotilla/proto';
import { resolveSyncPolicy, type AppSetDocument, type SyncPolicy } from './app-set/app-set-spec';
import { evaluateGenerators } from './generators/evaluate-generators';
import { sourcePath, type ClusterSnapshot } from './generators/param-set';
import { childPath, issue, type Issue } from './issues';
import { applyOverrides } from './overrides/apply-overrides';
import { DEFAULT_RENDER_LIMITS, TemplateRenderer, type RenderLimits } from './render/template-renderer';

/** Caps on one expansion. */
export interface ExpansionLimits extends RenderLimits {
  /** Most ParamSets (and so Apps) one AppSet may produce. */
  readonly maxParamSets: number;
  /** Largest canonical JSON of one App's manifests, in bytes. */
  readonly maxAppBytes: number;
}

export const DEFAULT_EXPANSION_LIMITS: ExpansionLimits = {
  ...DEFAULT_RENDER_LIMITS,
  maxParamSets: 100_000,
  maxAppBytes: 1024 * 1024,
};

/** One rendered App for one cluster. */
export interface RenderedApp {
  readonly clusterName: string;
  readonly appName: string;
  /** Namespace for namespaced objects that name none ('' when the template names none). */
  readonly namespace: string;
  readonly manifests: readonly Record<string, unknown>[];
  /** sha256 of the canonical JSON of `manifests`. */
  readonly revision: string;
  /** Size of the canonical JSON of `manifests`, in bytes. */
  readonly manifestBytes: number;
  readonly syncPolicy: SyncPolicy;
  /** Generator elements that produced this App's parameters. */
  readonly source: string;
}

/** The outcome of an expansion: either every App, or issues and no Apps at all. */
export interface Expansion {
  readonly apps: readonly RenderedApp[];
  readonly issues: readonly Issue[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Expands an AppSet over a resolved cluster snapshot: evaluates the generators, renders the template
 * once per ParamSet, applies the per-cluster `overrides`, hashes each App's manifests. All or nothing: when any issue is found the result
 * has no Apps, so a partial expansion can never be staged. Output is sorted by (cluster, app).
 */
export function expandAppSet(
  document: AppSetDocument,
  clusters: readonly ClusterSnapshot[],
  limits: ExpansionLimits = DEFAULT_EXPANSION_LIMITS,
): Expansion {
  const renderer = new TemplateRenderer(limits);
  const byName = new Map(clusters.map((c) => [c.name, c]));
  const generated = evaluateGenerators(document.spec.generators, byName, renderer, limits.maxParamSets);
  const issues: Issue[] = [...generated.issues];
  const syncPolicy = resolveSyncPolicy(document.spec.syncPolicy);
  const template = document.spec.template;
  const apps = new Map<string, RenderedApp>();

  for (const set of generated.sets) {
    // evaluateGenerators only returns sets with a target.
    const clusterName = set.clusterName ?? '';
    const rendered = renderer.renderTree(
      { name: template.name ?? document.metadata.name, namespace: template.namespace ?? '', manifests: template.manifests },
      set.params,
      'spec.template',
    );
    const found = rendered.issues.map((i) => ({ ...i, message: `${i.message} (cluster ${clusterName}, from ${set.source})` }));
    const value = rendered.value as { name: unknown; namespace: unknown; manifests: Record<string, unknown>[] };
    const appName = String(value.name);
    const namespace = String(value.namespace);
    if (found.length === 0 && template.overrides && template.overrides.length > 0) {
      const target = { labels: byName.get(clusterName)?.labels ?? {}, params: set.params };
      const patched = applyOverrides(value.manifests, template.overrides, target, renderer);
      found.push(...patched.issues.map((i) => ({ ...i, message: `${i.message} (cluster ${clusterName}, from ${set.source})` })));
      value.manifests = patched.manifests;
    }
    if (found.length === 0) found.push(...checkApp(appName, namespace, value.manifests, clusterName));
    if (found.length > 0) {
      issues.push(...found);
      continue;
    }
    const key = `${clusterName}\u0000${appName}`;
    const previous = apps.get(key);
    if (previous) {
      issues.push(
        issue('DUPLICATE_APP', sourcePath(set.source), `App "${appName}" on cluster ${clusterName} is generated twice (by ${set.source}, also by ${previous.source}).`),
      );
      continue;
    }
    const json = canonicalJson(value.manifests);
    const manifestBytes = Buffer.byteLength(json, 'utf8');
    if (manifestBytes > limits.maxAppBytes) {
      issues.push(
        issue('APP_TOO_LARGE', 'spec.template.manifests', `App "${appName}" on cluster ${clusterName} renders to ${manifestBytes} bytes; the limit is ${limits.maxAppBytes}.`),
      );
      continue;
    }
    apps.set(key, {
      clusterName,
      appName,
      namespace,
      manifests: value.manifests,
      revision: revisionOf(value.manifests),
      manifestBytes,
      syncPolicy,
      source: set.source,
    });
  }
  if (issues.length > 0) return { apps: [], issues: dedupe(issues) };
  const sorted = [...apps.values()].sort((a, b) => compare(a.clusterName, b.clusterName) || compare(a.appName, b.appName));
  return { apps: sorted, issues: [] };
}

function checkApp(appName: string, namespace: string, manifests: readonly Record<string, unknown>[], cluster: string): Issue[] {
  const issues: Issue[] = [];
  if (!DNS_LABEL.test(appName) || appName.length > 63) {
    issues.push(issue('INVALID_APP_NAME', 'spec.template.name', `App name "${appName}" (cluster ${cluster}) must be a DNS-1123 label.`));
  }
  if (namespace !== '' && (!DNS_LABEL.test(namespace) || namespace.length > 63)) {
    issues.push(issue('INVALID_NAMESPACE', 'spec.template.namespace', `Namespace "${namespace}" (cluster ${cluster}) must be a DNS-1123 label.`));
  }
  const identities = new Set<string>();
  manifests.forEach((manifest, index) => {
    const path = childPath('spec.template.manifests', index);
    const metadata = (manifest['metadata'] ?? {}) as Record<string, unknown>;
    const id = [manifest['apiVersion'], manifest['kind'], metadata['namespace'] ?? namespace, metadata['name']].join('/');
    for (const field of ['apiVersion', 'kind'] as const) {
      if (typeof manifest[field] !== 'string' || manifest[field] === '') {
        issues.push(issue('INVALID_MANIFEST', childPath(path, field), `${field} must render to a non-empty string (cluster ${cluster}).`));
      }
    }
    if (typeof metadata['name'] !== 'string' || metadata['name'] === '') {
      issues.push(issue('INVALID_MANIFEST', childPath(path, 'metadata.name'), `metadata.name must render to a non-empty string (cluster ${cluster}).`));
    }
    if (identities.has(id)) issues.push(issue('DUPLICATE_OBJECT', path, `The object ${id} appears twice in App "${appName}" (cluster ${cluster}).`));
    identities.add(id);
  });
  return issues;
}

function dedupe(issues: readonly Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.code}|${i.path}|${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
