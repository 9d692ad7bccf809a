import { describe, expect, it } from 'vitest';
import { loadHubConfig } from './hub-config';
import { DEFAULT_RENDER_MAX_OUTPUT_MB, DEFAULT_RENDER_MEMORY_MB, DEFAULT_RENDER_TIMEOUT_MS, loadRenderConfig } from './render-config';

const load = (env: Record<string, string | undefined>, parallelism = 4) => {
  const problems: string[] = [];
  const config = loadRenderConfig(env, problems, parallelism);
  return { config, problems };
};

describe('loadRenderConfig', () => {
  it('uses the documented defaults when nothing is set', () => {
    const { config, problems } = load({});
    expect(problems).toEqual([]);
    expect(config).toEqual({ timeoutMs: DEFAULT_RENDER_TIMEOUT_MS, memoryMb: DEFAULT_RENDER_MEMORY_MB, workers: 3, maxOutputBytes: DEFAULT_RENDER_MAX_OUTPUT_MB * 2 ** 20 });
  });

  it.each([
    { parallelism: 1, workers: 1 },
    { parallelism: 2, workers: 1 },
    { parallelism: 3, workers: 2 },
    { parallelism: 16, workers: 4 },
  ])('with $parallelism cores the default is $workers workers, leaving a core to the event loop', ({ parallelism, workers }) => {
    expect(load({}, parallelism).config.workers).toBe(workers);
  });

  it('reads every setting', () => {
    const { config, problems } = load({ FLOTILLA_RENDER_TIMEOUT_MS: '2500', FLOTILLA_RENDER_MEMORY_MB: '128', FLOTILLA_RENDER_WORKERS: '6', FLOTILLA_RENDER_MAX_OUTPUT_MB: '32' });
    expect(problems).toEqual([]);
    expect(config).toEqual({ timeoutMs: 2500, memoryMb: 128, workers: 6, maxOutputBytes: 32 * 2 ** 20 });
  });

  it.each([
    { name: 'FLOTILLA_RENDER_TIMEOUT_MS', value: '50', problem: 'FLOTILLA_RENDER_TIMEOUT_MS must be an integer from 100 to 600000 (got "50")' },
    { name: 'FLOTILLA_RENDER_TIMEOUT_MS', value: '2s', problem: 'FLOTILLA_RENDER_TIMEOUT_MS must be an integer from 100 to 600000 (got "2s")' },
    { name: 'FLOTILLA_RENDER_MEMORY_MB', value: '16', problem: 'FLOTILLA_RENDER_MEMORY_MB must be an integer from 32 to 65536 (got "16")' },
    { name: 'FLOTILLA_RENDER_WORKERS', value: '0', problem: 'FLOTILLA_RENDER_WORKERS must be an integer from 1 to 64 (got "0")' },
    { name: 'FLOTILLA_RENDER_MAX_OUTPUT_MB', value: '1.5', problem: 'FLOTILLA_RENDER_MAX_OUTPUT_MB must be an integer from 1 to 16384 (got "1.5")' },
  ])('refuses $name=$value with a problem naming the range', ({ name, value, problem }) => {
    expect(load({ [name]: value }).problems).toEqual([problem]);
  });

  it('is part of the hub configuration, whose loading lists a bad value with the others', () => {
    expect(loadHubConfig({ FLOTILLA_RENDER_WORKERS: '2' }).render.workers).toBe(2);
    expect(() => loadHubConfig({ FLOTILLA_RENDER_TIMEOUT_MS: 'soon' })).toThrow(/FLOTILLA_RENDER_TIMEOUT_MS must be an integer/);
  });
});
