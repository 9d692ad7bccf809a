import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../agent/src/core/config.js';
import { loadHubConfig } from '../../hub/src/config/hub-config.js';
import { CHARTS, ensureHelm, helm, render, type Manifest } from './helm.js';
import { byKind, containerOf, deploymentOf, envOf, podSpecOf, resolveEnv } from './rendered.js';

// TLS of the gRPC agent link in both charts: the agent mounts the hub's CA and verifies the hub with
// it; the hub gets the key that opens its CA from a Secret (or mounts the operator's CA) and the names
// of its certificate. Rendered env goes through each component's own loader.

beforeAll(() => ensureHelm(), 300_000);

const HUB_CA = readFileSync(new URL('./fixtures/hub-ca.crt', import.meta.url), 'utf8');
const AGENT_BASE = ['--set', 'cluster.name=eu-west-1', '--set', 'hub.address=hub.example.com:4001', '--set', 'bootstrapToken.value=flt_boot_x'];
const HUB_BASE = ['--set', 'database.url=postgresql://flotilla:pw@db.example.com:5432/flotilla'];
const CA_KEY = Buffer.alloc(32, 9).toString('base64');

const dataOf = (manifest: Manifest | undefined): Record<string, string> => (manifest?.['data'] as Record<string, string> | undefined) ?? {};
const volume = (manifests: Manifest[], name: string) => podSpecOf(deploymentOf(manifests)).volumes?.find((v) => v['name'] === name);

