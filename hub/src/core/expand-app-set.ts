import { LIMITS, canonicalJson, revisionOf } from '@flotilla/proto';
import { resolveSyncPolicy, type AppSetDocument, type SyncPolicy } from './app-set/app-set-spec';
import { evaluateGenerators } from './generators/evaluate-generators';
import { groupIssues } from './group-issues';
import { KustomizeSources } from './kustomize/kustomize-source';
import { HelmSources } from './helm/helm-render';
import type { ResolvedChart } from './helm/helm-source';
import { DEFAULT_GIT_LIMITS, EMPTY_GIT_SNAPSHOT, GitInputs, type GitLimits, type GitNeed, type GitSnapshot } from './generators/git-snapshot';
import { sourcePath, type ClusterSnapshot, type GitRef, type ParamOrigin, type ParamSet } from './generators/param-set';
import { childPath, issue, type Issue } from './issues';
import { applyOverrides } from './overrides/apply-overrides';
import { effectiveTemplate } from './render/generator-template';
import { ManifestSources, type LoadedSource } from './render/manifest-source';
import { applyTemplatePatch } from './render/template-patch';
import { DEFAULT_RENDER_LIMITS, TemplateRenderer, type RenderLimits } from './render/template-renderer';
import { redactParameters } from './safety/redact';
import { checkSecrets } from './secrets/check-secrets';
import { PLAIN_MARKER, redactText } from './secrets/redaction';
import { secretParameterValues } from './secrets/secret-parameters';

/** Caps on one expansion. */
export interface ExpansionLimits extends RenderLimits, GitLimits {
  /** Most ParamSets (and so Apps) one AppSet may produce. */
  readonly maxParamSets: number;
  /** Largest canonical JSON of one App's manifests, in bytes. */
  readonly maxAppBytes: number;
  /** Longest whole expansion, in milliseconds of `ExpansionInputs.clock` (checked between Apps). */
  readonly maxExpansionMs: number;
}

export const DEFAULT_EXPANSION_LIMITS: ExpansionLimits = {
  ...DEFAULT_RENDER_LIMITS,
  ...DEFAULT_GIT_LIMITS,
  maxParamSets: 100_000,
  maxAppBytes: LIMITS.defaultAppManifestBytes,
  maxExpansionMs: 30_000,
};

/** Resolved inputs besides the clusters. */
export interface ExpansionInputs {
  /** What the service read from Git so far; missing pieces come back as `needs`. */
  readonly git?: GitSnapshot;
  /** Monotonic milliseconds for the `maxExpansionMs` cap; without it the whole expansion is not timed. */
  readonly clock?: () => number;
  /** Values the hub knows are secret: redacted from `explain` wherever they appear. */
  readonly secrets?: readonly string[];
  /** Told what the expansion is working on, so that a watchdog outside can name it if it stops the work. */
  readonly progress?: ExpansionProgress;
}

/**
 * Progress hooks, called synchronously (as plain functions) just before each step; they must be cheap and must not throw.
 * Neither ever receives a parameter value: only cluster names and paths into the AppSet.
 */
export interface ExpansionProgress {
  /** Before the App of the `index`-th (from 0) of `total` ParamSets is rendered. */
  readonly app?: (at: { readonly clusterName: string; readonly source: string; readonly index: number; readonly total: number }) => void;
  /** Before one template string is rendered (generator values included), with its path in the AppSet. */
  readonly leaf?: (path: string) => void;
}

/** Why an App has the parameters it has: what `explain` shows. */
export interface AppExplain {
  /** The generator elements that produced the parameters, in order. */
  readonly sources: readonly ParamOrigin[];
  /** The final parameters, secrets redacted. */
  readonly parameters: Readonly<Record<string, unknown>>;
  /** Every Git commit the App was built from (generators and manifest source), without duplicates. */
  readonly git: readonly GitRef[];
  /** For a `helm` template: the chart pinned for this apply (the same on every cluster). */
  readonly helm?: ResolvedChart;
}

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
  readonly explain: AppExplain;
  /**
   * The literal values of this App's parameters marked secret (`spec.secrets.parameters`), for the
   * output side to redact wherever they were rendered; never stored. Empty when none are marked.
   */
  readonly secretValues?: readonly string[];
}

