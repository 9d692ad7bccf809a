import { describe, expect, it } from 'vitest';
import { credentialIssue, loadAgentConfig, type AgentConfig } from './config.js';

const minimal = { FLOTILLA_HUB_ADDRESS: 'hub.flotilla.svc:7443', FLOTILLA_CLUSTER_NAME: 'edge-1', FLOTILLA_BOOTSTRAP_TOKEN: 'bt-secret-123' };

function configOf(env: Record<string, string | undefined>): AgentConfig {
  const result = loadAgentConfig(env);
  if (!result.ok) throw new Error(`expected a config, got issues: ${JSON.stringify(result.issues)}`);
  return result.config;
}

describe('loadAgentConfig', () => {
  it('fills every default from a minimal environment', () => {
    expect(configOf(minimal)).toEqual({
      hubAddress: 'hub.flotilla.svc:7443',
      clusterName: 'edge-1',
      bootstrapToken: 'bt-secret-123',
      stateDir: './.flotilla/agent-edge-1',
      driver: { kind: 'sim', healthyAfterMs: 2000, failApps: [] },
      logLevel: 'info',
      probePort: undefined,
      reconnectMaxMs: 30_000,
    });
  });

  it.each([
    { name: 'an IPv4 hub address is accepted', env: { FLOTILLA_HUB_ADDRESS: '10.0.0.7:443' }, want: { hubAddress: '10.0.0.7:443' } },
    { name: 'a bracketed IPv6 hub address is accepted', env: { FLOTILLA_HUB_ADDRESS: '[::1]:7443' }, want: { hubAddress: '[::1]:7443' } },
    { name: 'surrounding spaces are trimmed', env: { FLOTILLA_CLUSTER_NAME: '  edge-2 ' }, want: { clusterName: 'edge-2', stateDir: './.flotilla/agent-edge-2' } },
    { name: 'an explicit state dir wins over the default', env: { FLOTILLA_STATE_DIR: '/var/lib/flotilla' }, want: { stateDir: '/var/lib/flotilla' } },
    { name: 'an empty optional value counts as unset', env: { FLOTILLA_LOG_LEVEL: '', FLOTILLA_PROBE_PORT: '' }, want: { logLevel: 'info', probePort: undefined } },
    { name: 'the bootstrap token may be left out', env: { FLOTILLA_BOOTSTRAP_TOKEN: undefined }, want: { bootstrapToken: undefined } },
    { name: 'the probe port is read as a number', env: { FLOTILLA_PROBE_PORT: '8081' }, want: { probePort: 8081 } },
    { name: 'the reconnect ceiling is read as a number', env: { FLOTILLA_RECONNECT_MAX_MS: '5000' }, want: { reconnectMaxMs: 5000 } },
    { name: 'the log level is read', env: { FLOTILLA_LOG_LEVEL: 'debug' }, want: { logLevel: 'debug' } },
    {
      name: 'sim failure patterns are split, trimmed, deduplicated and sorted',
      env: { FLOTILLA_SIM_FAIL_APPS: ' web-* , db,,web-* ', FLOTILLA_SIM_HEALTHY_AFTER_MS: '0' },
      want: { driver: { kind: 'sim', healthyAfterMs: 0, failApps: ['db', 'web-*'] } },
    },
    { name: 'the sim driver can be named explicitly', env: { FLOTILLA_DRIVER: 'sim' }, want: { driver: { kind: 'sim', healthyAfterMs: 2000, failApps: [] } } },
  ])('$name', ({ env, want }) => {
    expect(configOf({ ...minimal, ...env })).toMatchObject(want);
  });

  it.each([
    { name: 'a missing hub address is required', env: { FLOTILLA_HUB_ADDRESS: undefined }, path: 'FLOTILLA_HUB_ADDRESS', code: 'required' },
    { name: 'a hub address with a scheme is invalid', env: { FLOTILLA_HUB_ADDRESS: 'https://hub:443' }, path: 'FLOTILLA_HUB_ADDRESS', code: 'invalid' },
    { name: 'a hub address without a port is invalid', env: { FLOTILLA_HUB_ADDRESS: 'hub.local' }, path: 'FLOTILLA_HUB_ADDRESS', code: 'invalid' },
    { name: 'a hub address with port 0 is invalid', env: { FLOTILLA_HUB_ADDRESS: 'hub:0' }, path: 'FLOTILLA_HUB_ADDRESS', code: 'invalid' },
    { name: 'a hub address with a bad IPv4 is invalid', env: { FLOTILLA_HUB_ADDRESS: '10.0.0.300:80' }, path: 'FLOTILLA_HUB_ADDRESS', code: 'invalid' },
    { name: 'a blank cluster name is required', env: { FLOTILLA_CLUSTER_NAME: '   ' }, path: 'FLOTILLA_CLUSTER_NAME', code: 'required' },
    { name: 'an uppercase cluster name is invalid', env: { FLOTILLA_CLUSTER_NAME: 'Edge-1' }, path: 'FLOTILLA_CLUSTER_NAME', code: 'invalid' },
    { name: 'a cluster name ending in a dash is invalid', env: { FLOTILLA_CLUSTER_NAME: 'edge-' }, path: 'FLOTILLA_CLUSTER_NAME', code: 'invalid' },
    { name: 'a cluster name over 63 characters is invalid', env: { FLOTILLA_CLUSTER_NAME: 'a'.repeat(64) }, path: 'FLOTILLA_CLUSTER_NAME', code: 'invalid' },
    { name: 'the kube driver is not available yet', env: { FLOTILLA_DRIVER: 'kube' }, path: 'FLOTILLA_DRIVER', code: 'unavailable' },
    { name: 'an unknown driver is invalid', env: { FLOTILLA_DRIVER: 'docker' }, path: 'FLOTILLA_DRIVER', code: 'invalid' },
    { name: 'a negative healthy delay is invalid', env: { FLOTILLA_SIM_HEALTHY_AFTER_MS: '-1' }, path: 'FLOTILLA_SIM_HEALTHY_AFTER_MS', code: 'invalid' },
    { name: 'a fractional healthy delay is invalid', env: { FLOTILLA_SIM_HEALTHY_AFTER_MS: '1.5' }, path: 'FLOTILLA_SIM_HEALTHY_AFTER_MS', code: 'invalid' },
    { name: 'a failure pattern with uppercase is invalid', env: { FLOTILLA_SIM_FAIL_APPS: 'Web' }, path: 'FLOTILLA_SIM_FAIL_APPS', code: 'invalid' },
    { name: 'an unknown log level is invalid', env: { FLOTILLA_LOG_LEVEL: 'trace' }, path: 'FLOTILLA_LOG_LEVEL', code: 'invalid' },
    { name: 'a probe port above 65535 is invalid', env: { FLOTILLA_PROBE_PORT: '70000' }, path: 'FLOTILLA_PROBE_PORT', code: 'invalid' },
    { name: 'a non-numeric probe port is invalid', env: { FLOTILLA_PROBE_PORT: 'http' }, path: 'FLOTILLA_PROBE_PORT', code: 'invalid' },
    { name: 'a reconnect ceiling below 100 ms is invalid', env: { FLOTILLA_RECONNECT_MAX_MS: '50' }, path: 'FLOTILLA_RECONNECT_MAX_MS', code: 'invalid' },
    { name: 'a bootstrap token with a space is invalid', env: { FLOTILLA_BOOTSTRAP_TOKEN: 'bt secret' }, path: 'FLOTILLA_BOOTSTRAP_TOKEN', code: 'invalid' },
  ])('$name', ({ env, path, code }) => {
    const result = loadAgentConfig({ ...minimal, ...env });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual([expect.objectContaining({ path, code })]);
    expect(result.issues[0]?.message).toContain(path);
  });

  it('reports every problem at once, sorted by variable name', () => {
    const result = loadAgentConfig({ FLOTILLA_LOG_LEVEL: 'loud', FLOTILLA_DRIVER: 'kube' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((issue) => issue.path)).toEqual([
      'FLOTILLA_CLUSTER_NAME',
      'FLOTILLA_DRIVER',
      'FLOTILLA_HUB_ADDRESS',
      'FLOTILLA_LOG_LEVEL',
    ]);
  });

  it('never echoes the bootstrap token in an issue', () => {
    const secret = 'super secret token';
    const result = loadAgentConfig({ ...minimal, FLOTILLA_BOOTSTRAP_TOKEN: secret });
    expect(JSON.stringify(result)).not.toContain('super secret');
  });

  it('bounds a long quoted value in a message', () => {
    const result = loadAgentConfig({ ...minimal, FLOTILLA_LOG_LEVEL: 'x'.repeat(10_000) });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]?.message.length).toBeLessThan(200);
  });

  it('does not read variables outside its contract', () => {
    expect(configOf({ ...minimal, HOME: '/root', FLOTILLA_UNKNOWN: 'x' })).toEqual(configOf(minimal));
  });
});

describe('credentialIssue', () => {
  const withToken = configOf(minimal);
  const withoutToken = configOf({ ...minimal, FLOTILLA_BOOTSTRAP_TOKEN: undefined });
  it.each([
    { name: 'a stored credential is enough without a token', stored: true, config: withoutToken, want: false },
    { name: 'a bootstrap token is enough without a stored credential', stored: false, config: withToken, want: false },
    { name: 'neither a credential nor a token is an issue', stored: false, config: withoutToken, want: true },
  ])('$name', ({ stored, config, want }) => {
    const issue = credentialIssue(stored, config);
    expect(issue !== undefined).toBe(want);
    if (issue !== undefined) expect(issue).toMatchObject({ code: 'required', path: 'FLOTILLA_BOOTSTRAP_TOKEN' });
  });
});
