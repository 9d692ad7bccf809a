import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../agent/src/core/config.js';
import { loadHubConfig } from '../../hub/src/config/hub-config.js';
import { CHARTS, ensureHelm, helm, render } from './helm.js';
import { byKind, containerOf, deploymentOf, envOf, podSpecOf, resolveEnv } from './rendered.js';

// Credential lifetimes and NATS trust in the charts: the hub chart's agent certificate and NATS user
// JWT lifetimes, the hub as NATS operator, the servers and CA it hands to agents; the agent chart's
// nats.caBundle. Rendered env goes through the hub's and the agent's own loaders. Lint, Kubernetes
// schemas and the hardened pod of hub-nats-operator and agent-nats-ca-bundle are in charts.spec.ts.

beforeAll(() => ensureHelm(), 300_000);

const DAY = 86_400;
const HUB_CA_PEM = readFileSync(new URL('./fixtures/hub-ca.crt', import.meta.url), 'utf8');
const CA_KEY = Buffer.alloc(32, 7).toString('base64');
/** What the kubelet finds in the Secrets the hub cases refer to. */
const HUB_SECRETS = { 'flotilla-db': 'postgresql://from-secret', 'flotilla-flotilla-hub-database': 'postgresql://from-secret', 'flotilla-flotilla-hub-ca-encryption-key': CA_KEY };
const hubConfigOf = (values: string[], args: string[] = []) => loadHubConfig(resolveEnv(containerOf(render('flotilla-hub', values, args)), HUB_SECRETS));

describe('flotilla-hub: credential lifetimes', () => {
  it.each([
    { what: 'by default 30-day certificates, and no NATS operator', values: ['hub-minimal'], args: [], certSeconds: 30 * DAY, operator: undefined },
    { what: 'config.agentCertTtlDays', values: ['hub-minimal'], args: ['--set', 'config.agentCertTtlDays=365'], certSeconds: 365 * DAY, operator: undefined },
    { what: 'the hub-nats-operator values', values: ['hub-nats-operator'], args: [], certSeconds: 7 * DAY, operator: { kind: 'operator', userJwtTtlSeconds: DAY, seedFiles: undefined } },
    {
      what: 'nats.operator with its default 30-day user JWTs',
      values: ['hub-minimal'],
      args: ['--set', 'nats.url=nats://nats:4222', '--set', 'nats.operator.enabled=true'],
      certSeconds: 30 * DAY,
      operator: { kind: 'operator', userJwtTtlSeconds: 30 * DAY, seedFiles: undefined },
    },
    {
      what: 'the shortest user JWT lifetime the hub takes',
      values: ['hub-minimal'],
      args: ['--set', 'nats.url=nats://nats:4222', '--set', 'nats.operator.enabled=true', '--set', 'nats.operator.userJwtTtlSeconds=5'],
      certSeconds: 30 * DAY,
      operator: { kind: 'operator', userJwtTtlSeconds: 5, seedFiles: undefined },
    },
  ])('$what reach the hub', ({ values, args, certSeconds, operator }) => {
    const config = hubConfigOf(values, args);
    expect(config.agentCertTtlSeconds).toBe(certSeconds);
    expect(config.nats?.auth.kind === 'operator' ? config.nats.auth : undefined).toEqual(operator);
  });
});