/**
 * The outcome of an expansion: every App, or issues and no Apps at all, or — when the Git snapshot
 * lacked something — the `needs` to read before expanding again (and nothing else).
 */
export interface Expansion {
  readonly apps: readonly RenderedApp[];
  readonly issues: readonly Issue[];
  readonly needs: readonly GitNeed[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Expands an AppSet over a resolved snapshot (clusters, and Git through `inputs.git`): evaluates the
 * generators, renders the template (inline manifests or `source` manifests from Git) once per
 * ParamSet, applies the per-cluster `overrides`, hashes each App's manifests. All or nothing: when any
 * issue is found the result has no Apps, so a partial expansion can never be staged. When the Git
 * snapshot lacks a tree or a file, the result holds only `needs`: read them, then call again with the
 * larger snapshot. Output is sorted by (cluster, app).
 */
export function expandAppSet(
  document: AppSetDocument,
  clusters: readonly ClusterSnapshot[],
  limits: ExpansionLimits = DEFAULT_EXPANSION_LIMITS,
  inputs: ExpansionInputs = {},
): Expansion {
  const renderer = new TemplateRenderer(limits, inputs.progress?.leaf);
  const git = new GitInputs(inputs.git ?? EMPTY_GIT_SNAPSHOT, limits);
  const byName = new Map(clusters.map((c) => [c.name, c]));
  const generated = evaluateGenerators(document.spec.generators, { clusters: byName, renderer, maxParamSets: limits.maxParamSets, git });
  // Sets evaluated over a partial snapshot may be incomplete: render nothing until Git is all read.
  if (git.needs.length > 0) return { apps: [], issues: [], needs: git.needs };
  const issues: Issue[] = [...generated.issues];
  const syncPolicy = resolveSyncPolicy(document.spec.syncPolicy);
  // One loader per source path in the document (spec.template.source, a generator template's source).
  const loaders = new Map<string, ManifestSources>();
  const sources = (at: string) => loaders.get(at) ?? loaders.set(at, new ManifestSources(git, at)).get(at)!;
  const kustomize = new KustomizeSources(git, inputs.git?.kustomize);
  const helm = new HelmSources(inputs.git?.helm);
  const apps = new Map<string, RenderedApp>();
  const started = inputs.clock?.();
  // Values of parameters marked secret, of every set: no issue message may echo one.
  const secretValues = new Set<string>();

  for (const [index, set] of generated.sets.entries()) {
    if (inputs.clock && started !== undefined && inputs.clock() - started > limits.maxExpansionMs) {
      issues.push(issue('EXPANSION_TIME_LIMIT', 'spec', `Expanding the AppSet took more than ${limits.maxExpansionMs} ms; nothing was staged.`));
      break;
    }
    for (const marked of secretParameterValues(set.params, document.spec.secrets?.parameters ?? [])) secretValues.add(marked.value);
    inputs.progress?.app?.({ clusterName: set.clusterName ?? '', source: set.source, index, total: generated.sets.length });
    const app = renderApp(document, set, byName, renderer, sources, syncPolicy, limits, inputs.secrets ?? [], kustomize, helm);
    if (app === 'pending') continue;
    if (!('appName' in app)) {
      issues.push(...app.issues);
      continue;
    }
    const key = `${app.clusterName}\u0000${app.appName}`;
    const previous = apps.get(key);
    if (previous) {
      issues.push(
        issue('DUPLICATE_APP', sourcePath(set.source), `App "${app.appName}" on cluster ${app.clusterName} is generated twice (by ${set.source}, also by ${previous.source}).`),
      );
      continue;
    }
    apps.set(key, app);
  }
  if (git.needs.length > 0 || kustomize.needs.length > 0 || helm.needs.length > 0) return { apps: [], issues: [], needs: [...git.needs, ...kustomize.needs, ...helm.needs] };
  if (issues.length > 0) return { apps: [], issues: groupIssues(issues.map((i) => ({ ...i, message: redactText(i.message, [...secretValues], PLAIN_MARKER) }))), needs: [] };
  const sorted = [...apps.values()].sort((a, b) => compare(a.clusterName, b.clusterName) || compare(a.appName, b.appName));
  return { apps: sorted, issues: [], needs: [] };
}

/** Renders the App of one ParamSet, or says why it cannot (issues), or that Git input is missing. */
function renderApp(
  document: AppSetDocument,
  set: ParamSet,
  byName: ReadonlyMap<string, ClusterSnapshot>,
  renderer: TemplateRenderer,
  sources: (at: string) => ManifestSources,
  syncPolicy: SyncPolicy,
  limits: ExpansionLimits,
  secrets: readonly string[],
  kustomize: KustomizeSources,
  helm: HelmSources,
): RenderedApp | { issues: Issue[] } | 'pending' {
  // evaluateGenerators only returns sets with a target.
  const clusterName = set.clusterName ?? '';
  const effective = effectiveTemplate(document.spec.template, set.template);
  if ('code' in effective) return { issues: [effective] };
  const { template, pathOf } = effective;
  const where = (found: readonly Issue[]) => found.map((i) => ({ ...i, message: `${i.message} (cluster ${clusterName}, from ${set.source})` }));
  const renderAt = (value: unknown, field: 'name' | 'namespace' | 'manifests') => renderer.renderTree(value, set.params, pathOf(field));
  const parts = [renderAt(template.name ?? document.metadata.name, 'name'), renderAt(template.namespace ?? '', 'namespace'), renderAt(template.manifests ?? [], 'manifests')];
  const found = where(parts.flatMap((part) => part.issues));
  let value = { name: parts[0]!.value, namespace: parts[1]!.value, manifests: parts[2]!.value as Record<string, unknown>[] };
  let paths = value.manifests.map((_, index) => childPath(pathOf('manifests'), index));
  let loaded: LoadedSource | undefined;
  if (template.source) {
    const sourcePath = pathOf('source');
    const at = renderer.renderTree({ revision: template.source.revision, path: template.source.path }, set.params, sourcePath);
    if (at.issues.length > 0) return { issues: [...found, ...where(at.issues)] };
    const source = { ...template.source, ...(at.value as { revision?: string; path: string }) };
    const result = sources(sourcePath).load(source);
    if (result === 'pending') return 'pending';
    if ('code' in result) return { issues: [...found, result] };
    loaded = result;
    for (const sourced of result.manifests) {
      // Manifests from Git are applied as read unless the source opts in: their `{{ }}` usually
      // belongs to another tool (Prometheus rules, Grafana dashboards, Argo Workflows).
      if (source.templated !== true) {
        value.manifests.push(structuredClone(sourced.manifest) as Record<string, unknown>);
        continue;
      }
      const manifest = renderer.renderTree(sourced.manifest, set.params, sourced.path);
      found.push(...where(manifest.issues));
      value.manifests.push(manifest.value as Record<string, unknown>);
    }
    paths = result.manifests.map((m) => m.path);
  }
  if (template.kustomize) {
    const result = kustomize.load(template.kustomize, set.params, renderer);
    if (result === 'pending') return 'pending';
    if ('issues' in result) return { issues: [...found, ...where(result.issues)] };
    loaded = { manifests: [], git: result.git };
    // kustomize's output is applied as rendered: the template language never runs over it.
    value.manifests.push(...result.manifests);
    paths = result.manifests.map((_, index) => `spec.template.kustomize[${index}]`);
  }
  let chart: ResolvedChart | undefined;
  if (template.helm) {
    const result = helm.load(template.helm, { name: String(value.name), namespace: String(value.namespace), clusterName, params: set.params }, renderer);
    if (result === 'pending') return 'pending';
    if ('issues' in result) return { issues: [...found, ...where(result.issues)] };
    chart = result.chart;
    // helm's output is applied as rendered (hooks marked as phases): the template language never runs over it.
    value.manifests.push(...result.manifests);
    paths = result.manifests.map((_, index) => `spec.template.helm[${index}]`);
  }
  if (found.length === 0 && document.spec.templatePatch !== undefined) {
    const patched = applyTemplatePatch(value, document.spec.templatePatch, set.params, renderer);
    if ('issues' in patched) found.push(...where(patched.issues));
    else {
      value = { name: patched.name, namespace: patched.namespace, manifests: [...patched.manifests] };
      // Manifests the patch added are reported at the patch.
      paths = value.manifests.map((_, index) => paths[index] ?? 'spec.templatePatch');
    }
  }
  const appName = String(value.name);
  const namespace = String(value.namespace);
  if (found.length === 0 && template.overrides && template.overrides.length > 0) {
    const target = { labels: byName.get(clusterName)?.labels ?? {}, params: set.params };
    const patched = applyOverrides(value.manifests, template.overrides, target, renderer);
    found.push(...where(patched.issues));
    value.manifests = patched.manifests;
  }
  if (found.length === 0) found.push(...checkApp(appName, namespace, value.manifests, paths, clusterName));
  const marked = secretParameterValues(set.params, document.spec.secrets?.parameters ?? []);
  if (found.length === 0) found.push(...checkSecrets(value.manifests, marked, document.spec.secrets, paths));
  if (found.length > 0) return { issues: found };
  const json = canonicalJson(value.manifests);
  const manifestBytes = Buffer.byteLength(json, 'utf8');
  if (manifestBytes > limits.maxAppBytes) {
    const at = template.source ? pathOf('source') : template.kustomize ? 'spec.template.kustomize' : template.helm ? 'spec.template.helm' : pathOf('manifests');
    return { issues: [issue('APP_TOO_LARGE', at, `App "${appName}" on cluster ${clusterName} renders to ${manifestBytes} bytes; the limit is ${limits.maxAppBytes}.`)] };
  }
  const refs = [...set.origins.flatMap((o) => (o.git ? [o.git] : [])), ...(loaded ? [loaded.git] : [])];
  const git = [...new Map(refs.map((r) => [`${r.repoURL}\u0000${r.revision}\u0000${r.commit}`, r])).values()];
  return {
    clusterName,
    appName,
    namespace,
    manifests: value.manifests,
    revision: revisionOf(value.manifests),
    manifestBytes,
    syncPolicy,
    source: set.source,
    explain: { sources: set.origins, parameters: redactParameters(set.params, [...secrets, ...marked.map((m) => m.value)]), git, ...(chart ? { helm: chart } : {}) },
    secretValues: [...new Set(marked.map((m) => m.value))],
  };
}

function checkApp(appName: string, namespace: string, manifests: readonly Record<string, unknown>[], paths: readonly string[], cluster: string): Issue[] {
  const issues: Issue[] = [];
  if (!DNS_LABEL.test(appName) || appName.length > 63) {
    issues.push(issue('INVALID_APP_NAME', 'spec.template.name', `App name "${appName}" (cluster ${cluster}) must be a DNS-1123 label.`));
  }
  if (namespace !== '' && (!DNS_LABEL.test(namespace) || namespace.length > 63)) {
    issues.push(issue('INVALID_NAMESPACE', 'spec.template.namespace', `Namespace "${namespace}" (cluster ${cluster}) must be a DNS-1123 label.`));
  }
  const identities = new Set<string>();
  manifests.forEach((manifest, index) => {
    const path = paths[index] ?? childPath('spec.template.manifests', index);
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

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
