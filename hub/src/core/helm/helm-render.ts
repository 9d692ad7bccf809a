import { canonicalJson } from '@flotilla/proto';
import { childPath, issue, type Issue } from '../issues';
import type { TemplateRenderer } from '../render/template-renderer';
import type { HelmSourceSpec, ResolvedChart } from './helm-source';

/** The chart an AppSet names, before it is pinned: what {@link helmChartKey} keys. */
export interface HelmChartRef {
  readonly repoURL: string;
  /** HTTP and OCI repositories: the chart's name. */
  readonly chart?: string;
  readonly version?: string;
  readonly repository?: string;
  /** Git repositories: the chart's directory and the branch, tag, `HEAD` or commit. */
  readonly path?: string;
  readonly revision?: string;
}

/** One App's `helm template` besides the pinned chart; `values` are already rendered with the App's parameters. */
export interface HelmAppRequest {
  readonly releaseName: string;
  readonly namespace: string;
  readonly createNamespace: boolean;
  readonly values: Readonly<Record<string, unknown>>;
  readonly valueFiles: readonly string[];
  readonly skipCRDs: boolean;
}

/** A pin (or why the chart could not be pinned: `code` is the issue code). */
export type HelmChartPin = ResolvedChart | { readonly code: string; readonly message: string };

/** A render's objects (hooks already marked, test hooks dropped), or why it failed. */
export type HelmRenderOutput = { readonly manifests: readonly Readonly<Record<string, unknown>>[] } | { readonly code: string; readonly message: string };

/** A chart the expansion needs pinned: the hub resolves its version once per expansion. */
export interface HelmChartNeed {
  readonly kind: 'helm-chart';
  readonly key: string;
  readonly ref: HelmChartRef;
}

/**
 * A render the expansion needed and the snapshot did not hold. The target cluster is named so that the
 * hub passes that cluster's reported capabilities to `helm template`; it is part of the key.
 */
export interface HelmRenderNeed {
  readonly kind: 'helm';
  readonly key: string;
  readonly chart: ResolvedChart;
  readonly request: HelmAppRequest;
  readonly clusterName: string;
}

/** What the snapshot holds for Helm: pins by {@link helmChartKey}, renders by {@link helmRenderKey}. */
export interface HelmSnapshot {
  readonly charts: ReadonlyMap<string, HelmChartPin>;
  readonly renders: ReadonlyMap<string, HelmRenderOutput>;
}

export function helmChartKey(ref: HelmChartRef): string {
  return canonicalJson({ repoURL: ref.repoURL, chart: ref.chart ?? null, version: ref.version ?? null, repository: ref.repository ?? null, path: ref.path ?? null, revision: ref.revision ?? null });
}

export function helmRenderKey(chart: ResolvedChart, request: HelmAppRequest, clusterName: string): string {
  return canonicalJson({ chart: { ...chart }, request: { ...request }, clusterName });
}

function isFailure<T extends object>(value: T | { readonly code: string; readonly message: string }): value is { readonly code: string; readonly message: string } {
  return 'code' in value && 'message' in value && !('digest' in value);
}

/** One App's chart objects, with the pin they were rendered from. */
export interface LoadedHelm {
  readonly manifests: readonly Record<string, unknown>[];
  readonly chart: ResolvedChart;
}

/**
 * `spec.template.helm` for the Apps of one expansion: pins the chart (once: every App of the expansion
 * looks the same pin up), renders `values`, `releaseName` and `namespace` over each App's parameters
 * (the template language never runs over the chart's output), and looks the render up in the snapshot.
 * What is missing is recorded as a need: the hub pins or runs helm and expands again.
 */
export class HelmSources {
  private readonly missing = new Map<string, HelmChartNeed | HelmRenderNeed>();

  constructor(
    private readonly snapshot: HelmSnapshot | undefined,
    private readonly at = 'spec.template.helm',
  ) {}

  /** What the snapshot lacked, in the order first asked for. */
  get needs(): (HelmChartNeed | HelmRenderNeed)[] {
    return [...this.missing.values()];
  }

  load(
    spec: HelmSourceSpec,
    app: { readonly name: string; readonly namespace: string; readonly clusterName: string; readonly params: Readonly<Record<string, unknown>> },
    renderer: TemplateRenderer,
  ): LoadedHelm | { readonly issues: Issue[] } | 'pending' {
    if (spec.path !== undefined && (spec.chart !== undefined || spec.version !== undefined)) {
      return { issues: [issue('HELM_SOURCE_AMBIGUOUS', this.at, 'A chart from a Git repository is named by path and revision; chart and version are for HTTP and OCI chart repositories.')] };
    }
    if (spec.path === undefined && spec.chart === undefined) {
      return { issues: [issue('HELM_CHART_REQUIRED', childPath(this.at, 'chart'), 'chart is required for an HTTP or OCI chart repository; a chart in a Git repository is named by path.')] };
    }
    if (spec.path === undefined && !/^(https?|oci):\/\//.test(spec.repoURL)) {
      return { issues: [issue('HELM_SOURCE_UNSUPPORTED', childPath(this.at, 'repoURL'), 'repoURL must be an https:// or http:// chart repository or an oci:// registry; a chart in a Git repository is named by path.')] };
    }
    const ref: HelmChartRef =
      spec.path !== undefined
        ? { repoURL: spec.repoURL, path: spec.path, revision: spec.revision ?? 'HEAD', ...(spec.repository !== undefined ? { repository: spec.repository } : {}) }
        : { repoURL: spec.repoURL, chart: spec.chart!, ...(spec.version !== undefined ? { version: spec.version } : {}), ...(spec.repository !== undefined ? { repository: spec.repository } : {}) };
    const templated = renderer.renderTree(
      { values: spec.values ?? {}, ...(spec.releaseName !== undefined ? { releaseName: spec.releaseName } : {}), ...(spec.namespace !== undefined ? { namespace: spec.namespace } : {}) },
      app.params,
      this.at,
    );
    if (templated.issues.length > 0) return { issues: [...templated.issues] };
    const fields = templated.value as { values: Record<string, unknown>; releaseName?: string; namespace?: string };
    const chartKey = helmChartKey(ref);
    const pin = this.snapshot?.charts.get(chartKey);
    if (pin === undefined) {
      this.missing.set(`chart\u0000${chartKey}`, { kind: 'helm-chart', key: chartKey, ref });
      return 'pending';
    }
    if (isFailure(pin)) return { issues: [issue(pin.code, this.at, pin.message)] };
    const request: HelmAppRequest = {
      releaseName: fields.releaseName ?? app.name,
      namespace: fields.namespace ?? (app.namespace !== '' ? app.namespace : 'default'),
      createNamespace: spec.createNamespace === true,
      values: fields.values,
      valueFiles: [...(spec.valueFiles ?? [])],
      skipCRDs: spec.skipCRDs === true,
    };
    const key = helmRenderKey(pin, request, app.clusterName);
    const output = this.snapshot?.renders.get(key);
    if (output === undefined) {
      this.missing.set(`render\u0000${key}`, { kind: 'helm', key, chart: pin, request, clusterName: app.clusterName });
      return 'pending';
    }
    if (isFailure(output)) return { issues: [issue(output.code, this.at, output.message)] };
    return { manifests: structuredClone(output.manifests) as Record<string, unknown>[], chart: pin };
  }
}
