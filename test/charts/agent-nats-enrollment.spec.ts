import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { credentialIssue, loadAgentConfig } from '../../agent/src/core/config.js';
import { agentInstallCommand } from '../../hub/src/clusters/install-command.js';
import { CHARTS, ensureHelm, helm, render, type Manifest } from './helm.js';
import { byKind, containerOf, deploymentOf, envOf, podSpecOf, resolveEnv } from './rendered.js';

// The agent chart when the hub is the NATS operator: the enrollment JWT and the bootstrap token come
// from Secrets, the NATS CA from a Secret; and the install command registerCluster returns in that
// mode. Rendered env goes through the agent's own loader.

beforeAll(() => ensureHelm(), 300_000);

const JWT = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJuYW1lIjoiZmxvdGlsbGEtZW5yb2xsbWVudCJ9.c2lnbmF0dXJl';
const NATS_BASE = ['--set', 'cluster.name=edge-7', '--set', 'transport=nats', '--set', 'nats.url=nats://n:4222'];
const ENROLLING = [...NATS_BASE, '--set', `nats.enrollmentJwt.value=${JWT}`, '--set', 'bootstrapToken.value=flt_boot_x'];

const secretData = (manifests: Manifest[], name: string): Record<string, string> => {
  const secret = byKind(manifests, 'Secret').find((m) => m.metadata.name === name);
  return Object.fromEntries(Object.entries((secret?.['data'] as Record<string, string> | undefined) ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
};

/** The argv the shell hands to helm for `command`, after `install <release> <chart>` and the namespace flags. */
const setsOf = (command: string): string[] => {
  const printed = spawnSync('sh', ['-c', `helm() { for a; do printf '%s\\0' "$a"; done; }\n${command}`], { encoding: 'utf8' });
  return printed.stdout
    .split('\0')
    .filter(Boolean)
    .slice(3)
    .filter((a) => !['--namespace', 'flotilla-system', '--create-namespace'].includes(a));
};

interface EnrollingCase {
  what: string;
  values: string[];
  args: string[];
  /** Secret name → the one value the agent reads from it. */
  secrets: Record<string, string>;
  refs: Record<string, { name: string; key: string }>;
  rendered: string[];
}

describe('flotilla-agent: NATS enrollment (the hub as NATS operator)', () => {
  it.each<EnrollingCase>([
    {
      what: 'nats.enrollmentJwt.value and bootstrapToken.value become chart-owned Secrets',
      values: [],
      args: ENROLLING,
      secrets: { 'flotilla-flotilla-agent-nats-enrollment': JWT, 'flotilla-flotilla-agent-bootstrap-token': 'flt_boot_x' },
      refs: { FLOTILLA_NATS_ENROLLMENT_JWT: { name: 'flotilla-flotilla-agent-nats-enrollment', key: 'jwt' }, FLOTILLA_BOOTSTRAP_TOKEN: { name: 'flotilla-flotilla-agent-bootstrap-token', key: 'token' } },
      rendered: ['flotilla-flotilla-agent-bootstrap-token', 'flotilla-flotilla-agent-nats-enrollment'],
    },
    {
      what: 'existing Secrets for both, under chosen keys, render no Secret',
      values: [],
      args: [...NATS_BASE, '--set', 'nats.enrollmentJwt.existingSecret=enroll', '--set', 'nats.enrollmentJwt.key=nats-jwt', '--set', 'bootstrapToken.existingSecret=boot'],
      secrets: { enroll: JWT, boot: 'flt_boot_x' },
      refs: { FLOTILLA_NATS_ENROLLMENT_JWT: { name: 'enroll', key: 'nats-jwt' }, FLOTILLA_BOOTSTRAP_TOKEN: { name: 'boot', key: 'token' } },
      rendered: [],
    },
    {
      what: 'the agent-nats-enrollment values file',
      values: ['agent-nats-enrollment'],
      args: [],
      secrets: { 'flotilla-flotilla-agent-nats-enrollment': JWT, 'flotilla-flotilla-agent-bootstrap-token': 'flt_boot_edge7' },
      refs: { FLOTILLA_NATS_ENROLLMENT_JWT: { name: 'flotilla-flotilla-agent-nats-enrollment', key: 'jwt' }, FLOTILLA_BOOTSTRAP_TOKEN: { name: 'flotilla-flotilla-agent-bootstrap-token', key: 'token' } },
      rendered: ['flotilla-flotilla-agent-bootstrap-token', 'flotilla-flotilla-agent-nats-enrollment'],
    },
  ])('$what, referenced through secretKeyRef, and the agent loads an enrolling config', ({ values, args, secrets, refs, rendered }) => {
    const manifests = render('flotilla-agent', values, args);
    expect(byKind(manifests, 'Secret').map((m) => m.metadata.name).sort()).toEqual(rendered);
    for (const name of rendered) expect(Object.values(secretData(manifests, name))).toEqual([secrets[name]]);
    const container = containerOf(manifests);
    for (const [variable, ref] of Object.entries(refs)) expect(envOf(container, variable)).toEqual({ name: variable, valueFrom: { secretKeyRef: ref } });
    expect(JSON.stringify(deploymentOf(manifests))).not.toContain(JWT);
    const loaded = loadAgentConfig(resolveEnv(container, secrets));
    expect(loaded).toMatchObject({ ok: true, config: { transport: { kind: 'nats', auth: { kind: 'operator', enrollmentJwt: JWT } } } });
    // Nothing stored yet: the bootstrap token is the way in.
    expect(loaded.ok && credentialIssue(false, loaded.config)).toBeUndefined();
  });

  it('mounts nats.caSecret read-only where FLOTILLA_NATS_CA_FILE points, and only its key', () => {
    const manifests = render('flotilla-agent', [], [...ENROLLING, '--set', 'nats.caSecret=nats-ca', '--set', 'nats.caKey=ca.pem']);
    const pod = podSpecOf(deploymentOf(manifests));
    expect(pod.volumes?.find((v) => v['name'] === 'nats-ca')).toEqual({ name: 'nats-ca', secret: { secretName: 'nats-ca', items: [{ key: 'ca.pem', path: 'ca.pem' }] } });
    expect(pod.containers[0]?.volumeMounts).toContainEqual({ name: 'nats-ca', mountPath: '/etc/flotilla/nats-ca', readOnly: true });
    const secrets = { 'flotilla-flotilla-agent-nats-enrollment': JWT, 'flotilla-flotilla-agent-bootstrap-token': 'flt_boot_x' };
    expect(loadAgentConfig(resolveEnv(containerOf(manifests), secrets))).toMatchObject({ ok: true, config: { transport: { caFile: '/etc/flotilla/nats-ca/ca.pem' } } });
    expect(envOf(containerOf(render('flotilla-agent', [], ENROLLING)), 'FLOTILLA_NATS_CA_FILE')).toBeUndefined();
  });

  it('rolls the pod when the enrollment JWT changes', () => {
    const annotations = (jwt: string) => JSON.stringify((deploymentOf(render('flotilla-agent', [], [...ENROLLING, '--set', `nats.enrollmentJwt.value=${jwt}`]))['spec'] as { template: { metadata: object } }).template.metadata);
    expect(annotations(JWT)).toContain('checksum/nats-enrollment-jwt');
    expect(annotations(JWT)).not.toBe(annotations(`${JWT}x`));
  });

  it.each([
    { what: 'an enrollment JWT without a bootstrap token', args: [...NATS_BASE, '--set', `nats.enrollmentJwt.value=${JWT}`], message: /bootstrapToken.value or bootstrapToken.existingSecret is required with nats.enrollmentJwt/ },
    { what: 'a value and an existing Secret (schema)', args: [...ENROLLING, '--set', 'nats.enrollmentJwt.existingSecret=s'], message: /at '\/nats\/enrollmentJwt': 'not' failed/ },
    { what: 'an enrollment JWT with a NATS user', args: [...ENROLLING, '--set', 'nats.user=u', '--set', 'nats.existingSecret=s'], message: /nats.enrollmentJwt makes the agent enroll its own NATS user/ },
    { what: 'an enrollment JWT with a .creds Secret', args: [...ENROLLING, '--set', 'nats.credsSecret=c'], message: /nats.enrollmentJwt makes the agent enroll its own NATS user/ },
    { what: 'a value that is not a JWT (schema)', args: [...NATS_BASE, '--set', 'nats.enrollmentJwt.value=not-a-jwt', '--set', 'bootstrapToken.value=t'], message: /at '\/nats\/enrollmentJwt\/value'/ },
    {
      what: 'an enrollment JWT with the gRPC transport (schema)',
      args: ['--set', 'cluster.name=eu-west-1', '--set', 'hub.address=hub:4001', '--set', 'hub.insecure=true', '--set', 'bootstrapToken.value=t', '--set', `nats.enrollmentJwt.value=${JWT}`],
      message: /at '\/nats\/enrollmentJwt\/value': maxLength: got \d+, want 0/,
    },
    { what: 'a bootstrap token over NATS without an enrollment JWT', args: [...NATS_BASE, '--set', 'bootstrapToken.value=t'], message: /bootstrapToken is not used with transport: nats without nats.enrollmentJwt/ },
  ])('refuses $what', ({ args, message }) => {
    const run = helm(['template', 'flotilla', join(CHARTS, 'flotilla-agent'), ...args]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(message);
  });
});

describe('the install command registerCluster returns when the hub is the NATS operator', () => {
  it.each([
    { what: 'one server', servers: ['tls://nats.example.com:4222'], url: 'tls://nats.example.com:4222' },
    { what: 'several servers (commas escaped for --set)', servers: ['nats://nats-0:4222', 'nats-1:4222'], url: 'nats://nats-0:4222,nats-1:4222' },
  ])('installs the agent on NATS with the enrollment JWT and the token: $what', ({ servers, url }) => {
    const command = agentInstallCommand({ name: 'edge-7' }, { kind: 'nats', servers, enrollmentJwt: JWT }, 'flt_boot_x-Y_z');
    expect(command).not.toContain('hub.');
    const manifests = render('flotilla-agent', [], setsOf(command), 'flotilla-agent');
    expect(secretData(manifests, 'flotilla-agent-nats-enrollment')).toEqual({ jwt: JWT });
    const env = resolveEnv(containerOf(manifests), { 'flotilla-agent-nats-enrollment': JWT, 'flotilla-agent-bootstrap-token': 'flt_boot_x-Y_z' });
    expect(env).toMatchObject({ FLOTILLA_CLUSTER_NAME: 'edge-7', FLOTILLA_TRANSPORT: 'nats', FLOTILLA_NATS_URL: url, FLOTILLA_BOOTSTRAP_TOKEN: 'flt_boot_x-Y_z' });
    expect(loadAgentConfig(env)).toMatchObject({ ok: true, config: { transport: { kind: 'nats', servers: url.split(','), auth: { kind: 'operator', enrollmentJwt: JWT } } } });
    // No CA given: no CA rendered, the agent uses the system trust store.
    expect(byKind(manifests, 'ConfigMap')).toEqual([]);
    expect(env['FLOTILLA_NATS_CA_FILE']).toBeUndefined();
  });

  it('carries the NATS CA it is given: the agent verifies the tls:// servers against it', () => {
    const pem = readFileSync(new URL('./fixtures/hub-ca.crt', import.meta.url), 'utf8');
    const command = agentInstallCommand({ name: 'edge-7' }, { kind: 'nats', servers: ['tls://nats.example.com:4222'], enrollmentJwt: JWT, caBundle: pem }, 'flt_boot_x');
    const manifests = render('flotilla-agent', [], setsOf(command), 'flotilla-agent');
    const configMap = byKind(manifests, 'ConfigMap').find((m) => m.metadata.name === 'flotilla-agent-nats-ca');
    expect((configMap?.['data'] as Record<string, string> | undefined)?.['ca.crt']?.trim()).toBe(pem.trim());
    const env = resolveEnv(containerOf(manifests), { 'flotilla-agent-nats-enrollment': JWT, 'flotilla-agent-bootstrap-token': 'flt_boot_x' });
    expect(loadAgentConfig(env)).toMatchObject({ ok: true, config: { transport: { kind: 'nats', servers: ['tls://nats.example.com:4222'], caFile: '/etc/flotilla/nats-ca/ca.crt' } } });
  });
});
