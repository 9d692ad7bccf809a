import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import type { KustomizeConfig } from '../config/kustomize-config';
import { gitFileKey, gitSourceKey, isGitFailure, type GitNeed, type GitSnapshot, type GitTree } from '../core/generators/git-snapshot';
import { checkLocalReferences } from '../core/kustomize/local-references';
import type { KustomizeNeed, KustomizeOutput, KustomizeRequest } from '../core/kustomize/kustomize-render';
import { kustomizationOverlay } from '../core/kustomize/overlay';
import { parseKustomizeOutput } from '../core/kustomize/parse-output';
import { maskUrlCredentials, urlCredentials } from '../core/safety/mask-credentials';
import { GitRepositories } from '../git/git-repositories';
import { runKustomize } from './run-kustomize';

/** Most distinct renders one expansion round may ask for: each is a process; far above a fleet's distinct overlays. */
const MAX_RENDERS_PER_ROUND = 1_000;
/** Renders run at once: kustomize is CPU-bound and the hub keeps a core for agents and the API. */
const CONCURRENCY = 2;
/** Outputs kept for later expansions and previews (equal requests pin the commit, so equal output). */
const CACHE_ENTRIES = 256;

/**
 * Runs kustomize for the `kustomize` needs of an expansion (the resolve half of resolve-then-evaluate,
 * like Git reads): the repository's regular files at the resolved commit are read through the hub's
 * Git cache (so FLOTILLA_GIT_* access rules apply) and written into a private temporary folder beside
 * a generated overlay; every kustomization reached must reference only files of that repository
 * (remote bases are refused before kustomize runs, and the run has no usable network); kustomize runs
 * as a child process with a time limit and an output cap; its output is parsed into objects. Failures
 * never throw: they become outputs with an issue code and a message free of credentials and local paths.
 */
@Injectable()
export class KustomizeRenderer {
  private readonly log = new Logger('Kustomize');
  private readonly config: KustomizeConfig;
  private readonly cache = new Map<string, KustomizeOutput>();

  constructor(
    @Inject(HUB_CONFIG) config: HubConfig,
    private readonly git: GitRepositories,
  ) {
    this.config = config.kustomize;
  }

  /** `snapshot` plus the output of every `kustomize` need in `needs` (other needs are ignored). */
  async render(snapshot: GitSnapshot, needs: readonly GitNeed[]): Promise<GitSnapshot> {
    const wanted = needs.filter((need): need is KustomizeNeed => need.kind === 'kustomize' && !snapshot.kustomize?.has(need.key));
    if (wanted.length === 0) return snapshot;
    const outputs = new Map(snapshot.kustomize ?? []);
    const unique = [...new Map(wanted.map((need) => [need.key, need])).values()];
    for (const need of unique.slice(MAX_RENDERS_PER_ROUND)) {
      outputs.set(need.key, { code: 'KUSTOMIZE_TOO_MANY_RENDERS', message: `The AppSet needs more than ${MAX_RENDERS_PER_ROUND} distinct kustomize renders.` });
    }
    const queue = unique.slice(0, MAX_RENDERS_PER_ROUND);
    const work = async () => {
      for (let need = queue.shift(); need !== undefined; need = queue.shift()) outputs.set(need.key, await this.output(snapshot, need.request, need.key));
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, work));
    return { ...snapshot, kustomize: outputs };
  }

  private async output(snapshot: GitSnapshot, request: KustomizeRequest, key: string): Promise<KustomizeOutput> {
    const cached = this.cache.get(key);
    if (cached) return cached;
    const output = await this.run(snapshot, request);
    // Only what the commit alone decides is kept: a timeout or a missing binary may pass.
    if (!('code' in output) || output.code === 'KUSTOMIZE_FAILED' || output.code === 'KUSTOMIZE_REMOTE_BASE') {
      if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, output);
    }
    return output;
  }

  private async run(snapshot: GitSnapshot, request: KustomizeRequest): Promise<KustomizeOutput> {
    const tree = snapshot.trees.get(gitSourceKey(request.repoURL, request.revision));
    if (!tree || isGitFailure(tree) || tree.commit !== request.commit) {
      return { code: 'GIT_UNAVAILABLE', message: `Revision ${request.revision} of the repository is no longer at ${request.commit.slice(0, 12)}; preview or apply again.` };
    }
    const files = await this.files(tree);
    if ('code' in files) return files;
    const problem = checkLocalReferences(files, request.path);
    if (problem) return problem;
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-kustomize-'));
    const real = await realpath(dir);
    try {
      for (const [path, text] of files) {
        const target = join(dir, 'repo', path);
        await mkdir(dirname(target), { recursive: true, mode: 0o700 });
        await writeFile(target, text, { mode: 0o600 });
      }
      await mkdir(join(dir, 'overlay'), { mode: 0o700 });
      const resource = request.path === '.' ? '../repo' : `../repo/${request.path}`;
      await writeFile(join(dir, 'overlay', 'kustomization.yaml'), kustomizationOverlay(request, resource), { mode: 0o600 });
      const run = await runKustomize(join(dir, 'overlay'), { binary: this.config.binary, timeoutMs: this.config.timeoutMs, maxBytes: this.config.maxOutputBytes, home: dir });
      if (run.ok) return parseKustomizeOutput(run.stdout);
      const message = this.clean(run.message, [dir, real], request.repoURL);
      this.log.warn(`kustomize ${request.path} at ${request.commit.slice(0, 12)}: ${message}`);
      return { code: run.code, message: `kustomize failed: ${message}` };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Every regular file of `tree` with its text, or why they cannot be read. */
  private async files(tree: GitTree): Promise<Map<string, string> | { readonly code: string; readonly message: string }> {
    const total = [...tree.files.values()].reduce((sum, size) => sum + size, 0);
    if (total > this.config.maxInputBytes) {
      return {
        code: 'KUSTOMIZE_INPUT_TOO_LARGE',
        message: `The repository holds ${Math.ceil(total / 2 ** 20)} MiB of files at ${tree.commit.slice(0, 12)}; kustomize renders read at most ${Math.round(this.config.maxInputBytes / 2 ** 20)} MiB (FLOTILLA_KUSTOMIZE_MAX_INPUT_MB).`,
      };
    }
    const paths = [...tree.files.keys()];
    const read = await this.git.read({ trees: new Map(), files: new Map() }, paths.map((path) => ({ kind: 'file', repoURL: tree.repoURL, commit: tree.commit, path })));
    const files = new Map<string, string>();
    for (const path of paths) {
      const text = read.files.get(gitFileKey(tree.commit, path));
      if (text === undefined) return { code: 'GIT_UNAVAILABLE', message: `${path} could not be read at ${tree.commit.slice(0, 12)}.` };
      files.set(path, text);
    }
    return files;
  }

  /** kustomize's message with the temporary folder's paths made repository-relative and credentials masked. */
  private clean(message: string, dirs: readonly string[], repoURL: string): string {
    let out = message;
    for (const dir of dirs) {
      out = out.split(`${dir}/repo/`).join('').split(`${dir}/repo`).join('.').split(`${dir}/overlay`).join('(overlay)').split(dir).join('');
    }
    out = out.split('../repo/').join('');
    return maskUrlCredentials(out, urlCredentials(repoURL)).slice(0, 1000);
  }
}
