import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { upsertContext, EMPTY_CONFIG } from '../core/cli-config.js';
import { configFilePath, readConfigFile, writeConfigFile } from './config-file.js';

const scratch = () => mkdtempSync(join(tmpdir(), 'flotilla-cli-config-'));

describe('configFilePath', () => {
  it.each([
    { env: { XDG_CONFIG_HOME: '/xdg', HOME: '/home/me' }, want: '/xdg/flotilla/config.yaml' },
    { env: { HOME: '/home/me' }, want: '/home/me/.config/flotilla/config.yaml' },
    { env: { XDG_CONFIG_HOME: 'relative', HOME: '/home/me' }, want: '/home/me/.config/flotilla/config.yaml' },
    { env: { XDG_CONFIG_HOME: '', HOME: '/home/me' }, want: '/home/me/.config/flotilla/config.yaml' },
  ])('is $want for $env', ({ env, want }) => {
    expect(configFilePath(env)).toBe(want);
  });
});

describe('the config file', () => {
  const config = upsertContext(EMPTY_CONFIG, { name: 'demo', server: 'http://127.0.0.1:4000/graphql', token: 'flt_api_x' });

  it('is written 0600 in a folder made 0700, and read back as written', () => {
    const file = join(scratch(), 'flotilla', 'config.yaml');
    writeConfigFile(file, config);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(file, '..')).mode & 0o777).toBe(0o700);
    expect(readConfigFile(file)).toEqual(config);
  });

  it('tightens a folder that other users could read and replaces a file that was readable', () => {
    const dir = join(scratch(), 'flotilla');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'contexts: []\n', { mode: 0o644 });
    writeConfigFile(file, config);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('is empty when missing', () => {
    expect(readConfigFile(join(scratch(), 'none.yaml'))).toEqual(EMPTY_CONFIG);
  });

  it('is refused with its name when it is not YAML or not a config', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'bad.yaml'), 'contexts: [\n');
    expect(() => readConfigFile(join(dir, 'bad.yaml'))).toThrow(`${join(dir, 'bad.yaml')}: not YAML`);
    writeFileSync(join(dir, 'wrong.yaml'), 'contexts: 5\n');
    expect(() => readConfigFile(join(dir, 'wrong.yaml'))).toThrow('contexts must be a list');
  });

  it('keeps the token only in the file, which holds nothing else readable', () => {
    const file = join(scratch(), 'flotilla', 'config.yaml');
    writeConfigFile(file, config);
    expect(readFileSync(file, 'utf8')).toContain('token: flt_api_x');
  });
});
