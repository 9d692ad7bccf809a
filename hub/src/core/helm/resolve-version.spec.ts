import { describe, expect, it } from 'vitest';
import { resolveChartVersion } from './resolve-version';

const listed = ['1.2.0', '1.3.0', '1.3.1', '2.0.0-rc.1', '1.10.0', 'v0.9.0', 'latest'];

describe('resolveChartVersion', () => {
  it.each([
    { requested: '1.3.0', version: '1.3.0' },
    { requested: 'v1.3.0', version: '1.3.0' },
    { requested: '0.9.0', version: 'v0.9.0' },
    { requested: '^1.2.0', version: '1.10.0' },
    { requested: '~1.3.0', version: '1.3.1' },
    { requested: '>=1.2.0 <1.3.0', version: '1.2.0' },
    { requested: '1.x', version: '1.10.0' },
    { requested: undefined, version: '1.10.0' },
    { requested: '', version: '1.10.0' },
    { requested: '>=2.0.0-rc.0', version: '2.0.0-rc.1' },
    { requested: '2.0.0-rc.1', version: '2.0.0-rc.1' },
  ])('$requested picks $version (highest match, prereleases only when named)', ({ requested, version }) => {
    expect(resolveChartVersion('web', requested, listed)).toEqual({ ok: true, version });
  });

  it('refuses an exact version the repository does not list, naming the listed ones newest first', () => {
    expect(resolveChartVersion('web', '1.4.0', ['1.2.0', '1.3.0'])).toEqual({ ok: false, code: 'CHART_VERSION_NOT_FOUND', message: 'chart web has no version 1.4.0 (listed: 1.3.0, 1.2.0).' });
  });

  it('refuses a range nothing satisfies', () => {
    expect(resolveChartVersion('web', '^3.0.0', listed)).toMatchObject({ ok: false, code: 'CHART_VERSION_NOT_FOUND' });
  });

  it('says so when the repository lists no versions of the chart', () => {
    expect(resolveChartVersion('web', '^1.0.0', [])).toEqual({ ok: false, code: 'CHART_VERSION_NOT_FOUND', message: 'chart web has no version ^1.0.0 (the repository lists no versions of it).' });
  });

  it('refuses a version that is neither a version nor a range', () => {
    expect(resolveChartVersion('web', 'not a version!', listed)).toMatchObject({ ok: false, code: 'CHART_VERSION_INVALID' });
  });
});
