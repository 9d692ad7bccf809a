import { boundedIntegerReader } from './env-reading';

/** How the hub renders `spec.template.helm` sources with the `helm` binary (see helm/). */
export interface HelmConfig {
  /** FLOTILLA_HELM_BINARY: the helm v3/v4 binary; default `helm` on PATH (then the repository's `.tools/bin`). */
  readonly binary: string;
  /**
   * FLOTILLA_HELM_REPOSITORIES_FILE: a YAML or JSON file (a mounted Secret) naming chart repositories and
   * where their credentials are: `{ repositories: [{ name, url, usernameFile?, passwordFile?, caFile?,
   * registryConfigFile? }] }`. AppSets reference a repository by `name`; credentials never leave the hub.
   * Unset: only public repositories.
   */
  readonly repositoriesFile?: string;
  /** FLOTILLA_HELM_TIMEOUT_MS: wall-clock limit of one helm command (pull, show, template); killed after it. */
  readonly timeoutMs: number;
  /** FLOTILLA_HELM_MAX_OUTPUT_MB, in bytes: most output one `helm template` may print; more kills it. */
  readonly maxOutputBytes: number;
  /** FLOTILLA_HELM_MAX_CHART_MB, in bytes: largest packaged chart (.tgz) the hub pulls. */
  readonly maxChartBytes: number;
  /** FLOTILLA_HELM_CACHE_ENTRIES: renders kept in memory, keyed by (chart digest, values, capabilities). */
  readonly cacheEntries: number;
}

export const DEFAULT_HELM_TIMEOUT_MS = 60_000;
export const DEFAULT_HELM_MAX_OUTPUT_MB = 64;
export const DEFAULT_HELM_MAX_CHART_MB = 20;
export const DEFAULT_HELM_CACHE_ENTRIES = 256;

/** Reads the FLOTILLA_HELM_* variables; bad values are added to `problems`. */
export function loadHelmConfig(env: Record<string, string | undefined>, problems: string[]): HelmConfig {
  const int = boundedIntegerReader(env, problems);
  const binary = env['FLOTILLA_HELM_BINARY']?.trim() || 'helm';
  const repositoriesFile = env['FLOTILLA_HELM_REPOSITORIES_FILE']?.trim() || undefined;
  if (repositoriesFile !== undefined && !repositoriesFile.startsWith('/')) problems.push('FLOTILLA_HELM_REPOSITORIES_FILE must be an absolute path');
  return {
    binary,
    ...(repositoriesFile !== undefined ? { repositoriesFile } : {}),
    timeoutMs: int('FLOTILLA_HELM_TIMEOUT_MS', DEFAULT_HELM_TIMEOUT_MS, 1_000, 30 * 60_000),
    maxOutputBytes: int('FLOTILLA_HELM_MAX_OUTPUT_MB', DEFAULT_HELM_MAX_OUTPUT_MB, 1, 1024) * 1024 * 1024,
    maxChartBytes: int('FLOTILLA_HELM_MAX_CHART_MB', DEFAULT_HELM_MAX_CHART_MB, 1, 1024) * 1024 * 1024,
    cacheEntries: int('FLOTILLA_HELM_CACHE_ENTRIES', DEFAULT_HELM_CACHE_ENTRIES, 0, 100_000),
  };
}
