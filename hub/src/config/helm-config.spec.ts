import { describe, expect, it } from 'vitest';
import { DEFAULT_HELM_CACHE_ENTRIES, DEFAULT_HELM_MAX_CHART_MB, DEFAULT_HELM_MAX_OUTPUT_MB, DEFAULT_HELM_TIMEOUT_MS, loadHelmConfig } from './helm-config';

const load = (env: Record<string, string | undefined>) => {
  const problems: string[] = [];
  const config = loadHelmConfig(env, problems);
  return { config, problems };
};

describe('loadHelmConfig', () => {
  it('uses helm on PATH, no repositories file and the documented limits when nothing is set', () => {
    expect(load({})).toEqual({
      problems: [],
      config: { binary: 'helm', timeoutMs: DEFAULT_HELM_TIMEOUT_MS, maxOutputBytes: DEFAULT_HELM_MAX_OUTPUT_MB * 2 ** 20, maxChartBytes: DEFAULT_HELM_MAX_CHART_MB * 2 ** 20, cacheEntries: DEFAULT_HELM_CACHE_ENTRIES },
    });
  });

  it('reads every setting', () => {
    const { config, problems } = load({
      FLOTILLA_HELM_BINARY: '/opt/helm/bin/helm',
      FLOTILLA_HELM_REPOSITORIES_FILE: '/etc/flotilla/helm/repositories.yaml',
      FLOTILLA_HELM_TIMEOUT_MS: '5000',
      FLOTILLA_HELM_MAX_OUTPUT_MB: '8',
      FLOTILLA_HELM_MAX_CHART_MB: '2',
      FLOTILLA_HELM_CACHE_ENTRIES: '0',
    });
    expect(problems).toEqual([]);
    expect(config).toEqual({ binary: '/opt/helm/bin/helm', repositoriesFile: '/etc/flotilla/helm/repositories.yaml', timeoutMs: 5000, maxOutputBytes: 8 * 2 ** 20, maxChartBytes: 2 * 2 ** 20, cacheEntries: 0 });
  });

  it.each([
    { name: 'FLOTILLA_HELM_TIMEOUT_MS', value: '10', problem: 'FLOTILLA_HELM_TIMEOUT_MS must be an integer from 1000 to 1800000 (got "10")' },
    { name: 'FLOTILLA_HELM_MAX_OUTPUT_MB', value: 'lots', problem: 'FLOTILLA_HELM_MAX_OUTPUT_MB must be an integer from 1 to 1024 (got "lots")' },
    { name: 'FLOTILLA_HELM_MAX_CHART_MB', value: '0', problem: 'FLOTILLA_HELM_MAX_CHART_MB must be an integer from 1 to 1024 (got "0")' },
    { name: 'FLOTILLA_HELM_CACHE_ENTRIES', value: '-1', problem: 'FLOTILLA_HELM_CACHE_ENTRIES must be an integer from 0 to 100000 (got "-1")' },
    { name: 'FLOTILLA_HELM_REPOSITORIES_FILE', value: 'repositories.yaml', problem: 'FLOTILLA_HELM_REPOSITORIES_FILE must be an absolute path' },
  ])('refuses $name=$value with a problem saying what is allowed', ({ name, value, problem }) => {
    expect(load({ [name]: value }).problems).toEqual([problem]);
  });
});