describe('flotilla-hub: the hub as NATS operator and what it hands to agents', () => {
  it('mounts the NATS CA and the agents’ CA read-only where the hub looks for them, and loads the agents’ servers', () => {
    const manifests = render('flotilla-hub', ['hub-nats-operator']);
    const config = loadHubConfig(resolveEnv(containerOf(manifests), HUB_SECRETS));
    expect(config.nats).toMatchObject({ servers: ['tls://nats.nats.svc:4222'], caFile: '/etc/flotilla/nats-ca/ca.crt', auth: { kind: 'operator' } });
    expect(config.agentNats).toEqual({ servers: ['tls://leaf-eu.example.com:4222', 'tls://leaf-us.example.com:4222'], caFile: '/etc/flotilla/agent-nats-ca/ca.pem' });
    const pod = podSpecOf(deploymentOf(manifests));
    expect(pod.volumes?.filter((v) => ['nats-ca', 'agent-nats-ca'].includes(v['name'] as string))).toEqual([
      { name: 'nats-ca', secret: { secretName: 'nats-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { name: 'agent-nats-ca', secret: { secretName: 'leaf-ca', items: [{ key: 'ca.pem', path: 'ca.pem' }] } },
    ]);
    expect(pod.containers[0]?.volumeMounts).toEqual(
      expect.arrayContaining([
        { name: 'nats-ca', mountPath: '/etc/flotilla/nats-ca', readOnly: true },
        { name: 'agent-nats-ca', mountPath: '/etc/flotilla/agent-nats-ca', readOnly: true },
      ]),
    );
  });

  it('renders none of it when NATS is off', () => {
    const container = containerOf(render('flotilla-hub', ['hub-minimal']));
    for (const name of ['FLOTILLA_NATS_OPERATOR', 'FLOTILLA_NATS_USER_JWT_TTL_SECONDS', 'FLOTILLA_NATS_CA_FILE', 'FLOTILLA_AGENT_NATS_URL', 'FLOTILLA_AGENT_NATS_CA_FILE']) expect(envOf(container, name), name).toBeUndefined();
  });

  it.each([
    { what: 'a certificate lifetime of 0 days (schema)', args: ['--set', 'config.agentCertTtlDays=0'], message: /at '\/config\/agentCertTtlDays': minimum: got 0, want 1/ },
    { what: 'a certificate lifetime over 365 days (schema)', args: ['--set', 'config.agentCertTtlDays=366'], message: /at '\/config\/agentCertTtlDays': maximum: got 366, want 365/ },
    { what: 'a certificate lifetime with a unit (schema)', args: ['--set-string', 'config.agentCertTtlDays=30d'], message: /at '\/config\/agentCertTtlDays': got string, want integer/ },
    {
      what: 'a user JWT lifetime under 5 seconds (schema)',
      args: ['--set', 'nats.url=nats://n:4222', '--set', 'nats.operator.enabled=true', '--set', 'nats.operator.userJwtTtlSeconds=4'],
      message: /at '\/nats\/operator\/userJwtTtlSeconds': minimum: got 4, want 5/,
    },
    {
      what: 'a user JWT lifetime over 30 days (schema)',
      args: ['--set', 'nats.url=nats://n:4222', '--set', 'nats.operator.enabled=true', '--set', 'nats.operator.userJwtTtlSeconds=2592001'],
      // (helm prints large numbers in scientific notation)
      message: /at '\/nats\/operator\/userJwtTtlSeconds': maximum: got 2\.592001×10⁰⁶, want 2\.592×10⁰⁶/,
    },
    { what: 'the operator without nats.url', args: ['--set', 'nats.operator.enabled=true'], message: /nats.url is required with nats.operator.enabled, nats.caSecret, nats.agentUrl or nats.agentCaSecret/ },
    { what: 'a NATS CA without nats.url', args: ['--set', 'nats.caSecret=nats-ca'], message: /nats.url is required with nats.operator.enabled, nats.caSecret/ },
    {
      what: 'the operator with a NATS user',
      args: ['--set', 'nats.url=nats://n:4222', '--set', 'nats.operator.enabled=true', '--set', 'nats.user=hub', '--set', 'nats.existingSecret=s'],
      message: /nats.operator.enabled makes the hub sign its own NATS user/,
    },
    { what: 'the operator with a .creds Secret', args: ['--set', 'nats.url=nats://n:4222', '--set', 'nats.operator.enabled=true', '--set', 'nats.credsSecret=c'], message: /nats.operator.enabled makes the hub sign its own NATS user/ },
    { what: "the agents' servers without the operator", args: ['--set', 'nats.url=nats://n:4222', '--set', 'nats.agentUrl=tls://leaf:4222'], message: /nats.agentUrl and nats.agentCaSecret are handed to agents by the install command of a hub that is the NATS operator/ },
    { what: "the agents' CA without the operator", args: ['--set', 'nats.url=nats://n:4222', '--set', 'nats.agentCaSecret=leaf-ca'], message: /nats.agentUrl and nats.agentCaSecret are handed to agents by the install command of a hub that is the NATS operator/ },
    { what: "credentials in the agents' URL (schema)", args: ['--set', 'nats.url=nats://n:4222', '--set', 'nats.agentUrl=tls://u:p@leaf:4222'], message: /at '\/nats\/agentUrl': 'tls:\/\/u:p@leaf:4222' does not match pattern/ },
  ])('refuses $what', ({ args, message }) => {
    const run = helm(['template', 'flotilla', join(CHARTS, 'flotilla-hub'), '--set', 'database.url=postgresql://db', ...args]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(message);
  });
});

describe('flotilla-agent: the NATS CA given as nats.caBundle', () => {
  const JWT = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJuYW1lIjoiZmxvdGlsbGEtZW5yb2xsbWVudCJ9.c2lnbmF0dXJl';
  const enrolling = ['--set', 'cluster.name=edge-8', '--set', 'transport=nats', '--set', 'nats.url=tls://nats.example.com:4222', '--set', 'bootstrapToken.value=flt_boot_edge8', '--set', `nats.enrollmentJwt.value=${JWT}`];
  const secrets = { 'flotilla-flotilla-agent-nats-enrollment': JWT, 'flotilla-flotilla-agent-bootstrap-token': 'flt_boot_edge8' };

  it.each([
    { what: 'as PEM (the agent-nats-ca-bundle values)', values: ['agent-nats-ca-bundle'], args: [] },
    { what: 'as base64 of the PEM, as the install command sets it', values: [], args: [...enrolling, '--set-string', `nats.caBundle=${Buffer.from(HUB_CA_PEM).toString('base64')}`] },
  ])('$what: a ConfigMap holding the PEM, mounted read-only where FLOTILLA_NATS_CA_FILE points', ({ values, args }) => {
    const manifests = render('flotilla-agent', values, args);
    const configMaps = byKind(manifests, 'ConfigMap');
    expect(configMaps.map((m) => m.metadata.name)).toEqual(['flotilla-flotilla-agent-nats-ca']);
    expect((configMaps[0]!['data'] as Record<string, string>)['ca.crt']?.trim()).toBe(HUB_CA_PEM.trim());
    const pod = podSpecOf(deploymentOf(manifests));
    expect(pod.volumes?.find((v) => v['name'] === 'nats-ca')).toEqual({ name: 'nats-ca', configMap: { name: 'flotilla-flotilla-agent-nats-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] } });
    expect(pod.containers[0]?.volumeMounts).toContainEqual({ name: 'nats-ca', mountPath: '/etc/flotilla/nats-ca', readOnly: true });
    const env = resolveEnv(containerOf(manifests), secrets);
    expect(loadAgentConfig(env)).toMatchObject({ ok: true, config: { transport: { kind: 'nats', caFile: '/etc/flotilla/nats-ca/ca.crt' } } });
  });

  it('rolls the pod when the CA changes', () => {
    const checksum = (pem: string) => ((deploymentOf(render('flotilla-agent', [], [...enrolling, '--set-string', `nats.caBundle=${Buffer.from(pem).toString('base64')}`]))['spec'] as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations['checksum/nats-ca']);
    expect(checksum(HUB_CA_PEM)).toMatch(/^[0-9a-f]{16}$/);
    expect(checksum(HUB_CA_PEM)).not.toBe(checksum(HUB_CA_PEM.replace('MIIB', 'MIIC')));
  });

  it.each([
    { what: 'both nats.caBundle and nats.caSecret', args: [...enrolling, '--set-string', `nats.caBundle=${Buffer.from(HUB_CA_PEM).toString('base64')}`, '--set', 'nats.caSecret=nats-ca'], message: /nats: set either nats.caBundle or nats.caSecret, not both/ },
    { what: 'a caBundle that is not PEM', args: [...enrolling, '--set-string', `nats.caBundle=${Buffer.from('not a certificate').toString('base64')}`], message: /nats.caBundle must be PEM certificates/ },
  ])('refuses $what', ({ args, message }) => {
    const run = helm(['template', 'flotilla', join(CHARTS, 'flotilla-agent'), ...args]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(message);
  });
});