describe('flotilla-agent: the hub CA', () => {
  it.each([
    { what: 'hub.caBundle as PEM (agent-minimal)', values: ['agent-minimal'], args: [] },
    { what: 'hub.caBundle as base64 of the PEM (agent-cluster-wide)', values: ['agent-cluster-wide'], args: [] },
    { what: 'hub.caBundle given with --set-string, base64', values: [], args: [...AGENT_BASE, '--set-string', `hub.caBundle=${Buffer.from(HUB_CA).toString('base64')}`] },
  ])('$what becomes a ConfigMap holding the PEM, mounted read-only where FLOTILLA_HUB_CA_FILE points', ({ values, args }) => {
    const manifests = render('flotilla-agent', values, args);
    const [configMap] = byKind(manifests, 'ConfigMap');
    expect(configMap?.metadata.name).toBe('flotilla-flotilla-agent-hub-ca');
    expect(dataOf(configMap)['ca.crt']?.trim()).toBe(HUB_CA.trim());
    expect(volume(manifests, 'hub-ca')).toEqual({ name: 'hub-ca', configMap: { name: 'flotilla-flotilla-agent-hub-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] } });
    const container = containerOf(manifests);
    expect(container.volumeMounts).toContainEqual({ name: 'hub-ca', mountPath: '/etc/flotilla/hub-ca', readOnly: true });
    const loaded = loadAgentConfig(resolveEnv(container, 'flt_boot_x'));
    expect(loaded).toMatchObject({ ok: true, config: { transport: { kind: 'grpc', tls: { kind: 'tls', ca: { kind: 'file', path: '/etc/flotilla/hub-ca/ca.crt' } } } } });
    // A new CA rolls the pod.
    expect(JSON.stringify((deploymentOf(manifests)['spec'] as { template: { metadata: object } }).template.metadata)).toContain('checksum/hub-ca');
  });

  it('mounts the ca.crt of an existing Secret with hub.caSecret, and renders no ConfigMap', () => {
    const manifests = render('flotilla-agent', ['agent-existing-secret']);
    expect(byKind(manifests, 'ConfigMap')).toEqual([]);
    expect(volume(manifests, 'hub-ca')).toEqual({ name: 'hub-ca', secret: { secretName: 'flotilla-hub-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] } });
    expect(envOf(containerOf(manifests), 'FLOTILLA_HUB_CA_FILE')?.value).toBe('/etc/flotilla/hub-ca/ca.crt');
  });

  it.each([
    { what: 'hub.tlsServerName becomes FLOTILLA_HUB_TLS_SERVER_NAME', args: ['--set', 'hub.caSecret=ca', '--set', 'hub.tlsServerName=hub.internal'], tls: { kind: 'tls', serverName: 'hub.internal' } },
    { what: 'hub.insecure dials in plaintext and mounts no CA', args: ['--set', 'hub.insecure=true'], tls: { kind: 'insecure' } },
  ])('$what', ({ args, tls }) => {
    const manifests = render('flotilla-agent', [], [...AGENT_BASE, ...args]);
    expect(loadAgentConfig(resolveEnv(containerOf(manifests), 'flt_boot_x'))).toMatchObject({ ok: true, config: { transport: { tls } } });
    if (tls.kind === 'insecure') expect(volume(manifests, 'hub-ca')).toBeUndefined();
  });

  it.each([
    { what: 'no CA at all (schema)', args: [], message: /at '\/hub': 'anyOf' failed[\s\S]*at '\/hub\/caBundle': minLength/ },
    { what: 'a CA bundle and a CA Secret', args: ['--set', 'hub.caSecret=ca', '--set', `hub.caBundle=${Buffer.from(HUB_CA).toString('base64')}`], message: /set either hub.caBundle or hub.caSecret/ },
    { what: 'plaintext with a CA', args: ['--set', 'hub.caSecret=ca', '--set', 'hub.insecure=true'], message: /hub.insecure dials the hub in plaintext/ },
    { what: 'a CA bundle that is not a certificate', args: ['--set', 'hub.caBundle=bm90IGEgY2VydA=='], message: /hub.caBundle must be PEM certificates/ },
    { what: 'a server name with a port (schema)', args: ['--set', 'hub.caSecret=ca', '--set', 'hub.tlsServerName=hub:443'], message: /at '\/hub\/tlsServerName'/ },
  ])('refuses $what', ({ args, message }) => {
    const run = helm(['template', 'flotilla', join(CHARTS, 'flotilla-agent'), ...AGENT_BASE, ...args]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(message);
  });

  it('needs no CA with transport nats (NATS TLS is configured by its URL)', () => {
    const manifests = render('flotilla-agent', ['agent-kube-nats']);
    expect(envOf(containerOf(manifests), 'FLOTILLA_HUB_CA_FILE')).toBeUndefined();
    expect(byKind(manifests, 'ConfigMap')).toEqual([]);
  });
});

describe('flotilla-hub: the agent-link CA and certificate', () => {
  const secretOf = (manifests: Manifest[], name: string) => byKind(manifests, 'Secret').find((m) => m.metadata.name === name);

  it('by default generates the CA encryption key into a Secret of its own that outlives the release, and the hub accepts it', () => {
    const manifests = render('flotilla-hub', ['hub-minimal']);
    const secret = secretOf(manifests, 'flotilla-flotilla-hub-ca-encryption-key');
    expect(secret?.metadata).toMatchObject({ annotations: { 'helm.sh/resource-policy': 'keep' } });
    const key = Buffer.from(dataOf(secret)['ca-encryption-key']!, 'base64').toString('utf8');
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    const container = containerOf(manifests);
    expect(envOf(container, 'FLOTILLA_CA_ENCRYPTION_KEY')?.valueFrom?.secretKeyRef).toEqual({ name: 'flotilla-flotilla-hub-ca-encryption-key', key: 'ca-encryption-key' });
    const config = loadHubConfig(resolveEnv(container, { 'flotilla-flotilla-hub-database': 'postgresql://db/f', 'flotilla-flotilla-hub-ca-encryption-key': key }));
    expect(config.agentLinkTls).toMatchObject({ insecure: false, caFiles: undefined });
    expect(config.agentLinkTls.caEncryptionKey?.toString('base64')).toBe(key);
  });

  it('names the Service in the certificate by default, plus tls.extraSans and the host of agentAddress (hub-ha)', () => {
    const manifests = render('flotilla-hub', ['hub-ha']);
    const container = containerOf(manifests);
    expect(envOf(container, 'FLOTILLA_CA_ENCRYPTION_KEY')?.valueFrom?.secretKeyRef).toEqual({ name: 'flotilla-ca-key', key: 'key' });
    expect(byKind(manifests, 'Secret')).toEqual([]);
    const config = loadHubConfig(resolveEnv(container, { 'flotilla-db': 'postgresql://db/f', 'flotilla-ca-key': CA_KEY }));
    expect(config.agentAddress).toBe('agents.flotilla.example.com:443');
    expect(config.agentLinkTls.extraNames.map((n) => n.value)).toEqual([
      'flotilla-flotilla-hub',
      'flotilla-flotilla-hub.flotilla-system',
      'flotilla-flotilla-hub.flotilla-system.svc',
      'flotilla-flotilla-hub.flotilla-system.svc.cluster.local',
      'agents.flotilla.example.com',
      '203.0.113.7',
    ]);
  });

  it('stores an inline key in its own Secret', () => {
    const manifests = render('flotilla-hub', [], [...HUB_BASE, '--set', `tls.caEncryptionKey.value=${CA_KEY}`]);
    expect(Buffer.from(dataOf(secretOf(manifests, 'flotilla-flotilla-hub-ca-encryption-key'))['ca-encryption-key']!, 'base64').toString()).toBe(CA_KEY);
    expect(JSON.stringify(deploymentOf(manifests))).not.toContain(CA_KEY);
  });

  it("mounts an operator's CA from tls.caSecret and then needs no encryption key", () => {
    const manifests = render('flotilla-hub', [], [...HUB_BASE, '--set', 'tls.caSecret=fleet-ca']);
    expect(secretOf(manifests, 'flotilla-flotilla-hub-ca-encryption-key')).toBeUndefined();
    const container = containerOf(manifests);
    expect(container.volumeMounts).toContainEqual({ name: 'agent-link-ca', mountPath: '/etc/flotilla/ca', readOnly: true });
    expect(volume(manifests, 'agent-link-ca')?.['secret']).toMatchObject({ secretName: 'fleet-ca', items: [{ key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }] });
    const config = loadHubConfig(resolveEnv(container, 'postgresql://db/f'));
    expect(config.agentLinkTls).toMatchObject({ caFiles: { certFile: '/etc/flotilla/ca/tls.crt', keyFile: '/etc/flotilla/ca/tls.key' }, caEncryptionKey: undefined });
  });

  it('serves plaintext only with tls.insecure', () => {
    const container = containerOf(render('flotilla-hub', [], [...HUB_BASE, '--set', 'tls.insecure=true']));
    expect(loadHubConfig(resolveEnv(container, { 'flotilla-flotilla-hub-database': 'postgresql://db/f' })).agentLinkTls.insecure).toBe(true);
  });

  it.each([
    { what: 'an inline key and an existing Secret', args: ['--set', `tls.caEncryptionKey.value=${CA_KEY}`, '--set', 'tls.caEncryptionKey.existingSecret=k'], message: /tls.caEncryptionKey: set either value or existingSecret/ },
    { what: 'an inline key that is not 32 bytes of base64 (schema)', args: ['--set', 'tls.caEncryptionKey.value=short'], message: /at '\/tls\/caEncryptionKey\/value'/ },
  ])('refuses $what', ({ args, message }) => {
    const run = helm(['template', 'flotilla', join(CHARTS, 'flotilla-hub'), ...HUB_BASE, ...args]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(message);
  });
});
