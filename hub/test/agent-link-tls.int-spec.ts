import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../src/config/hub-config';
import { startHub, type RunningHub } from '../src/hub';
import { CA_ENCRYPTION_KEY_FILE } from '../src/trust/agent-link-ca.service';
import { encryptionKeyId } from '../src/trust/ca-key-encryption';
import { createCertificateAuthority } from '../src/trust/x509';
import { TEST_ADMIN_TOKEN } from './support/admin-token';
import { FakeAgent, type AgentLinkTarget } from './support/fake-agent';
import { eventually, graphqlClient } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/** What a TLS client sees of the agent link: the handshake's outcome and the hub's certificate. */
interface Handshake {
  readonly authorized: boolean;
  readonly error: string | undefined;
  readonly certificate: PeerCertificate | undefined;
}

/** A bare TLS handshake with the agent link (ALPN h2, as gRPC does), trusting `ca` only. */
function handshake(port: number, ca: string, servername?: string): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, ALPNProtocols: ['h2'], ...(servername ? { servername } : {}) });
    socket.once('secureConnect', () => {
      const certificate = socket.getPeerCertificate();
      socket.destroy();
      resolve({ authorized: socket.authorized, error: undefined, certificate });
    });
    socket.once('error', (error: Error & { code?: string }) => resolve({ authorized: false, error: error.code ?? error.message, certificate: undefined }));
  });
}

