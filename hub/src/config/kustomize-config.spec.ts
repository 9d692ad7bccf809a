import { describe, expect, it } from 'vitest';
import {
  DEFAULT_KUSTOMIZE_BINARY,
  DEFAULT_KUSTOMIZE_MAX_INPUT_MB,
  DEFAULT_KUSTOMIZE_MAX_OUTPUT_MB,
  DEFAULT_KUSTOMIZE_TIMEOUT_SECONDS,
  loadKustomizeConfig,
} from './kustomize-config';

const load = (env: Record<string, string | undefined>) => {
  const problems: string[] = [];
  const config = loadKustomizeConfig(env, problems);
  return { config, problems };
};

describe('loadKustomizeConfig', () => {
  it('uses the documented defaults when nothing is set', () => {
    const { config, problems } = load({});
    expect(problems).toEqual([]);
    expect(config).toEqual({
      binary: DEFAULT_KUSTOMIZE_BINARY,
      timeoutMs: DEFAULT_KUSTOMIZE_TIMEOUT_SECONDS * 1000,
      maxOutputBytes: DEFAULT_KUSTOMIZE_MAX_OUTPUT_MB * 2 ** 20,
      maxInputBytes: DEFAULT_KUSTOMIZE_MAX_INPUT_MB * 2 ** 20,
    });
  });

  it('reads every setting', () => {
    const { config, problems } = load({
      FLOTILLA_KUSTOMIZE_BINARY: '/opt/tools/kustomize',
      FLOTILLA_KUSTOMIZE_TIMEOUT_SECONDS: '5',
      FLOTILLA_KUSTOMIZE_MAX_OUTPUT_MB: '8',
      FLOTILLA_KUSTOMIZE_MAX_INPUT_MB: '4',
    });
    expect(problems).toEqual([]);
    expect(config).toEqual({ binary: '/opt/tools/kustomize', timeoutMs: 5000, maxOutputBytes: 8 * 2 ** 20, maxInputBytes: 4 * 2 ** 20 });
  });

  it.each([
    { name: 'FLOTILLA_KUSTOMIZE_TIMEOUT_SECONDS', value: '0', problem: 'FLOTILLA_KUSTOMIZE_TIMEOUT_SECONDS must be an integer from 1 to 600 (got "0")' },
    { name: 'FLOTILLA_KUSTOMIZE_TIMEOUT_SECONDS', value: '2s', problem: 'FLOTILLA_KUSTOMIZE_TIMEOUT_SECONDS must be an integer from 1 to 600 (got "2s")' },
    { name: 'FLOTILLA_KUSTOMIZE_MAX_OUTPUT_MB', value: '2048', problem: 'FLOTILLA_KUSTOMIZE_MAX_OUTPUT_MB must be an integer from 1 to 1024 (got "2048")' },
    { name: 'FLOTILLA_KUSTOMIZE_MAX_INPUT_MB', value: '-1', problem: 'FLOTILLA_KUSTOMIZE_MAX_INPUT_MB must be an integer from 1 to 1024 (got "-1")' },
  ])('refuses $name=$value with a problem naming the range', ({ name, value, problem }) => {
    expect(load({ [name]: value }).problems).toEqual([problem]);
  });
});
