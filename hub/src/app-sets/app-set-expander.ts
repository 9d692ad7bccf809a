import { Injectable } from '@nestjs/common';
import { DataSource, In, type EntityManager } from 'typeorm';
import { ClusterEntity } from '../clusters/cluster.entity';
import type { HelmChartNeed, HelmChartPin, HelmRenderNeed, HelmRenderOutput } from '../core/helm/helm-render';
import type { KubeCapabilities } from '../core/helm/helm-source';
import { HelmRenderer } from '../helm/helm-renderer';
import type { AppSetDocument } from '../core/app-set/app-set-spec';
import { EMPTY_GIT_SNAPSHOT, type GitNeed, type GitSnapshot } from '../core/generators/git-snapshot';
import type { ClusterSnapshot } from '../core/generators/param-set';
import { matchesSelector } from '../core/generators/label-selector';
import { issue, type Issue } from '../core/issues';
import type { AppSetPreview } from '../core/preview/preview-app-set';
import { DEFAULT_PROJECT, type ProjectRule } from '../core/projects/project-rule';
import { GitRepositories } from '../git/git-repositories';
import { KustomizeRenderer } from '../kustomize/kustomize-renderer';
import { ProjectsService } from '../projects/projects.service';
import { RenderPool } from '../render-pool/render-pool';
import type { PackedExpansion, RenderInput, StagedManifests } from '../render-pool/render-task';

/**
 * Most rounds of "expand, read what was missing from Git, expand again". Each round can only uncover
 * input that depends on input read in the previous one (a tree, then its files, then a glob or a path
 * that used their parameters), so real AppSets settle in two or three.
 */
const MAX_ROUNDS = 8;
/** Most distinct helm renders one round may ask for; each is a helm process (two run at once). */
const MAX_HELM_RENDERS_PER_ROUND = 1_000;

/** An expansion and the Git snapshot it was made from (reuse it to expand again over the same commits). */
export interface ResolvedExpansion {
  readonly expansion: PackedExpansion;
  readonly git: GitSnapshot;
}

/** What a preview found: the per-cluster changes, or the issues that refuse the document. */
export interface ResolvedPreview {
  readonly preview: AppSetPreview | null;
  readonly issues: readonly Issue[];
}

/**
 * Resolve-then-evaluate for AppSets: gathers the inputs on the event loop (the project, the clusters it
 * owns, Git reads), runs the pure expansion in the render pool's worker threads, reads from Git
 * whatever it reports missing, and runs it again over the larger snapshot until nothing is missing. A
 * Git failure is part of the snapshot, so the expansion reports it as an issue and nothing is staged;
 * so is a render stopped at its time or memory limit.
 */
@Injectable()
export class AppSetExpander {
  constructor(
    private readonly git: GitRepositories,
    private readonly projects: ProjectsService,
    private readonly renders: RenderPool,
    private readonly kustomize: KustomizeRenderer,
    private readonly helm: HelmRenderer,
    private readonly db: DataSource,
  ) {}

  /**
   * Expands `document` over those of `clusters` that its project owns, and checks every rendered object
   * against the project's allow-list (which then travels with each App to the agent). Pass the
   * snapshot of an earlier call as `git` to expand over the same commits (no fetch unless something
   * new is needed); without it every branch is fetched. Pass `tx` when called inside a transaction.
   */
  async expand(document: AppSetDocument, clusters: readonly ClusterSnapshot[], git: GitSnapshot = EMPTY_GIT_SNAPSHOT, tx?: EntityManager): Promise<ResolvedExpansion> {
    const refused = (issues: Issue[]): PackedExpansion => ({ apps: [], issues, needs: [] });
    const { result, git: snapshot } = await this.resolve(document, clusters, git, tx, (input) => this.renders.expand(input), refused);
    return { expansion: result, git: snapshot };
  }

  /**
   * What re-staging `document` over `clusters` would change against `staged` (fresh Git reads): the
   * expansion and the diffs, both in a render worker. `markerKey` keys the marker that shows secret
   * values in the diffs (see core/secrets).
   */
  async preview(document: AppSetDocument, clusters: readonly ClusterSnapshot[], staged: readonly StagedManifests[], markerKey: Uint8Array): Promise<ResolvedPreview & { readonly stagedCount: number }> {
    const refused = (issues: Issue[]) => ({ preview: null, issues, needs: [], stagedCount: staged.length });
    const { result } = await this.resolve(document, clusters, EMPTY_GIT_SNAPSHOT, undefined, (input) => this.renders.preview({ ...input, staged, markerKey }), refused);
    return result;
  }

  /** The rule of the document's project as the expansion reads it (null when the project does not exist). */
  projectRule(document: AppSetDocument, tx?: EntityManager): Promise<ProjectRule | null> {
    return this.projects.rule(document.metadata.project ?? DEFAULT_PROJECT, tx);
  }