describe('TLS on the gRPC agent link', () => {
  const KEY = randomBytes(32);
  const hubs: RunningHub[] = [];
  const agents: FakeAgent[] = [];
  const dirs: string[] = [];
  let db: TestDatabase;
  let hub: RunningHub;

  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-hub-tls-'));
    dirs.push(dir);
    return dir;
  };
  const start = async (env: Record<string, string>): Promise<RunningHub> => {
    const started = await startHub(
      loadHubConfig({ PORT: '0', FLOTILLA_GRPC_PORT: '0', FLOTILLA_LOG_LEVEL: 'error', FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN, FLOTILLA_DATA_DIR: join(tempDir(), 'data'), ...env }),
    );
    hubs.push(started);
    return started;
  };
  const register = async (target: RunningHub, name: string) => {
    const res = await graphqlClient(target.graphqlUrl, TEST_ADMIN_TOKEN)<{ registerCluster: { bootstrapToken: string; caBundle: string; agentInstallCommand: string } }>(
      `mutation($name: String!) { registerCluster(input: { name: $name }) { bootstrapToken caBundle agentInstallCommand } }`,
      { name },
    );
    expect(res.errors).toBeUndefined();
    return res.data!.registerCluster;
  };
  const agent = (target: AgentLinkTarget, cluster: string, secret: string) => {
    const created = new FakeAgent(target, cluster, secret);
    agents.push(created);
    return created;
  };
  const rows = async (url: string) => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<Record<string, string>>('SELECT * FROM certificate_authorities')).rows;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await start({
      DATABASE_URL: db.url,
      FLOTILLA_CA_ENCRYPTION_KEY: KEY.toString('base64'),
      FLOTILLA_GRPC_TLS_SANS: 'hub.flotilla.test, 192.0.2.10',
      FLOTILLA_AGENT_ADDRESS: 'agents.flotilla.test:443',
    });
  });

  afterAll(async () => {
    for (const created of agents) created.close();
    for (const started of hubs) await started.stop();
    await db?.drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('serves a certificate signed by its CA that names the configured names, the agent address, and loopback', async () => {
    const seen = await handshake(hub.grpcPort, hub.caBundle);

    expect(seen).toMatchObject({ authorized: true, error: undefined });
    const served = new X509Certificate(seen.certificate!.raw);
    const ca = new X509Certificate(hub.caBundle);
    expect(served.checkIssued(ca) && served.verify(ca.publicKey)).toBe(true);
    expect(served.subjectAltName?.split(', ').sort()).toEqual(
      ['DNS:agents.flotilla.test', 'DNS:hub.flotilla.test', 'DNS:localhost', 'IP Address:0:0:0:0:0:0:0:1', 'IP Address:127.0.0.1', 'IP Address:192.0.2.10'].sort(),
    );
    const lifetimeDays = (new Date(served.validTo).getTime() - Date.now()) / 86_400_000;
    expect(lifetimeDays).toBeGreaterThan(29);
    expect(lifetimeDays).toBeLessThanOrEqual(30);
    // A name from FLOTILLA_GRPC_TLS_SANS verifies too (what FLOTILLA_HUB_TLS_SERVER_NAME relies on).
    expect(await handshake(hub.grpcPort, hub.caBundle, 'hub.flotilla.test')).toMatchObject({ authorized: true });
  });

  it('hands the same CA to operators: agentLinkCA, and registerCluster with its install command', async () => {
    const gql = graphqlClient(hub.graphqlUrl, TEST_ADMIN_TOKEN);
    const { data } = await gql<{ agentLinkCA: string }>('{ agentLinkCA }');
    expect(data?.agentLinkCA).toBe(hub.caBundle);
    const registered = await register(hub, 'eu-bundle');
    expect(registered.caBundle).toBe(hub.caBundle);
    expect(registered.agentInstallCommand).toMatch(new RegExp(`--set-string hub\\.caBundle='?${Buffer.from(hub.caBundle).toString('base64').replace(/[+/]/g, '\\$&')}'? `));
  });

  it('welcomes an agent that verifies it against the CA', async () => {
    const { bootstrapToken } = await register(hub, 'eu-tls');
    const trusting = agent(hub, 'eu-tls', bootstrapToken);
    trusting.connect();
    expect(await eventually(async () => trusting.welcomeCredential(), { what: 'Welcome over TLS' })).toMatch(/^flt_agent_/);
  });

  it.each([
    { name: 'a client trusting another CA', caBundle: async () => (await createCertificateAuthority(new Date())).certificatePem, insecure: false },
    { name: 'a plaintext client', caBundle: async () => '', insecure: true },
  ])('refuses $name before anything reaches the hub: the bootstrap token it carried stays unused', async ({ caBundle, insecure }) => {
    const name = `eu-refused-${insecure ? 'plain' : 'ca'}`;
    const { bootstrapToken } = await register(hub, name);
    const other = await caBundle();
    if (!insecure) expect(await handshake(hub.grpcPort, other)).toMatchObject({ authorized: false, error: expect.stringMatching(/CERT|SIGNATURE|ISSUER|CA/) });

    const refused = agent({ grpcPort: hub.grpcPort, caBundle: other, agentLinkInsecure: insecure }, name, bootstrapToken);
    refused.connect();
    await eventually(async () => refused.status, { what: 'the refused stream to end' });
    expect(refused.received).toEqual([]);
    expect(refused.status?.code).toBe(14); // UNAVAILABLE: no stream was ever opened

    // The token never reached the hub: the real agent can still use it once.
    const genuine = agent(hub, name, bootstrapToken);
    genuine.connect();
    expect(await eventually(async () => genuine.welcomeCredential(), { what: 'Welcome with the untouched token' })).toMatch(/^flt_agent_/);
  });

  it('keeps the CA key in the database only encrypted, under the id of the key that sealed it', async () => {
    const [row, ...more] = await rows(db.url);
    expect(more).toEqual([]);
    expect(row).toMatchObject({ purpose: 'agent-link', certificate_pem: hub.caBundle, encryption_key_id: encryptionKeyId(KEY) });
    const everything = JSON.stringify(row);
    expect(everything).not.toMatch(/PRIVATE KEY/);
    expect(row!['sealed_private_key']).toMatch(/^aes-256-gcm\.v1:/);
    // Neither the PKCS#8 DER of an EC key (it starts 30 81 87 02 01 00, "MIGHAgEA" in base64) nor its hex.
    expect(everything).not.toMatch(/MIGHAgEA|308187020100/i);
  });

  it('shares one CA between replicas starting together on one database; each serves its own certificate', async () => {
    const shared = await createTestDatabase();
    try {
      const env = { DATABASE_URL: shared.url, FLOTILLA_CA_ENCRYPTION_KEY: KEY.toString('base64') };
      const [a, b] = await Promise.all([start({ ...env, FLOTILLA_REPLICA_ID: 'tls-a' }), start({ ...env, FLOTILLA_REPLICA_ID: 'tls-b' })]);

      expect(a!.caBundle).toBe(b!.caBundle);
      expect(await rows(shared.url)).toHaveLength(1);
      const [servedA, servedB] = await Promise.all([handshake(a!.grpcPort, a!.caBundle), handshake(b!.grpcPort, a!.caBundle)]);
      expect(servedA.authorized && servedB.authorized).toBe(true);
      expect(servedA.certificate!.serialNumber).not.toBe(servedB.certificate!.serialNumber);
    } finally {
      for (const started of hubs.splice(-2)) await started.stop();
      await shared.drop();
    }
  });

  it('refuses to start a replica whose encryption key does not open the stored CA, naming both key ids', async () => {
    const other = randomBytes(32);
    await expect(start({ DATABASE_URL: db.url, FLOTILLA_CA_ENCRYPTION_KEY: other.toString('base64') })).rejects.toThrow(
      new RegExp(`encrypted with the CA encryption key ${encryptionKeyId(KEY)}, but this replica has key ${encryptionKeyId(other)}`),
    );
  });

  it('without FLOTILLA_CA_ENCRYPTION_KEY generates one into the data folder (0600) and opens the same CA after a restart', async () => {
    const own = await createTestDatabase();
    const dataDir = join(tempDir(), 'data');
    try {
      const first = await start({ DATABASE_URL: own.url, FLOTILLA_DATA_DIR: dataDir });
      const file = join(dataDir, CA_ENCRYPTION_KEY_FILE);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const caBundle = first.caBundle;
      await first.stop();
      hubs.splice(hubs.indexOf(first), 1);

      const again = await start({ DATABASE_URL: own.url, FLOTILLA_DATA_DIR: dataDir });
      expect(again.caBundle).toBe(caBundle);
      await again.stop();
      hubs.splice(hubs.indexOf(again), 1);

      // Another data folder has no key for it, and says what to set.
      await expect(start({ DATABASE_URL: own.url })).rejects.toThrow(/FLOTILLA_CA_ENCRYPTION_KEY is unset/);
    } finally {
      await own.drop();
    }
  });

  it('uses an operator-supplied CA from FLOTILLA_CA_CERT_FILE and FLOTILLA_CA_KEY_FILE, and stores none', async () => {
    const own = await createTestDatabase();
    const dir = tempDir();
    try {
      const operator = await createCertificateAuthority(new Date(), 'Operator CA');
      writeFileSync(join(dir, 'tls.crt'), operator.certificatePem);
      writeFileSync(join(dir, 'tls.key'), createPrivateKey({ key: operator.privateKeyPkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'sec1', format: 'pem' }), { mode: 0o600 });

      const started = await start({ DATABASE_URL: own.url, FLOTILLA_CA_CERT_FILE: join(dir, 'tls.crt'), FLOTILLA_CA_KEY_FILE: join(dir, 'tls.key') });

      expect(started.caBundle).toBe(operator.certificatePem);
      expect(await handshake(started.grpcPort, operator.certificatePem)).toMatchObject({ authorized: true });
      expect(await rows(own.url)).toEqual([]);
      await started.stop();
      hubs.splice(hubs.indexOf(started), 1);
    } finally {
      await own.drop();
    }
  });

  it('serves plaintext only with FLOTILLA_GRPC_INSECURE=true, and its install command says so', async () => {
    const own = await createTestDatabase();
    try {
      const plain = await start({ DATABASE_URL: own.url, FLOTILLA_CA_ENCRYPTION_KEY: KEY.toString('base64'), FLOTILLA_GRPC_INSECURE: 'true' });
      const { bootstrapToken, agentInstallCommand } = await register(plain, 'dev-plain');
      expect(agentInstallCommand).toContain('--set hub.insecure=true');
      expect(agentInstallCommand).not.toContain('caBundle');

      expect(await handshake(plain.grpcPort, plain.caBundle)).toMatchObject({ authorized: false });
      const plaintext = agent(plain, 'dev-plain', bootstrapToken);
      plaintext.connect();
      expect(await eventually(async () => plaintext.welcomeCredential(), { what: 'Welcome in plaintext' })).toMatch(/^flt_agent_/);
      await plain.stop();
      hubs.splice(hubs.indexOf(plain), 1);
    } finally {
      await own.drop();
    }
  });
});
