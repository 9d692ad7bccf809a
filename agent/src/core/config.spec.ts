import { describe, expect, it } from 'vitest';
import { credentialIssue, loadAgentConfig, type AgentConfig } from './config.js';

// The loader checks the CA's shape only; the TLS handshake checks the certificate itself.
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
const minimal = { FLOTILLA_HUB_ADDRESS: 'hub.flotilla.svc:7443', FLOTILLA_HUB_CA: CA_PEM, FLOTILLA_CLUSTER_NAME: 'edge-1', FLOTILLA_BOOTSTRAP_TOKEN: 'bt-secret-123' };
const verified = { kind: 'tls', ca: { kind: 'pem', pem: CA_PEM.trim() }, serverName: undefined };

function configOf(env: Record<string, string | undefined>): AgentConfig {
  const result = loadAgentConfig(env);
  if (!result.ok) throw new Error(`expected a config, got issues: ${JSON.stringify(result.issues)}`);
  return result.config;
}

describe('loadAgentConfig', () => {
  it('fills every default from a minimal environment', () => {
    expect(configOf(minimal)).toEqual({
      transport: { kind: 'grpc', hubAddress: 'hub.flotilla.svc:7443', tls: verified },
      clusterName: 'edge-1',
      bootstrapToken: 'bt-secret-123',
      stateDir: './.flotilla/agent-edge-1',
      driver: { kind: 'sim', healthyAfterMs: 2000, failApps: [] },
      kube: { kubeconfig: undefined, agentNamespace: undefined },
      cacheStore: { kind: 'file' },
      logLevel: 'info',
      probePort: undefined,
      reconnectMaxMs: 30_000,
    });
  });

  it.each([
    { name: 'an IPv4 hub address is accepted', env: { FLOTILLA_HUB_ADDRESS: '10.0.0.7:443' }, want: { transport: { kind: 'grpc', hubAddress: '10.0.0.7:443' } } },
    { name: 'a bracketed IPv6 hub address is accepted', env: { FLOTILLA_HUB_ADDRESS: '[::1]:7443' }, want: { transport: { kind: 'grpc', hubAddress: '[::1]:7443' } } },
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
    { name: 'the kube driver can be chosen', env: { FLOTILLA_DRIVER: 'kube' }, want: { driver: { kind: 'kube' } } },
    { name: 'without a kubeconfig the default (in-cluster) configuration is used', env: {}, want: { kube: { kubeconfig: undefined, agentNamespace: undefined } } },
    { name: 'KUBECONFIG names the kubeconfig', env: { KUBECONFIG: '/k/config' }, want: { kube: { kubeconfig: '/k/config' } } },
    { name: 'FLOTILLA_KUBECONFIG wins over KUBECONFIG', env: { KUBECONFIG: '/k/config', FLOTILLA_KUBECONFIG: '/f/config' }, want: { kube: { kubeconfig: '/f/config' } } },
    { name: 'POD_NAMESPACE names the agent namespace', env: { POD_NAMESPACE: 'flotilla' }, want: { kube: { agentNamespace: 'flotilla' } } },
    { name: 'FLOTILLA_AGENT_NAMESPACE wins over POD_NAMESPACE', env: { POD_NAMESPACE: 'a', FLOTILLA_AGENT_NAMESPACE: 'b' }, want: { kube: { agentNamespace: 'b' } } },
    { name: 'the cache store is files by default', env: {}, want: { cacheStore: { kind: 'file' } } },
    { name: 'the Secret cache store has a default name prefix', env: { FLOTILLA_CACHE_STORE: 'secret' }, want: { cacheStore: { kind: 'secret', namePrefix: 'flotilla-agent' } } },
    { name: 'the hub CA may come from a file instead', env: { FLOTILLA_HUB_CA: undefined, FLOTILLA_HUB_CA_FILE: '/etc/flotilla/hub-ca/ca.crt' }, want: { transport: { tls: { kind: 'tls', ca: { kind: 'file', path: '/etc/flotilla/hub-ca/ca.crt' } } } } },
    { name: 'a PEM pasted with escaped line breaks is unescaped', env: { FLOTILLA_HUB_CA: CA_PEM.replace(/\n/g, '\\n') }, want: { transport: { tls: verified } } },
    { name: 'a TLS server name overrides the name checked in the certificate', env: { FLOTILLA_HUB_TLS_SERVER_NAME: 'hub.internal' }, want: { transport: { tls: { ...verified, serverName: 'hub.internal' } } } },
    { name: 'FLOTILLA_HUB_INSECURE=true dials in plaintext and needs no CA', env: { FLOTILLA_HUB_CA: undefined, FLOTILLA_HUB_INSECURE: 'true' }, want: { transport: { tls: { kind: 'insecure' } } } },
    { name: 'FLOTILLA_HUB_INSECURE=false keeps TLS', env: { FLOTILLA_HUB_INSECURE: 'false' }, want: { transport: { tls: verified } } },
    {
      name: 'the Secret name prefix can be set',
      env: { FLOTILLA_CACHE_STORE: 'secret', FLOTILLA_CACHE_SECRET_PREFIX: 'edge-agent' },
      want: { cacheStore: { kind: 'secret', namePrefix: 'edge-agent' } },
    },
  ])('$name', ({ env, want }) => {
    expect(configOf({ ...minimal, ...env })).toMatchObject(want);
  });

  it.each([
    { name: 'a missing hub address is required', env: { FLOTILLA_HUB_ADDRESS: undefined }, path: 'FLOTILLA_HUB_ADDRESS', code: 'required' },
    { name: 'a hub address with a scheme is invalid', env: { FLOTILLA_HUB_ADDRESS: 'https://hub:443' }, path: 'FLOTILLA_HUB_ADDRESS', code: 'invalid' },
    { name: 'a hub address without a port is invalid', env: { FLOTILLA_HUB_ADDRESS: 'hub.local' }, path: 'FLOTILLA_HUB_ADDRESS', code: 'invalid' },
    { name: 'a hub address with port 0 is invalid', env: { FLOTILLA_HUB_ADDRESS: 'hub:0' }, path: 'FLOTILLA_HUB_ADDRESS', code: 'invalid' },
    { name: 'a hub address with a bad IPv4 is invalid', env: { FLOTILLA_HUB_ADDRESS: '10.0.0.300:80' }, path: 'FLOTILLA_HUB_ADDRESS', code: 'invalid' },
    { name: 'a hub without a CA is refused (no silent plaintext)', env: { FLOTILLA_HUB_CA: undefined }, path: 'FLOTILLA_HUB_CA', code: 'required' },
    { name: 'a CA that is not PEM is invalid', env: { FLOTILLA_HUB_CA: 'not a certificate' }, path: 'FLOTILLA_HUB_CA', code: 'invalid' },
    { name: 'a CA as text and as a file are exclusive', env: { FLOTILLA_HUB_CA_FILE: '/ca.crt' }, path: 'FLOTILLA_HUB_CA', code: 'invalid' },
    { name: 'FLOTILLA_HUB_INSECURE=true with a CA is contradictory', env: { FLOTILLA_HUB_INSECURE: 'true' }, path: 'FLOTILLA_HUB_INSECURE', code: 'invalid' },
    { name: 'FLOTILLA_HUB_INSECURE must be a boolean', env: { FLOTILLA_HUB_INSECURE: 'maybe' }, path: 'FLOTILLA_HUB_INSECURE', code: 'invalid' },
    { name: 'a TLS server name that is not a DNS name is invalid', env: { FLOTILLA_HUB_TLS_SERVER_NAME: 'hub:443' }, path: 'FLOTILLA_HUB_TLS_SERVER_NAME', code: 'invalid' },
    { name: 'a blank cluster name is required', env: { FLOTILLA_CLUSTER_NAME: '   ' }, path: 'FLOTILLA_CLUSTER_NAME', code: 'required' },
    { name: 'an uppercase cluster name is invalid', env: { FLOTILLA_CLUSTER_NAME: 'Edge-1' }, path: 'FLOTILLA_CLUSTER_NAME', code: 'invalid' },
    { name: 'a cluster name ending in a dash is invalid', env: { FLOTILLA_CLUSTER_NAME: 'edge-' }, path: 'FLOTILLA_CLUSTER_NAME', code: 'invalid' },
    { name: 'a cluster name over 63 characters is invalid', env: { FLOTILLA_CLUSTER_NAME: 'a'.repeat(64) }, path: 'FLOTILLA_CLUSTER_NAME', code: 'invalid' },
    { name: 'an unknown cache store is invalid', env: { FLOTILLA_CACHE_STORE: 'etcd' }, path: 'FLOTILLA_CACHE_STORE', code: 'invalid' },
    { name: 'a Secret name prefix with uppercase is invalid', env: { FLOTILLA_CACHE_STORE: 'secret', FLOTILLA_CACHE_SECRET_PREFIX: 'Agent' }, path: 'FLOTILLA_CACHE_SECRET_PREFIX', code: 'invalid' },
    { name: 'an agent namespace that is not a name is invalid', env: { FLOTILLA_AGENT_NAMESPACE: 'Flotilla System' }, path: 'FLOTILLA_AGENT_NAMESPACE', code: 'invalid' },
    { name: 'a POD_NAMESPACE that is not a name is invalid', env: { POD_NAMESPACE: 'a/b' }, path: 'POD_NAMESPACE', code: 'invalid' },
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
    const result = loadAgentConfig({ FLOTILLA_LOG_LEVEL: 'loud', FLOTILLA_DRIVER: 'docker' });
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

describe('loadAgentConfig with FLOTILLA_TRANSPORT=nats', () => {
  const nats = { FLOTILLA_TRANSPORT: 'nats', FLOTILLA_NATS_URL: 'nats://n1:4222,n2:4222', FLOTILLA_CLUSTER_NAME: 'edge-1' };

  it('needs neither a hub address, a hub CA nor a bootstrap token, and defaults the bucket', () => {
    expect(configOf(nats).transport).toEqual({ kind: 'nats', servers: ['nats://n1:4222', 'n2:4222'], auth: { kind: 'none' }, kvBucket: 'flotilla-desired', caFile: undefined });
  });

  it.each([
    { name: 'a user and a password', env: { FLOTILLA_NATS_USER: 'edge-1', FLOTILLA_NATS_PASSWORD: 'pw-1' }, auth: { kind: 'password', user: 'edge-1', password: 'pw-1' } },
    { name: 'a creds file', env: { FLOTILLA_NATS_CREDS: '/var/run/secrets/nats/edge-1.creds' }, auth: { kind: 'creds', file: '/var/run/secrets/nats/edge-1.creds' } },
    { name: 'a user it enrolls itself (the hub as NATS operator)', env: { FLOTILLA_NATS_ENROLLMENT_JWT: 'eyJh.eyJi.c2ln' }, auth: { kind: 'operator', enrollmentJwt: 'eyJh.eyJi.c2ln' } },
  ])('authenticates with $name', ({ env, auth }) => {
    expect(configOf({ ...nats, ...env }).transport).toMatchObject({ kind: 'nats', auth });
  });

  it('takes the CA of tls:// servers from FLOTILLA_NATS_CA_FILE', () => {
    expect(configOf({ ...nats, FLOTILLA_NATS_URL: 'tls://n1:4222', FLOTILLA_NATS_CA_FILE: '/etc/nats/ca.pem' }).transport).toMatchObject({ caFile: '/etc/nats/ca.pem' });
  });

  it.each([
    { name: 'neither a stored NATS identity nor a bootstrap token is refused', stored: false, token: undefined, refused: true },
    { name: 'a stored NATS identity is enough', stored: true, token: undefined, refused: false },
    { name: 'a bootstrap token is enough', stored: false, token: 'flt_boot_x', refused: false },
  ])('with an enrollment JWT: $name', ({ stored, token, refused }) => {
    const config = configOf({ ...nats, FLOTILLA_NATS_ENROLLMENT_JWT: 'eyJh.eyJi.c2ln', FLOTILLA_BOOTSTRAP_TOKEN: token });
    expect(credentialIssue(stored, config) !== undefined).toBe(refused);
  });

  it('takes the bucket from FLOTILLA_NATS_KV_BUCKET', () => {
    expect(configOf({ ...nats, FLOTILLA_NATS_KV_BUCKET: 'desired-eu' }).transport).toMatchObject({ kvBucket: 'desired-eu' });
  });

  it.each([
    { name: 'a missing server list is required', env: { FLOTILLA_NATS_URL: undefined }, path: 'FLOTILLA_NATS_URL', code: 'required' },
    { name: 'a server of another scheme is invalid', env: { FLOTILLA_NATS_URL: 'http://n1:4222' }, path: 'FLOTILLA_NATS_URL', code: 'invalid' },
    { name: 'a user without a password is incomplete', env: { FLOTILLA_NATS_USER: 'edge-1' }, path: 'FLOTILLA_NATS_PASSWORD', code: 'required' },
    { name: 'a password without a user is incomplete', env: { FLOTILLA_NATS_PASSWORD: 'pw' }, path: 'FLOTILLA_NATS_USER', code: 'required' },
    { name: 'a creds file and a password are exclusive', env: { FLOTILLA_NATS_CREDS: '/c', FLOTILLA_NATS_USER: 'u', FLOTILLA_NATS_PASSWORD: 'pw' }, path: 'FLOTILLA_NATS_CREDS', code: 'invalid' },
    { name: 'a bucket name with a dot is invalid', env: { FLOTILLA_NATS_KV_BUCKET: 'a.b' }, path: 'FLOTILLA_NATS_KV_BUCKET', code: 'invalid' },
    { name: 'an enrollment JWT with a password is invalid', env: { FLOTILLA_NATS_ENROLLMENT_JWT: 'eyJh.eyJi.c2ln', FLOTILLA_NATS_USER: 'u', FLOTILLA_NATS_PASSWORD: 'pw' }, path: 'FLOTILLA_NATS_ENROLLMENT_JWT', code: 'invalid' },
    { name: 'an enrollment JWT that is not a JWT is invalid', env: { FLOTILLA_NATS_ENROLLMENT_JWT: 'not a jwt' }, path: 'FLOTILLA_NATS_ENROLLMENT_JWT', code: 'invalid' },
    { name: 'an unknown transport is invalid', env: { FLOTILLA_TRANSPORT: 'mqtt' }, path: 'FLOTILLA_TRANSPORT', code: 'invalid' },
  ])('$name', ({ env, path, code }) => {
    const result = loadAgentConfig({ ...nats, ...env });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual([expect.objectContaining({ path, code })]);
  });

  it('never echoes the NATS password or credentials in a server URL', () => {
    const result = loadAgentConfig({ ...nats, FLOTILLA_NATS_URL: 'nats://edge-1:hunter2@n1:4222', FLOTILLA_NATS_USER: 'edge-1', FLOTILLA_NATS_PASSWORD: 'pw-secret', FLOTILLA_LOG_LEVEL: 'loud' });
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toMatch(/hunter2|pw-secret/);
  });

  it('asks for no bootstrap token: the NATS user is the identity', () => {
    expect(credentialIssue(false, configOf(nats))).toBeUndefined();
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
