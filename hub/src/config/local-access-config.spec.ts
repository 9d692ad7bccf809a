import { describe, expect, it } from 'vitest';
import { HubConfigError, loadHubConfig } from './hub-config';
import { loadLocalAccessConfig } from './local-access-config';

describe('loadLocalAccessConfig', () => {
  it('by default allows no local repository, any host, and bounds git at 60 s (10 s to connect)', () => {
    expect(loadHubConfig({}).localAccess).toEqual({ gitLocalPaths: [], gitAllowedHosts: undefined, gitTimeoutSeconds: 60, gitConnectTimeoutSeconds: 10 });
  });

  it.each([
    { case: '--demo (npm start) allows the working directory', env: {}, argv: ['--demo'], paths: [process.cwd()] },
    { case: '--demo with FLOTILLA_DEMO=false allows nothing', env: { FLOTILLA_DEMO: 'false' }, argv: ['--demo'], paths: [] },
    { case: '--no-demo allows nothing', env: {}, argv: ['--demo', '--no-demo'], paths: [] },
    { case: 'an explicit list wins over the demo default', env: { FLOTILLA_GIT_LOCAL_PATHS: '/srv/git' }, argv: ['--demo'], paths: ['/srv/git'] },
    { case: 'a comma list is trimmed and normalised', env: { FLOTILLA_GIT_LOCAL_PATHS: ' /srv/git/ , /home/ci/../ci/repos ' }, argv: [], paths: ['/srv/git', '/home/ci/repos'] },
  ])('$case', ({ env, argv, paths }) => {
    expect(loadLocalAccessConfig(env, [], argv).gitLocalPaths).toEqual(paths);
  });

  it('reads allowed hosts, lowercased, with wildcards and IP literals', () => {
    expect(loadLocalAccessConfig({ FLOTILLA_GIT_ALLOWED_HOSTS: 'GitHub.com, *.corp.example,10.0.0.7,[::1]' }, []).gitAllowedHosts).toEqual(['github.com', '*.corp.example', '10.0.0.7', '::1']);
  });

  it.each([
    { case: 'a relative local path', env: { FLOTILLA_GIT_LOCAL_PATHS: 'repos' }, problem: 'FLOTILLA_GIT_LOCAL_PATHS entries must be absolute folders' },
    { case: 'the root folder', env: { FLOTILLA_GIT_LOCAL_PATHS: '/' }, problem: 'may not allow "/"' },
    { case: 'a host with a scheme', env: { FLOTILLA_GIT_ALLOWED_HOSTS: 'https://github.com' }, problem: 'FLOTILLA_GIT_ALLOWED_HOSTS entries must be host names' },
    { case: 'a host with a port', env: { FLOTILLA_GIT_ALLOWED_HOSTS: 'github.com:443' }, problem: 'without scheme or port' },
    { case: 'a host list of commas only', env: { FLOTILLA_GIT_ALLOWED_HOSTS: ',' }, problem: 'must list at least one host' },
    { case: 'a timeout of zero', env: { FLOTILLA_GIT_TIMEOUT_SECONDS: '0' }, problem: 'FLOTILLA_GIT_TIMEOUT_SECONDS must be an integer from 1 to 3600' },
    { case: 'a connect timeout over the total', env: { FLOTILLA_GIT_TIMEOUT_SECONDS: '5', FLOTILLA_GIT_CONNECT_TIMEOUT_SECONDS: '20' }, problem: 'may not exceed FLOTILLA_GIT_TIMEOUT_SECONDS' },
  ])('refuses $case', ({ env, problem }) => {
    expect(() => loadHubConfig(env)).toThrow(HubConfigError);
    expect(() => loadHubConfig(env)).toThrow(problem);
  });

  it('a short total timeout lowers the default connect timeout with it', () => {
    expect(loadLocalAccessConfig({ FLOTILLA_GIT_TIMEOUT_SECONDS: '4' }, [])).toMatchObject({ gitTimeoutSeconds: 4, gitConnectTimeoutSeconds: 4 });
  });
});
