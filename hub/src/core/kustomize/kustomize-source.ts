import type { KustomizeSourceSpec } from '../app-set/app-set-spec';
import { checkRepoUrl, checkRevision, normalizeRepoPath, redactRepoUrl } from '../generators/git-refs';
import type { GitInputs } from '../generators/git-snapshot';
import type { GitRef } from '../generators/param-set';
import { childPath, issue, type Issue } from '../issues';
import type { TemplateRenderer } from '../render/template-renderer';
import { KUSTOMIZATION_FILES } from './local-references';
import { isKustomizeFailure, KustomizeOutputs, type KustomizeNeed, type KustomizeOutput, type KustomizeRequest } from './kustomize-render';

/** One App's kustomize output, with the commit it was rendered from. */
export interface LoadedKustomize {
  readonly manifests: readonly Record<string, unknown>[];
  readonly git: GitRef;
}

/**
 * `spec.template.kustomize` for the Apps of one expansion: renders the overlay fields over each App's
 * parameters (the template language runs over the AppSet's fields only, never over the repository's
 * files or kustomize's output), resolves the repository's tree through Git, and looks the render up
 * in the snapshot; what is missing is recorded as a need (the service runs kustomize and expands again).
 */
export class KustomizeSources {
  private readonly outputs: KustomizeOutputs;

  constructor(
    private readonly git: GitInputs,
    outputs: ReadonlyMap<string, KustomizeOutput> | undefined,
    private readonly at = 'spec.template.kustomize',
  ) {
    this.outputs = new KustomizeOutputs(outputs);
  }

  get needs(): KustomizeNeed[] {
    return this.outputs.needs;
  }

  /** The App's objects (fresh copies: callers may change them), issues, or `pending`. */
  load(spec: KustomizeSourceSpec, params: Readonly<Record<string, unknown>>, renderer: TemplateRenderer): LoadedKustomize | { readonly issues: Issue[] } | 'pending' {
    const { repoURL, ...templated } = spec;
    const urlProblem = checkRepoUrl(repoURL);
    if (urlProblem) return { issues: [issue('INVALID_REPO_URL', childPath(this.at, 'repoURL'), `repoURL ${urlProblem}.`)] };
    const rendered = renderer.renderTree(templated, params, this.at);
    if (rendered.issues.length > 0) return { issues: [...rendered.issues] };
    const fields = rendered.value as Omit<KustomizeSourceSpec, 'repoURL'>;
    const revision = fields.revision ?? 'HEAD';
    const revisionProblem = checkRevision(revision);
    if (revisionProblem) return { issues: [issue('INVALID_REVISION', childPath(this.at, 'revision'), `revision "${revision.slice(0, 80)}" ${revisionProblem}.`)] };
    const path = normalizeRepoPath(fields.path);
    if (path === undefined) return { issues: [issue('INVALID_GIT_PATH', childPath(this.at, 'path'), `"${fields.path.slice(0, 120)}" must stay inside the repository (no '..').`)] };
    const untargeted = (fields.patches ?? []).findIndex((patch) => Array.isArray(patch.patch) && patch.target === undefined);
    if (untargeted !== -1) {
      return { issues: [issue('KUSTOMIZE_PATCH_TARGET_REQUIRED', childPath(childPath(this.at, 'patches'), untargeted), 'A JSON 6902 patch (a list of operations) needs a target.')] };
    }
    const tree = this.git.tree(repoURL, revision, this.at);
    if (tree === 'pending') return tree;
    if ('code' in tree) return { issues: [tree] };
    const prefix = path === '.' ? '' : `${path}/`;
    if (!KUSTOMIZATION_FILES.some((file) => tree.files.has(`${prefix}${file}`))) {
      return {
        issues: [issue('KUSTOMIZE_NOT_FOUND', childPath(this.at, 'path'), `${path} holds no kustomization.yaml, kustomization.yml or Kustomization at ${tree.commit.slice(0, 12)} (revision ${revision}).`)],
      };
    }
    const { revision: _revision, path: _path, ...overlay } = fields;
    const request: KustomizeRequest = { repoURL, revision, commit: tree.commit, path, ...overlay };
    const output = this.outputs.output(request);
    if (output === 'pending') return output;
    if (isKustomizeFailure(output)) return { issues: [issue(output.code, this.at, output.message)] };
    return { manifests: structuredClone(output.manifests) as Record<string, unknown>[], git: { repoURL: redactRepoUrl(repoURL), revision, commit: tree.commit } };
  }
}
