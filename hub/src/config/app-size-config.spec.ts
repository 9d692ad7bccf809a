import { LIMITS } from '@flotilla/proto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_APP_MB, loadAppSizeConfig } from './app-size-config';
import { loadHubConfig } from './hub-config';

const load = (env: Record<string, string | undefined>) => {
  const problems: string[] = [];
  const config = loadAppSizeConfig(env, problems);
  return { config, problems };
};

describe('loadAppSizeConfig', () => {
  it('caps an App at 16 MiB when nothing is set', () => {
    expect(DEFAULT_MAX_APP_MB).toBe(16);
    expect(load({})).toEqual({ config: { maxAppBytes: 16 * 2 ** 20 }, problems: [] });
  });

  it.each([
    { value: '1', bytes: 2 ** 20 },
    { value: ' 32 ', bytes: 32 * 2 ** 20 },
    { value: '64', bytes: LIMITS.maxAppManifestBytes },
  ])('reads FLOTILLA_MAX_APP_MB=$value', ({ value, bytes }) => {
    expect(load({ FLOTILLA_MAX_APP_MB: value })).toEqual({ config: { maxAppBytes: bytes }, problems: [] });
  });

  it.each([
    { value: '0' },
    { value: '65' },
    { value: '1.5' },
    { value: '16MB' },
  ])('refuses FLOTILLA_MAX_APP_MB=$value with a problem naming the range, keeping the default', ({ value }) => {
    expect(load({ FLOTILLA_MAX_APP_MB: value })).toEqual({
      config: { maxAppBytes: 16 * 2 ** 20 },
      problems: [`FLOTILLA_MAX_APP_MB must be an integer from 1 to 64 (got "${value}")`],
    });
  });

  it('refuses an App cap above the render output cap', () => {
    expect(load({ FLOTILLA_MAX_APP_MB: '32', FLOTILLA_RENDER_MAX_OUTPUT_MB: '20' }).problems).toEqual([
      'FLOTILLA_MAX_APP_MB (32) must not exceed FLOTILLA_RENDER_MAX_OUTPUT_MB (20): the render output cap covers every App of an AppSet together',
    ]);
  });

  it('is part of the hub configuration', () => {
    expect(loadHubConfig({ FLOTILLA_MAX_APP_MB: '8' }).appSize).toEqual({ maxAppBytes: 8 * 2 ** 20 });
  });
});