  /**
   * `snapshot` plus the pin of every `helm-chart` need (each chart resolved once: a pin already in the
   * snapshot is never resolved again, so every cluster of the expansion renders the same version and
   * bytes) and the output of every `helm` need, rendered with the target cluster's reported capabilities.
   * Failures become outputs with helm's message (the expansion reports them as issues).
   */
  private async renderHelm(snapshot: GitSnapshot, needs: readonly GitNeed[], tx: EntityManager | undefined): Promise<GitSnapshot> {
    const charts = new Map<string, HelmChartPin>(snapshot.helm?.charts ?? []);
    const renders = new Map<string, HelmRenderOutput>(snapshot.helm?.renders ?? []);
    const pins = [...new Map(needs.filter((n): n is HelmChartNeed => n.kind === 'helm-chart' && !charts.has(n.key)).map((n) => [n.key, n])).values()];
    const wanted = [...new Map(needs.filter((n): n is HelmRenderNeed => n.kind === 'helm' && !renders.has(n.key)).map((n) => [n.key, n])).values()];
    if (pins.length === 0 && wanted.length === 0) return snapshot;
    for (const need of pins) {
      const pinned = await this.helm.resolve(need.ref);
      charts.set(need.key, pinned.ok ? pinned.value : { code: pinned.code, message: pinned.message });
    }
    for (const need of wanted.slice(MAX_HELM_RENDERS_PER_ROUND)) {
      renders.set(need.key, { code: 'HELM_TOO_MANY_RENDERS', message: `The AppSet needs more than ${MAX_HELM_RENDERS_PER_ROUND} distinct helm renders.` });
    }
    const queue = wanted.slice(0, MAX_HELM_RENDERS_PER_ROUND);
    const capabilities = queue.length > 0 ? await this.capabilities([...new Set(queue.map((n) => n.clusterName))], tx) : new Map<string, KubeCapabilities>();
    // HelmRenderer runs at most two helm processes at once; the others wait in it.
    await Promise.all(
      queue.map(async (need) => {
        const known = capabilities.get(need.clusterName);
        const rendered = await this.helm.render(need.chart, { ...need.request, ...(known ? { capabilities: known } : {}) });
        renders.set(need.key, rendered.ok ? { manifests: rendered.value.manifests } : { code: rendered.code, message: rendered.message });
      }),
    );
    return { ...snapshot, helm: { charts, renders } };
  }

  /**
   * The capabilities each named cluster's agent reported (Kubernetes version, served API versions);
   * clusters that reported none are absent and render with helm's defaults. The single place the
   * Helm renders read capabilities from.
   */
  private async capabilities(names: readonly string[], tx: EntityManager | undefined): Promise<Map<string, KubeCapabilities>> {
    const rows = await (tx ?? this.db.manager).find(ClusterEntity, { where: { name: In([...names]) }, select: { id: true, name: true, kubernetesVersion: true, apiVersions: true } });
    const out = new Map<string, KubeCapabilities>();
    for (const row of rows) {
      if (row.kubernetesVersion !== null && row.apiVersions !== null) out.set(row.name, { kubeVersion: row.kubernetesVersion, apiVersions: row.apiVersions });
    }
    return out;
  }

  private async resolve<T extends { readonly issues: readonly Issue[]; readonly needs: readonly GitNeed[] }>(
    document: AppSetDocument,
    clusters: readonly ClusterSnapshot[],
    git: GitSnapshot,
    tx: EntityManager | undefined,
    render: (input: RenderInput) => Promise<T>,
    refused: (issues: Issue[]) => T,
  ): Promise<{ result: T; git: GitSnapshot }> {
    const projectName = document.metadata.project ?? DEFAULT_PROJECT;
    // Inside the caller's transaction when there is one: it may hold the pool's only connection.
    const project = await this.projects.rule(projectName, tx);
    if (!project) {
      const missing = issue('PROJECT_NOT_FOUND', 'metadata.project', `Project "${projectName}" does not exist; an admin creates it with createProject.`);
      return { result: refused([missing]), git };
    }
    const owned = clusters.filter((cluster) => matchesSelector(cluster.labels, project.clusterSelector));
    let snapshot = git;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const result = await render({ document, clusters: owned, git: snapshot, project });
      if (result.needs.length === 0) return { result, git: snapshot };
      // Git first: a kustomize render reads the trees this round resolved; git.read keeps only Git reads.
      const read = await this.git.read(snapshot, result.needs);
      snapshot = await this.kustomize.render({ ...read, kustomize: snapshot.kustomize, helm: snapshot.helm }, result.needs);
      snapshot = await this.renderHelm(snapshot, result.needs, tx);
    }
    const unresolved = issue('GIT_INPUT_UNRESOLVED', 'spec', `The Git inputs of this AppSet did not settle after ${MAX_ROUNDS} reads; simplify how its Git paths depend on each other.`);
    return { result: refused([unresolved]), git: snapshot };
  }
}
