import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { LRUCache } from 'lru-cache';
import { parse } from 'yaml';
import { canonicalJson } from '@flotilla/proto';
import type { HelmConfig } from '../config/helm-config';
import { helmTemplateArgs, readHelmOutput } from '../core/helm/helm-output';
import type { DroppedHook } from '../core/helm/helm-hooks';
import type { HelmSourceSpec, KubeCapabilities, ResolvedChart } from '../core/helm/helm-source';
import { placeGitValueFile } from '../core/helm/git-chart';
import { resolveChartVersion } from '../core/helm/resolve-version';
import type { GitChartReader } from './git-chart-reader';
import { HelmCommandError, runHelm } from './helm-command';
import { HelmRepositories, type RepositoryCredentials } from './helm-repositories';

/** A value, or a failure as the AppSet author reads it (`code` becomes the issue code). */
export type HelmResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: string; readonly message: string };

/** What one App's render needs besides the pinned chart; `values` are already rendered with the App's parameters. */
export interface HelmRenderRequest {
  readonly releaseName: string;
  readonly namespace: string;
  readonly createNamespace: boolean;
  readonly values: Readonly<Record<string, unknown>>;
  readonly valueFiles: readonly string[];
  readonly skipCRDs: boolean;
  /** The target cluster's reported capabilities; absent: helm's defaults. */
  readonly capabilities?: KubeCapabilities;
}

export interface HelmRendered {
  readonly manifests: readonly Record<string, unknown>[];
  readonly dropped: readonly DroppedHook[];
}

/** Largest index.yaml read from an HTTP chart repository. */
const MAX_INDEX_BYTES = 32 * 1024 * 1024;
/** helm processes running at once; more renders wait (the hub keeps a core for agents and GraphQL). */
const MAX_RUNNING = 2;

/**
 * Renders `spec.template.helm` sources with the real helm binary, off the event loop (helm is a child
 * process; the event loop only waits for it). Two steps, so every cluster gets the same bytes:
 * {@link resolve} pins a chart version once per apply (a range is resolved against the repository's
 * index.yaml or, for OCI, by helm against the registry's tags) and keeps the pulled .tgz by its sha256;
 * {@link render} runs `helm template` on that unpacked, dependency-complete chart, with no repository
 * flags, so helm reads nothing else. Renders are cached in memory by (chart digest, values, capabilities).
 * Helm's state (cache, config, registry logins) lives in a private 0700 folder removed by {@link close}.
 */
export class HelmRenderer {
  private readonly home: string;
  private readonly repositories: HelmRepositories;
  private readonly charts = new Map<string, string>();
  private readonly renders: LRUCache<string, HelmRendered> | undefined;
  private readonly rendering = new Map<string, Promise<HelmResult<HelmRendered>>>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  /** `gitCharts`: reads charts from Git repositories (`path`); without it such sources are refused. */
  constructor(
    private readonly config: HelmConfig,
    private readonly gitCharts?: GitChartReader,
  ) {
    this.home = mkdtempSync(join(tmpdir(), 'flotilla-helm-'));
    for (const dir of ['cache', 'config', 'data', 'charts', 'values']) mkdirSync(join(this.home, dir), { mode: 0o700 });
    this.repositories = new HelmRepositories(config.repositoriesFile);
    this.renders = config.cacheEntries > 0 ? new LRUCache({ max: config.cacheEntries }) : undefined;
  }

