import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../../hub/src/config/hub-config.js';
import { refuseCrossSite } from '../../hub/src/core/http/cross-site.js';
import { CHARTS, ensureHelm, helm, render } from './helm.js';
import { containerOf, envOf, resolveEnv } from './rendered.js';

// The hub chart's cross-site settings: FLOTILLA_ALLOWED_HOSTS names the Service (and the Ingress hosts),
// so that the hub answers in-cluster clients, the Ingress and the kubelet's probes, and nothing else by
// name; FLOTILLA_ALLOWED_ORIGINS is set only when asked.

beforeAll(() => ensureHelm(), 300_000);

const CA_KEY = Buffer.alloc(32, 5).toString('base64');
const SECRETS = { 'flotilla-flotilla-hub-database': 'postgresql://from-secret', 'flotilla-db': 'postgresql://from-secret', 'flotilla-flotilla-hub-ca-encryption-key': CA_KEY, 'flotilla-ca-key': CA_KEY };
const SERVICE_NAMES = ['flotilla-flotilla-hub', 'flotilla-flotilla-hub.flotilla-system', 'flotilla-flotilla-hub.flotilla-system.svc', 'flotilla-flotilla-hub.flotilla-system.svc.cluster.local'];

/** The hub configuration the rendered Deployment gives, as the hub's own loader reads it. */
const hubConfigOf = (values: string[], args: string[] = []) => {
  const container = containerOf(render('flotilla-hub', values, args));
  return { container, config: loadHubConfig(resolveEnv(container, SECRETS)) };
};

/** What the hub's edge answers a GET /healthz with this Host (undefined: let through). */
const edgeAnswer = (config: ReturnType<typeof loadHubConfig>, host: string, origin?: string) =>
  refuseCrossSite({ method: 'GET', route: '/healthz', host, origin, contentType: undefined }, config.crossSite)?.status;

describe('flotilla-hub: allowed hosts and origins', () => {
  it.each([
    { what: 'the Service’s DNS names only, by default (the default ingress host stays out while the Ingress is off)', values: ['hub-minimal'], args: [], hosts: SERVICE_NAMES },
    { what: 'the Service’s names and the Ingress host with the Ingress on (hub-ha)', values: ['hub-ha'], args: [], hosts: [...SERVICE_NAMES, 'flotilla.example.com'] },
    {
      what: 'the extra names of crossSite.extraAllowedHosts after them, duplicates once',
      values: ['hub-ha'],
      args: ['--set-json', 'crossSite.extraAllowedHosts=["lb.example.com:8443","*.gw.example.com","flotilla.example.com"]'],
      hosts: [...SERVICE_NAMES, 'flotilla.example.com', 'lb.example.com:8443', '*.gw.example.com'],
    },
  ])('sets FLOTILLA_ALLOWED_HOSTS to $what', ({ values, args, hosts }) => {
    const { container, config } = hubConfigOf(values, args);
    expect(envOf(container, 'FLOTILLA_ALLOWED_HOSTS')?.value?.split(',')).toEqual(hosts);
    expect(config.crossSite.allowedHosts.map((h) => (h.port === undefined ? h.name : `${h.name}:${h.port}`))).toEqual(hosts);
  });

  it('lets the hub answer its Service names, the Ingress host, the kubelet’s probes on the pod IP and localhost, and refuse another name', () => {
    const { config } = hubConfigOf(['hub-ha']);
    const answers = Object.fromEntries(
      [...SERVICE_NAMES.map((name) => `${name}:4000`), 'flotilla.example.com', '10.244.3.17:4000', 'localhost:4000', 'evil.example.com', 'flotilla.example.com.evil.example'].map((host) => [host, edgeAnswer(config, host)]),
    );
    expect(answers).toEqual({
      ...Object.fromEntries(SERVICE_NAMES.map((name) => [`${name}:4000`, undefined])),
      'flotilla.example.com': undefined,
      '10.244.3.17:4000': undefined,
      'localhost:4000': undefined,
      'evil.example.com': 421,
      'flotilla.example.com.evil.example': 421,
    });
    // Behind the Ingress, the hub's own pages are same-origin.
    expect(edgeAnswer(config, 'flotilla.example.com', 'https://flotilla.example.com')).toBeUndefined();
  });

  it('sets no FLOTILLA_ALLOWED_ORIGINS by default (same-origin only), and the list of crossSite.allowedOrigins when given', () => {
    expect(envOf(hubConfigOf(['hub-minimal']).container, 'FLOTILLA_ALLOWED_ORIGINS')).toBeUndefined();
    const { container, config } = hubConfigOf(['hub-minimal'], ['--set-json', 'crossSite.allowedOrigins=["https://dash.example.com","http://localhost:5173"]']);
    expect(envOf(container, 'FLOTILLA_ALLOWED_ORIGINS')?.value).toBe('https://dash.example.com,http://localhost:5173');
    expect(config.crossSite.allowedOrigins).toEqual(['https://dash.example.com', 'http://localhost:5173']);
    expect(edgeAnswer(config, '10.0.0.1:4000', 'https://dash.example.com')).toBeUndefined();
    expect(edgeAnswer(config, '10.0.0.1:4000', 'https://evil.example.com')).toBe(403);
  });
});

describe('flotilla-hub refuses cross-site values', () => {
  const DB = ['--set', 'database.url=postgres://db/f'];
  it.each([
    { what: 'an extra host with a scheme', args: ['--set-json', 'crossSite.extraAllowedHosts=["https://lb.example.com"]'], message: /at '\/crossSite\/extraAllowedHosts\/0'/ },
    { what: 'an extra host with a path', args: ['--set-json', 'crossSite.extraAllowedHosts=["lb.example.com/hub"]'], message: /at '\/crossSite\/extraAllowedHosts\/0'/ },
    { what: 'an origin with a path', args: ['--set-json', 'crossSite.allowedOrigins=["https://dash.example.com/app"]'], message: /at '\/crossSite\/allowedOrigins\/0'/ },
    { what: 'the opaque origin null', args: ['--set-json', 'crossSite.allowedOrigins=["null"]'], message: /at '\/crossSite\/allowedOrigins\/0'/ },
    { what: 'a wildcard origin', args: ['--set-json', 'crossSite.allowedOrigins=["*"]'], message: /at '\/crossSite\/allowedOrigins\/0'/ },
    { what: 'an unknown key', args: ['--set', 'crossSite.allowAll=true'], message: /additional properties 'allowAll' not allowed/ },
  ])('refuses $what', ({ args, message }) => {
    const run = helm(['template', 'flotilla', join(CHARTS, 'flotilla-hub'), ...DB, ...args]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(message);
  });
});
