import { describe, expect, it } from 'vitest';
import { HubConfigError, loadHubConfig } from './hub-config';
import { loadLogConfig } from './log-config';

const load = (env: Record<string, string | undefined>) => {
  const problems: string[] = [];
  return { config: loadLogConfig(env, problems), problems };
};

describe('loadLogConfig', () => {
  it.each([
    { name: 'unset means auto (text on a terminal, JSON otherwise)', env: {}, format: 'auto' },
    { name: 'empty means auto', env: { FLOTILLA_LOG_FORMAT: '' }, format: 'auto' },
    { name: 'json is taken', env: { FLOTILLA_LOG_FORMAT: 'json' }, format: 'json' },
    { name: 'text is taken, whatever its case', env: { FLOTILLA_LOG_FORMAT: 'TEXT' }, format: 'text' },
  ])('$name', ({ env, format }) => {
    expect(load(env)).toEqual({ config: { format }, problems: [] });
  });

  it('names the variable and the allowed values for anything else', () => {
    expect(load({ FLOTILLA_LOG_FORMAT: 'logfmt' }).problems).toEqual(['FLOTILLA_LOG_FORMAT must be json, text or auto (got "logfmt")']);
  });

  it('is part of the hub configuration, which refuses to start on a bad value', () => {
    expect(loadHubConfig({ FLOTILLA_LOG_FORMAT: 'json' }).log).toEqual({ format: 'json' });
    expect(() => loadHubConfig({ FLOTILLA_LOG_FORMAT: 'yaml' })).toThrow(HubConfigError);
  });
});