  /** Pins the chart `source` names: its exact version and the digest of its packaged bytes. */
  async resolve(source: HelmSourceSpec): Promise<HelmResult<ResolvedChart>> {
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(source.repoURL)) return fail('HELM_REPO_INVALID', 'repoURL must not carry credentials; name a repository of the hub configuration with `repository`.');
    let credentials: RepositoryCredentials;
    try {
      credentials = this.repositories.credentials(source.repository === undefined ? undefined : this.repositories.find(source.repository, source.repoURL));
    } catch (error) {
      return fail('HELM_REPO_NOT_CONFIGURED', (error as Error).message);
    }
    if (source.path !== undefined) return this.pinGit(source);
    if (source.chart === undefined || source.chart === '') return fail('HELM_CHART_REQUIRED', 'chart is required for an HTTP or OCI chart repository.');
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(source.chart)) return fail('HELM_CHART_INVALID', `chart "${source.chart.slice(0, 80)}" must be a chart name.`);
    try {
      const pinned = source.repoURL.startsWith('oci://')
        ? await this.pullOci(source.repoURL, source.chart, source.version, credentials)
        : /^https?:\/\//.test(source.repoURL)
          ? await this.pullHttp(source.repoURL, source.chart, source.version, credentials)
          : undefined;
      if (pinned?.ok && source.repository !== undefined) return { ok: true, value: { ...pinned.value, repository: source.repository } };
      if (pinned !== undefined) return pinned;
    } catch (error) {
      if (error instanceof HelmCommandError || error instanceof PullError) return fail('HELM_PULL_FAILED', `chart ${source.chart} from ${source.repoURL}: ${error.message}`);
      throw error;
    }
    return fail('HELM_SOURCE_UNSUPPORTED', 'repoURL must be an https:// or http:// chart repository or an oci:// registry.');
  }

  /** `helm template` of a pinned chart for one App. */
  async render(chart: ResolvedChart, request: HelmRenderRequest): Promise<HelmResult<HelmRendered>> {
    // A Git chart's digest covers its directory only: the commit pins the values files read from elsewhere in the repository.
    const key = createHash('sha256')
      .update(
        canonicalJson({
          digest: chart.digest,
          commit: chart.commit ?? null,
          ...request,
          capabilities: { kubeVersion: request.capabilities?.kubeVersion ?? null, apiVersions: [...(request.capabilities?.apiVersions ?? [])].sort() },
        }),
      )
      .digest('hex');
    const cached = this.renders?.get(key);
    if (cached) return { ok: true, value: cached };
    // The same render asked for twice at once (two clusters with the same values and capabilities) runs
    // once: it also shares the files it writes under its key, which the first to finish would remove.
    const running = this.rendering.get(key);
    if (running) return running;
    const rendering = this.renderOnce(key, chart, request).finally(() => this.rendering.delete(key));
    this.rendering.set(key, rendering);
    return rendering;
  }

  private async renderOnce(key: string, chart: ResolvedChart, request: HelmRenderRequest): Promise<HelmResult<HelmRendered>> {
    const chartDir = await this.chartDir(chart);
    if (!chartDir.ok) return chartDir;
    const files: string[] = [];
    const written: string[] = [];
    const valuesFile = join(this.home, 'values', `${key}.json`);
    try {
      for (const [index, file] of request.valueFiles.entries()) {
        let inChart = file;
        if (chart.commit !== undefined) {
          const placed = placeGitValueFile(chart.path ?? '.', file);
          if (!placed.ok) return fail(placed.code, placed.message);
          if (placed.where === 'repository') {
            const read = await this.gitValueFile(chart, placed.path);
            if (!read.ok) return fail(read.code, `${read.message.replace(/\.$/, '')} (values file "${file.slice(0, 200)}" of chart ${chart.chart} ${chart.version}).`);
            const target = join(this.home, 'values', `${key}-${index}.yaml`);
            written.push(target);
            writeFileSync(target, read.value, { mode: 0o600 });
            files.push(target);
            continue;
          }
          inChart = placed.path;
        }
        const path = normalize(inChart);
        const inside = !isAbsolute(path) && path !== '..' && !path.startsWith(`..${sep}`) ? join(chartDir.value, path) : undefined;
        if (inside === undefined || !existsSync(inside) || !realpathSync(inside).startsWith(realpathSync(chartDir.value) + sep)) {
          return fail('HELM_VALUE_FILE_NOT_FOUND', `values file "${file.slice(0, 200)}" is not in chart ${chart.chart} ${chart.version}.`);
        }
        files.push(inside);
      }
      writeFileSync(valuesFile, JSON.stringify(request.values), { mode: 0o600 });
      const args = helmTemplateArgs(chartDir.value, {
        releaseName: request.releaseName,
        namespace: request.namespace,
        valueFiles: [...files, valuesFile],
        includeCrds: !request.skipCRDs,
        ...(request.capabilities?.kubeVersion !== undefined ? { kubeVersion: request.capabilities.kubeVersion } : {}),
        ...(request.capabilities?.apiVersions !== undefined ? { apiVersions: request.capabilities.apiVersions } : {}),
      });
      const { stdout: text } = await this.helm(args, this.config.maxOutputBytes);
      const output = readHelmOutput(text, { namespace: request.namespace, createNamespace: request.createNamespace });
      if (!output.ok) return fail('HELM_OUTPUT_INVALID', `chart ${chart.chart} ${chart.version}: ${output.message}`);
      const rendered = { manifests: output.manifests, dropped: output.dropped };
      this.renders?.set(key, rendered);
      return { ok: true, value: rendered };
    } catch (error) {
      if (error instanceof HelmCommandError) return fail('HELM_TEMPLATE_FAILED', `chart ${chart.chart} ${chart.version}: ${error.message}`);
      throw error;
    } finally {
      for (const file of [valuesFile, ...written]) rmSync(file, { force: true });
    }
  }

  /** Removes helm's private folder (pulled charts, cache, logins). */
  close(): void {
    rmSync(this.home, { recursive: true, force: true });
  }

  /** Nest's shutdown hook (the renderer is a provider of the AppSets feature). */
  onApplicationShutdown(): void {
    this.close();
  }

  private async pullHttp(repoURL: string, chart: string, version: string | undefined, credentials: RepositoryCredentials): Promise<HelmResult<ResolvedChart>> {
    const base = new URL(repoURL.endsWith('/') ? repoURL : `${repoURL}/`);
    const index = parse((await this.download(new URL('index.yaml', base), base, MAX_INDEX_BYTES, credentials)).toString('utf8'), { maxAliasCount: 100 }) as { entries?: Record<string, unknown> } | null;
    const entries = Array.isArray(index?.entries?.[chart]) ? (index!.entries![chart] as { version?: unknown; urls?: unknown; digest?: unknown }[]) : [];
    const choice = resolveChartVersion(chart, version, entries.map((e) => String(e.version ?? '')));
    if (!choice.ok) return fail(choice.code, `${choice.message.charAt(0).toUpperCase()}${choice.message.slice(1)}`);
    const entry = entries.find((e) => String(e.version) === choice.version)!;
    const first = Array.isArray(entry.urls) && typeof entry.urls[0] === 'string' ? entry.urls[0] : undefined;
    if (first === undefined) throw new PullError(`index.yaml lists no URL for version ${choice.version}`);
    const bytes = await this.download(new URL(first, base), base, this.config.maxChartBytes, credentials);
    const digest = sha256(bytes);
    if (typeof entry.digest === 'string' && entry.digest !== '' && `sha256:${entry.digest}` !== digest) throw new PullError(`the chart's bytes do not match the digest index.yaml lists for ${choice.version}`);
    await this.keep(digest, bytes);
    return { ok: true, value: { repoURL, chart, version: choice.version, digest } };
  }

  private async pullOci(repoURL: string, chart: string, version: string | undefined, credentials: RepositoryCredentials): Promise<HelmResult<ResolvedChart>> {
    const destination = mkdtempSync(join(this.home, 'charts', 'pull-'));
    try {
      const args = ['pull', `${repoURL.replace(/\/+$/, '')}/${chart}`, '--destination', destination];
      if (version !== undefined && version.trim() !== '') args.push('--version', version.trim());
      if (credentials.plainHttp) args.push('--plain-http');
      if (credentials.registryConfigFile !== undefined) args.push('--registry-config', credentials.registryConfigFile);
      const { stderr: printed } = await this.helm(args, 64 * 1024);
      const file = readdirSync(destination).find((f) => f.endsWith('.tgz'));
      if (file === undefined) throw new PullError('helm pulled no chart archive');
      const bytes = readFileSync(join(destination, file));
      if (bytes.length > this.config.maxChartBytes) throw new PullError(`the chart is larger than ${this.config.maxChartBytes} bytes (FLOTILLA_HELM_MAX_CHART_MB)`);
      const pulled = file.slice(chart.length + 1, -'.tgz'.length);
      const ociDigest = /Digest: (sha256:[0-9a-f]{64})/.exec(printed)?.[1];
      const digest = sha256(bytes);
      await this.keep(digest, bytes);
      return { ok: true, value: { repoURL, chart, version: pulled, digest, ...(ociDigest !== undefined ? { ociDigest } : {}) } };
    } finally {
      rmSync(destination, { recursive: true, force: true });
    }
  }

  /** GET within the repository only: no redirects, bounded size and time. */
  private async download(url: URL, base: URL, maxBytes: number, credentials: RepositoryCredentials): Promise<Buffer> {
    if (url.origin !== base.origin) throw new PullError(`index.yaml points outside the repository (${url.origin}); only the configured repository is read`);
    const headers: Record<string, string> = {};
    if (credentials.username !== undefined || credentials.password !== undefined) headers['authorization'] = `Basic ${Buffer.from(`${credentials.username ?? ''}:${credentials.password ?? ''}`).toString('base64')}`;
    let response: Response;
    try {
      response = await fetch(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(this.config.timeoutMs) });
    } catch (error) {
      throw new PullError(`${url.pathname} could not be read (${(error as Error).name === 'TimeoutError' ? 'timed out' : 'not reachable'})`);
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new PullError(`${url.pathname} answered HTTP ${response.status}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body ?? []) {
      size += (chunk as Uint8Array).length;
      if (size > maxBytes) {
        await response.body?.cancel().catch(() => undefined);
        throw new PullError(`${url.pathname} is larger than ${maxBytes} bytes`);
      }
      chunks.push(Buffer.from(chunk as Uint8Array));
    }
    return Buffer.concat(chunks);
  }

  /**
   * Pins a chart directory of a Git repository: the commit its revision resolves to and the sha256 of
   * its files, which are written (regular files only, private modes) under the digest for helm to read.
   */
  private async pinGit(source: HelmSourceSpec): Promise<HelmResult<ResolvedChart>> {
    if (this.gitCharts === undefined) return fail('HELM_SOURCE_UNSUPPORTED', 'charts from Git repositories are not available on this hub.');
    if (source.repository !== undefined) return fail('HELM_REPO_INVALID', 'repository names a Helm chart repository entry; a chart in a Git repository is read with the hub\'s Git access settings.');
    const path = source.path ?? '.';
    const revision = source.revision ?? 'HEAD';
    const read = await this.gitCharts.read(source.repoURL, revision, path, this.config.maxChartBytes);
    if (!read.ok) return read;
    const { commit, name, version, digest, files } = read.value;
    if (!this.charts.has(digest)) {
      const dir = join(this.home, 'charts', digest.slice('sha256:'.length));
      rmSync(dir, { recursive: true, force: true });
      const chartDir = join(dir, name.replace(/[^A-Za-z0-9._-]/g, '_'));
      for (const [file, text] of files) {
        const target = join(chartDir, file);
        mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
        writeFileSync(target, text, { mode: 0o600 });
      }
      this.charts.set(digest, chartDir);
    }
    return { ok: true, value: { repoURL: source.repoURL, chart: name, version, digest, path, revision, commit } };
  }

  /** A values file of a Git chart's repository outside its directory, at the chart's commit. */
  private async gitValueFile(chart: ResolvedChart, path: string): Promise<HelmResult<string>> {
    if (this.gitCharts === undefined || chart.commit === undefined) return fail('HELM_SOURCE_UNSUPPORTED', 'charts from Git repositories are not available on this hub.');
    return this.gitCharts.readValueFile(chart.repoURL, chart.commit, path, this.config.maxChartBytes);
  }

  /** Unpacks a pulled chart under its digest, once. */
  private async keep(digest: string, bytes: Buffer): Promise<void> {
    if (this.charts.has(digest)) return;
    const dir = join(this.home, 'charts', digest.slice('sha256:'.length));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { mode: 0o700 });
    await untar(bytes, dir, this.config.timeoutMs);
    const top = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory());
    if (top.length !== 1 || !existsSync(join(dir, top[0]!.name, 'Chart.yaml'))) throw new PullError('the archive is not a packaged chart (one folder with a Chart.yaml)');
    this.charts.set(digest, join(dir, top[0]!.name));
  }

  private async chartDir(chart: ResolvedChart): Promise<HelmResult<string>> {
    const known = this.charts.get(chart.digest);
    if (known) return { ok: true, value: known };
    // Pinned by another hub replica or before a restart: pull the exact version (or read the commit) again; it must be the same bytes.
    const again = await this.resolve(
      chart.commit !== undefined
        ? { repoURL: chart.repoURL, path: chart.path ?? '.', revision: chart.commit }
        : { repoURL: chart.repoURL, chart: chart.chart, version: chart.version, ...(chart.repository !== undefined ? { repository: chart.repository } : {}) },
    );
    if (!again.ok) return again;
    if (again.value.digest !== chart.digest) return fail('HELM_CHART_CHANGED', `chart ${chart.chart} ${chart.version} in ${chart.repoURL} is no longer the bytes this revision was made from (${chart.digest}); apply the AppSet again to pin it anew.`);
    return { ok: true, value: this.charts.get(chart.digest)! };
  }

  private async helm(args: string[], maxOutputBytes: number): Promise<{ readonly stdout: string; readonly stderr: string }> {
    while (this.running >= MAX_RUNNING) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await runHelm(args, {
        binary: this.config.binary,
        timeoutMs: this.config.timeoutMs,
        maxOutputBytes,
        env: {
          HOME: this.home,
          HELM_CACHE_HOME: join(this.home, 'cache'),
          HELM_CONFIG_HOME: join(this.home, 'config'),
          HELM_DATA_HOME: join(this.home, 'data'),
          HELM_REGISTRY_CONFIG: join(this.home, 'config', 'registry.json'),
          HELM_REPOSITORY_CONFIG: join(this.home, 'config', 'repositories.yaml'),
        },
      });
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

class PullError extends Error {}

function fail(code: string, message: string): { readonly ok: false; readonly code: string; readonly message: string } {
  return { ok: false, code, message };
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** `tar -xz` into `dir`: GNU tar refuses absolute and `..` member names by default; owners and modes are not kept. */
function untar(bytes: Buffer, dir: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', ['-xz', '--no-same-owner', '--no-same-permissions', '-C', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 2000) stderr += chunk.toString('utf8');
    });
    child.on('error', () => undefined);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new PullError(`the chart archive could not be unpacked: ${stderr.trim().split('\n')[0] ?? 'tar failed'}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(bytes);
  });
}
