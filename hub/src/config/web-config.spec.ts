import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_WEB_DIR, loadWebConfig } from './web-config';

describe('loadWebConfig', () => {
  it.each([
    ['unset', {}, { dir: DEFAULT_WEB_DIR, explicit: false }],
    ['blank', { FLOTILLA_WEB_DIR: '  ' }, { dir: DEFAULT_WEB_DIR, explicit: false }],
    ['an absolute folder', { FLOTILLA_WEB_DIR: '/srv/flotilla/web' }, { dir: '/srv/flotilla/web', explicit: true }],
    ['an absolute folder with blanks around it', { FLOTILLA_WEB_DIR: ' /srv/web ' }, { dir: '/srv/web', explicit: true }],
  ])('reads FLOTILLA_WEB_DIR %s', (_case, env, expected) => {
    const problems: string[] = [];
    expect(loadWebConfig(env, problems)).toEqual(expected);
    expect(problems).toEqual([]);
  });

  it('refuses a relative FLOTILLA_WEB_DIR, naming the variable', () => {
    const problems: string[] = [];
    loadWebConfig({ FLOTILLA_WEB_DIR: 'web/dist' }, problems);
    expect(problems).toEqual(['FLOTILLA_WEB_DIR must be an absolute path (got "web/dist")']);
  });

  it('defaults to the web package of the repository', () => {
    expect(existsSync(join(DEFAULT_WEB_DIR, '..', 'package.json'))).toBe(true);
    expect(DEFAULT_WEB_DIR.endsWith(join('web', 'dist'))).toBe(true);
  });
});
