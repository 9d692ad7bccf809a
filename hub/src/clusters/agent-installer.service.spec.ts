import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../config/hub-config';
import type { NatsTrust } from '../nats-trust/nats-trust.service';
import type { AgentLinkCa } from '../trust/agent-link-ca.service';
import { AgentInstaller } from './agent-installer.service';

// The install material registerCluster and issueBootstrapToken return, with the hub's real config
// loader and CA files on disk; the agent-link CA and the NATS signer are stand-ins.

const HUB_CA = '-----BEGIN CERTIFICATE-----\nSFVCLUNB\n-----END CERTIFICATE-----\n';
const NATS_CA = '-----BEGIN CERTIFICATE-----\nTkFUUy1DQQ==\n-----END CERTIFICATE-----\n';
const LEAF_CA = '-----BEGIN CERTIFICATE-----\nTEVBRi1DQQ==\n-----END CERTIFICATE-----\n';
const ENROLLMENT_JWT = 'eyJ0eXAiOiJKV1QifQ.eyJuYW1lIjoiZmxvdGlsbGEtZW5yb2xsbWVudCJ9.c2ln';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-installer-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const natsCaFile = file('nats-ca.pem', NATS_CA);
const leafCaFile = file('leaf-ca.pem', LEAF_CA);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const installerFor = (env: Record<string, string>) => {
  const config = loadHubConfig(env);
  const auth = config.nats?.auth;
  const trust = { operatorAuth: auth?.kind === 'operator' ? auth : undefined, enrollmentJwt: async () => ENROLLMENT_JWT } as unknown as NatsTrust;
  const ca = { bundle: async () => HUB_CA } as unknown as AgentLinkCa;
  return new AgentInstaller(config, ca, trust);
};
const operator = (env: Record<string, string>) => ({ FLOTILLA_NATS_OPERATOR: 'true', ...env });
/** The `--set`/`--set-string` values of an install command, unquoted. */
const valuesOf = (command: string): Record<string, string> =>
  Object.fromEntries([...command.matchAll(/--set(?:-string)? ([\w.]+)=('(?:[^']|'\\'')*'|\S+)/g)].map(([, key, value]) => [key!, value!.startsWith("'") ? value!.slice(1, -1).replace(/'\\''/g, "'") : value!]));
const decoded = (base64: string | undefined) => (base64 === undefined ? undefined : Buffer.from(base64, 'base64').toString('utf8'));

describe('AgentInstaller: the install command of an agent on NATS', () => {
  it.each([
    { what: "a tls:// hub URL carries the hub's NATS CA", env: operator({ FLOTILLA_NATS_URL: 'tls://nats.example.com:4222', FLOTILLA_NATS_CA_FILE: natsCaFile }), url: 'tls://nats.example.com:4222', ca: NATS_CA },
    { what: 'a nats:// hub URL carries no CA', env: operator({ FLOTILLA_NATS_URL: 'nats://nats.internal:4222', FLOTILLA_NATS_CA_FILE: natsCaFile }), url: 'nats://nats.internal:4222', ca: undefined },
    { what: 'a tls:// URL without a CA file leaves the agent on its system trust store', env: operator({ FLOTILLA_NATS_URL: 'tls://nats.example.com:4222' }), url: 'tls://nats.example.com:4222', ca: undefined },
    {
      what: "FLOTILLA_AGENT_NATS_URL replaces the hub's servers, and its tls:// gets the hub's CA",
      env: operator({ FLOTILLA_NATS_URL: 'nats://nats.internal:4222', FLOTILLA_NATS_CA_FILE: natsCaFile, FLOTILLA_AGENT_NATS_URL: 'tls://leaf-eu.example.com:4222,tls://leaf-us.example.com:4222' }),
      url: 'tls://leaf-eu.example.com:4222\\,tls://leaf-us.example.com:4222',
      ca: NATS_CA,
    },
    {
      what: 'FLOTILLA_AGENT_NATS_CA_FILE is the CA of the agent servers',
      env: operator({ FLOTILLA_NATS_URL: 'tls://nats.internal:4222', FLOTILLA_NATS_CA_FILE: natsCaFile, FLOTILLA_AGENT_NATS_URL: 'tls://leaf.example.com:4222', FLOTILLA_AGENT_NATS_CA_FILE: leafCaFile }),
      url: 'tls://leaf.example.com:4222',
      ca: LEAF_CA,
    },
    {
      what: 'nats:// agent servers carry no CA although the hub dials tls:// with one',
      env: operator({ FLOTILLA_NATS_URL: 'tls://nats.internal:4222', FLOTILLA_NATS_CA_FILE: natsCaFile, FLOTILLA_AGENT_NATS_URL: 'nats://leaf.example.com:4222' }),
      url: 'nats://leaf.example.com:4222',
      ca: undefined,
    },
  ])('$what', async ({ env, url, ca }) => {
    const installer = installerFor(env);
    await installer.onModuleInit();
    const install = await installer.forToken({ name: 'edge-7' }, 'flt_boot_x');
    const values = valuesOf(install.agentInstallCommand);
    expect(values).toMatchObject({ 'cluster.name': 'edge-7', transport: 'nats', 'nats.url': url, 'nats.enrollmentJwt.value': ENROLLMENT_JWT, 'bootstrapToken.value': 'flt_boot_x' });
    expect(decoded(values['nats.caBundle'])).toBe(ca);
    expect(install).toMatchObject({ caBundle: HUB_CA, natsEnrollmentJwt: ENROLLMENT_JWT });
  });

  it('without the hub as NATS operator the agent goes on gRPC, whatever the hub dials NATS with', async () => {
    const installer = installerFor({ FLOTILLA_NATS_URL: 'tls://nats.example.com:4222', FLOTILLA_NATS_CA_FILE: natsCaFile, FLOTILLA_AGENT_ADDRESS: 'hub.example.com:4001' });
    await installer.onModuleInit();
    const values = valuesOf((await installer.forToken({ name: 'edge-7' }, 'flt_boot_x')).agentInstallCommand);
    expect(values).toMatchObject({ 'hub.address': 'hub.example.com:4001' });
    expect(decoded(values['hub.caBundle'])).toBe(HUB_CA);
    expect(Object.keys(values).filter((key) => key.startsWith('nats.') || key === 'transport')).toEqual([]);
  });

  it.each([
    { what: 'a missing CA file', caFile: join(dir, 'absent.pem'), message: /^FLOTILLA_NATS_CA_FILE \(.*absent\.pem\) cannot be read: ENOENT$/ },
    { what: 'a file that holds no PEM certificate', caFile: file('not-pem.txt', 'hello'), message: /^FLOTILLA_NATS_CA_FILE \(.*not-pem\.txt\) holds no PEM certificate/ },
  ])('refuses to start with $what to hand to agents', async ({ caFile, message }) => {
    const installer = installerFor(operator({ FLOTILLA_NATS_URL: 'tls://nats.example.com:4222', FLOTILLA_NATS_CA_FILE: caFile }));
    await expect(installer.onModuleInit()).rejects.toThrow(message);
  });

  it('hands out a rotated CA, and the one read at start while the file is gone', async () => {
    const rotating = file('rotating.pem', NATS_CA);
    const installer = installerFor(operator({ FLOTILLA_NATS_URL: 'tls://nats.example.com:4222', FLOTILLA_NATS_CA_FILE: rotating }));
    await installer.onModuleInit();
    const caOf = async () => decoded(valuesOf((await installer.forToken({ name: 'edge-7' }, 'flt_boot_x')).agentInstallCommand)['nats.caBundle']);

    writeFileSync(rotating, LEAF_CA);
    expect(await caOf()).toBe(LEAF_CA);
    // A Secret's mount is swapped by removing the file and linking the new one.
    rmSync(rotating);
    expect(await caOf()).toBe(NATS_CA);
  });
});
