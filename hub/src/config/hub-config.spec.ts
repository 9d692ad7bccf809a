import { describe, expect, it } from 'vitest';
import { HubConfigError, loadHubConfig } from './hub-config';

describe('loadHubConfig', () => {
  it('with no environment the hub listens on 4000, uses the embedded database and runs no demo', () => {
    const config = loadHubConfig({});
    expect(config).toMatchObject({ port: 4000, grpcPort: 4001, databaseUrl: undefined, demo: false, dataDir: '.flotilla/hub-data' });
  });

  it.each([
    { name: '--demo turns the demo fleet on', env: {}, argv: ['--demo'], demo: true },
    { name: 'FLOTILLA_DEMO=false turns it off even with --demo', env: { FLOTILLA_DEMO: 'false' }, argv: ['--demo'], demo: false },
    { name: '--no-demo turns it off', env: { FLOTILLA_DEMO: 'true' }, argv: ['--no-demo'], demo: false },
  ])('$name', ({ env, argv, demo }) => {
    expect(loadHubConfig(env, argv).demo).toBe(demo);
  });

  it.each([
    { name: 'a port that is not a number is refused', env: { PORT: 'http' }, problem: 'PORT must be an integer' },
    { name: 'a database URL of another scheme is refused', env: { DATABASE_URL: 'mysql://x' }, problem: 'DATABASE_URL must be a postgres' },
    { name: 'an unknown log level is refused', env: { FLOTILLA_LOG_LEVEL: 'loud' }, problem: 'FLOTILLA_LOG_LEVEL' },
  ])('$name', ({ env, problem }) => {
    expect(() => loadHubConfig(env)).toThrow(HubConfigError);
    expect(() => loadHubConfig(env)).toThrow(problem);
  });

  it('a bad DATABASE_URL is reported without echoing it (it may hold a password)', () => {
    try {
      loadHubConfig({ DATABASE_URL: 'mysql://root:hunter2@db' });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).not.toContain('hunter2');
    }
  });
});
