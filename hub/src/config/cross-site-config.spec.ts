import { describe, expect, it } from 'vitest';
import { loadCrossSiteConfig } from './cross-site-config';
import { HubConfigError, loadHubConfig } from './hub-config';

const load = (env: Record<string, string | undefined>) => {
  const problems: string[] = [];
  return { config: loadCrossSiteConfig(env, problems, 'hub-7.lan'), problems };
};
const names = (env: Record<string, string | undefined>) => load(env).config.allowedHosts.map((h) => (h.port === undefined ? h.name : `${h.name}:${h.port}`));

describe('loadCrossSiteConfig', () => {
  it.each([
    { name: 'with nothing set, the machine’s hostname', env: {}, hosts: ['hub-7.lan'] },
    {
      name: 'with nothing set, the names the hub already has: HOST, the agent address’s host and the agent-link certificate names',
      env: { HOST: 'hub.internal', FLOTILLA_AGENT_ADDRESS: 'agents.example.com:4001', FLOTILLA_GRPC_TLS_SANS: 'hub.example.com,*.hub.example.com,10.0.0.7' },
      hosts: ['*.hub.example.com', 'agents.example.com', 'hub-7.lan', 'hub.example.com', 'hub.internal'],
    },
    { name: 'with nothing set, no IP or wildcard listen address (IPs are always allowed)', env: { HOST: '0.0.0.0', FLOTILLA_AGENT_ADDRESS: '[::1]:4001' }, hosts: ['hub-7.lan'] },
    { name: 'FLOTILLA_ALLOWED_HOSTS replaces the defaults', env: { FLOTILLA_ALLOWED_HOSTS: 'fleet.example.com, *.apps.example.com:443', HOST: 'hub.internal' }, hosts: ['fleet.example.com', '*.apps.example.com:443'] },
  ])('allows as hosts $name', ({ env, hosts }) => {
    expect(load(env).problems).toEqual([]);
    expect(names(env)).toEqual(hosts);
  });

  it('allows no other origin than the hub’s own by default, and the canonical FLOTILLA_ALLOWED_ORIGINS otherwise', () => {
    expect(load({}).config.allowedOrigins).toEqual([]);
    expect(load({ FLOTILLA_ALLOWED_ORIGINS: 'https://Dash.example.com:443, http://localhost:5173' }).config.allowedOrigins).toEqual(['https://dash.example.com', 'http://localhost:5173']);
  });

  it.each([
    { name: 'a host with a scheme', env: { FLOTILLA_ALLOWED_HOSTS: 'https://fleet.example.com' }, problem: 'FLOTILLA_ALLOWED_HOSTS must list host names (optionally *.-wildcarded, optionally with :port) or IP addresses, without a scheme or path; refused: "https://fleet.example.com"' },
    { name: 'a host with a path', env: { FLOTILLA_ALLOWED_HOSTS: 'fleet.example.com/x, ok.example.com' }, problem: 'refused: "fleet.example.com/x"' },
    { name: 'the opaque origin null', env: { FLOTILLA_ALLOWED_ORIGINS: 'null' }, problem: 'FLOTILLA_ALLOWED_ORIGINS must list exact origins such as https://fleet.example.com or http://localhost:5173 (a scheme, a host, an optional port, no path; never "null" or "*"); refused: "null"' },
    { name: 'a wildcard origin', env: { FLOTILLA_ALLOWED_ORIGINS: '*' }, problem: 'refused: "*"' },
    { name: 'an origin with a path', env: { FLOTILLA_ALLOWED_ORIGINS: 'https://dash.example.com/app' }, problem: 'refused: "https://dash.example.com/app"' },
    { name: 'an origin without a scheme', env: { FLOTILLA_ALLOWED_ORIGINS: 'dash.example.com' }, problem: 'refused: "dash.example.com"' },
  ])('refuses $name', ({ env, problem }) => {
    const { problems } = load(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });

  it('is part of the hub configuration, whose loader reports its problems with the others', () => {
    expect(loadHubConfig({ FLOTILLA_ALLOWED_ORIGINS: 'https://dash.example.com' }).crossSite.allowedOrigins).toEqual(['https://dash.example.com']);
    expect(() => loadHubConfig({ FLOTILLA_ALLOWED_HOSTS: 'http://x', PORT: 'http' })).toThrow(HubConfigError);
    expect(() => loadHubConfig({ FLOTILLA_ALLOWED_HOSTS: 'http://x' })).toThrow('FLOTILLA_ALLOWED_HOSTS must list host names');
  });
});
