import * as grpc from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../src/config/hub-config';
import { startHub, type RunningHub } from '../src/hub';
import { issueClientCertificate } from '../src/trust/client-certificates';
import { createCertificateAuthority, loadSigningCa, type SigningCa } from '../src/trust/x509';
import { TEST_ADMIN_TOKEN } from './support/admin-token';
import { certificateRequest, newClientKey, selfSignedClientCertificate, type ClientKey } from './support/client-keys';
import { FakeAgent, type ClientCertificate } from './support/fake-agent';
import { eventually, graphqlClient } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/** The bound of the issue: a revoked agent is cut on every replica within two seconds. */
const CUT_WITHIN_MS = 2000;
const DAY_MS = 86_400_000;
const DAY_SECONDS = 86_400;

/**
 * Per-cluster client certificates on the gRPC agent link: two replicas (A and B) on one database, with
 * an operator-supplied CA so that the test can also sign certificates the hub never issued.
 */
describe('agent client certificates, with two hub replicas on one database', () => {
  let db: TestDatabase;
  let dir: string;
  let ca: SigningCa;
  const hubs: RunningHub[] = [];
  const agents: FakeAgent[] = [];
  let admin: ReturnType<typeof graphqlClient>;

  const agent = (replica: number, cluster: string, secret: string, certificate?: ClientCertificate): FakeAgent => {
    const created = new FakeAgent(hubs[replica]!, cluster, secret, certificate);
    agents.push(created);
    return created;
  };
  const register = async (cluster: string): Promise<string> =>
    (await admin<{ registerCluster: { bootstrapToken: string } }>(`mutation($n: String!) { registerCluster(input: { name: $n }) { bootstrapToken } }`, { n: cluster })).data!.registerCluster
      .bootstrapToken;
  const connected = async (cluster: string) => (await admin<{ cluster: { connected: boolean } | null }>(`query($c: String!) { cluster(name: $c) { connected } }`, { c: cluster })).data!.cluster?.connected;

  /** Registers `cluster` and enrolls a certificate with a CSR that asks for `askedName`; returns the key and certificate. */
  const enroll = async (cluster: string, askedName = cluster, replica = 0): Promise<ClientCertificate & { key: ClientKey }> => {
    const key = await newClientKey();
    const enrolling = agent(replica, cluster, await register(cluster));
    enrolling.connect([], undefined, await certificateRequest(key, askedName));
    const certificatePem = await eventually(async () => enrolling.clientCertificate(), { what: `certificate of ${cluster}` });
    enrolling.close();
    return { key, keyPem: key.keyPem, certificatePem };
  };

  /** Connects with a certificate (no bearer token) and waits for Welcome or a refusal. */
  const connectWith = async (replica: number, cluster: string, certificate: ClientCertificate): Promise<FakeAgent> => {
    const connecting = agent(replica, cluster, '', certificate);
    connecting.connect();
    await eventually(async () => connecting.welcomed() || connecting.refusal() !== undefined || connecting.status !== undefined, { what: `outcome of ${cluster}` });
    return connecting;
  };

  const cutAfter = async (cut: FakeAgent, since: number, what: string): Promise<number> => {
    await eventually(async () => cut.endedAt, { timeoutMs: CUT_WITHIN_MS + 3000, intervalMs: 20, what });
    expect(cut.status!.code, what).toBe(grpc.status.UNAUTHENTICATED);
    return cut.endedAt! - since;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'flotilla-client-certs-'));
    const generated = await createCertificateAuthority(new Date());
    writeFileSync(join(dir, 'ca.crt'), generated.certificatePem);
    const keyPem = (await import('node:crypto')).createPrivateKey({ key: generated.privateKeyPkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }) as string;
    writeFileSync(join(dir, 'ca.key'), keyPem);
    ca = await loadSigningCa(generated.certificatePem, generated.privateKeyPkcs8, new Date());
    for (const replica of ['hub-a', 'hub-b']) {
      hubs.push(
        await startHub(
          loadHubConfig({
            DATABASE_URL: db.url,
            PORT: '0',
            FLOTILLA_GRPC_PORT: '0',
            FLOTILLA_LOG_LEVEL: 'error',
            FLOTILLA_REPLICA_ID: replica,
            FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
            FLOTILLA_CA_CERT_FILE: join(dir, 'ca.crt'),
            FLOTILLA_CA_KEY_FILE: join(dir, 'ca.key'),
            FLOTILLA_DATA_DIR: join(dir, replica),
          }),
        ),
      );
    }
    admin = graphqlClient(hubs[0]!.graphqlUrl, TEST_ADMIN_TOKEN);
  });

  afterAll(async () => {
    for (const a of agents) a.close();
    for (const hub of hubs) await hub.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('enrollment', () => {
    it('yields a certificate for the cluster of the bootstrap token even when the CSR asks for another name', async () => {
      const enrolled = await enroll('enroll-1', 'enroll-10');
      const certificate = new X509Certificate(enrolled.certificatePem);
      expect(certificate.subject).toBe('CN=enroll-1');
      expect(certificate.verify(new X509Certificate(hubs[0]!.caBundle).publicKey)).toBe(true);
      const days = (new Date(certificate.validTo).getTime() - Date.now()) / DAY_MS;
      expect(days).toBeGreaterThan(29.9);
      expect(days).toBeLessThanOrEqual(30);
    });

    it('hands out no bearer credential, and the CA bundle with the certificate', async () => {
      const key = await newClientKey();
      const enrolling = agent(1, 'enroll-2', await register('enroll-2'));
      enrolling.connect([], undefined, await certificateRequest(key, 'enroll-2'));
      await eventually(async () => enrolling.clientCertificate(), { what: 'certificate' });
      const welcome = enrolling.received.find((m) => m.message.case === 'welcome')!;
      expect(welcome.message.case === 'welcome' && welcome.message.value.agentCredential).toBe('');
      expect(welcome.message.case === 'welcome' && welcome.message.value.caBundlePem).toBe(hubs[0]!.caBundle);
    });

    it('refuses an unusable CSR and leaves the bootstrap token unused', async () => {
      const token = await register('enroll-3');
      const bad = agent(0, 'enroll-3', token);
      bad.connect([], undefined, new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]));
      await eventually(async () => bad.refusal(), { what: 'refusal' });
      expect(bad.refusal()).toBe('INVALID_CSR');
      const good = agent(0, 'enroll-3', token);
      good.connect([], undefined, await certificateRequest(await newClientKey(), 'enroll-3'));
      await eventually(async () => good.clientCertificate(), { what: 'certificate after a refused CSR' });
    });
  });

  describe('identity', () => {
    let edge1: ClientCertificate & { key: ClientKey };
    beforeAll(async () => {
      edge1 = await enroll('edge-1');
      await register('edge-10');
      await register('edge-2');
    });

    it('a certificate of edge-1 connects as edge-1 on either replica', async () => {
      for (const replica of [0, 1]) {
        const connection = await connectWith(replica, 'edge-1', edge1);
        expect(connection.refusal()).toBeUndefined();
        expect(connection.welcomed()).toBe(true);
        connection.close();
      }
      await eventually(async () => (await connected('edge-1')) !== undefined, { what: 'edge-1 seen' });
    });

    const refused: { name: string; cluster: string; certificate: () => Promise<ClientCertificate> }[] = [
      { name: 'a certificate of edge-1 used as edge-10 is refused', cluster: 'edge-10', certificate: async () => edge1 },
      { name: 'a certificate of edge-1 used as edge-2 is refused', cluster: 'edge-2', certificate: async () => edge1 },
      {
        name: 'a self-signed certificate with CN=edge-1 is refused',
        cluster: 'edge-1',
        certificate: async () => {
          const key = await newClientKey();
          return { keyPem: key.keyPem, certificatePem: await selfSignedClientCertificate(key, 'edge-1') };
        },
      },
      {
        name: 'an expired certificate of the CA for edge-1 is refused',
        cluster: 'edge-1',
        certificate: async () => {
          const key = await newClientKey();
          const issued = await issueClientCertificate(ca, await certificateRequest(key, 'edge-1'), 'edge-1', new Date(Date.now() - 3 * DAY_MS), DAY_SECONDS);
          return { keyPem: key.keyPem, certificatePem: issued.certificatePem };
        },
      },
      {
        name: 'a certificate of the CA for edge-1 that the hub never issued is refused',
        cluster: 'edge-1',
        certificate: async () => {
          const key = await newClientKey();
          const issued = await issueClientCertificate(ca, await certificateRequest(key, 'edge-1'), 'edge-1', new Date(), DAY_SECONDS);
          return { keyPem: key.keyPem, certificatePem: issued.certificatePem };
        },
      },
    ];
    for (const c of refused) {
      it(c.name, async () => {
        const connection = await connectWith(0, c.cluster, await c.certificate());
        await eventually(async () => connection.status, { what: 'end of the refused stream' });
        expect(connection.welcomed()).toBe(false);
        expect(connection.status!.code).toBe(grpc.status.UNAUTHENTICATED);
      });
    }
  });

  describe('renewal', () => {
    it('a renewed certificate connects, the stream that renewed is not cut, and the old certificate is refused once the new one is used', async () => {
      const first = await enroll('renew-1');
      const live = await connectWith(1, 'renew-1', first);
      const key = await newClientKey();
      live.send({ case: 'renewCertificate', value: { csrDer: await certificateRequest(key, 'someone-else') } });
      const renewedPem = await eventually(async () => {
        const pem = live.clientCertificate();
        return pem && pem !== first.certificatePem ? pem : undefined;
      }, { what: 'CertificateRenewed' });
      expect(new X509Certificate(renewedPem).subject).toBe('CN=renew-1');
      // The old certificate still holds until the new one is used: a lost answer strands no agent.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(live.status).toBeUndefined();

      const since = Date.now();
      const renewed = await connectWith(0, 'renew-1', { keyPem: key.keyPem, certificatePem: renewedPem });
      expect(renewed.welcomed()).toBe(true);
      expect(await cutAfter(live, since, 'the stream of the replaced certificate')).toBeLessThan(CUT_WITHIN_MS + 500);

      const old = await connectWith(1, 'renew-1', first);
      await eventually(async () => old.status, { what: 'refusal of the old certificate' });
      expect(old.welcomed()).toBe(false);
      expect(old.status!.code).toBe(grpc.status.UNAUTHENTICATED);
    });

    it('an agent with a bearer credential moves to a certificate, and the credential is refused afterwards', async () => {
      const legacy = agent(0, 'legacy-1', await register('legacy-1'));
      legacy.connect();
      const credential = await eventually(async () => legacy.welcomeCredential() || undefined, { what: 'bearer credential' });
      const key = await newClientKey();
      legacy.send({ case: 'renewCertificate', value: { csrDer: await certificateRequest(key, 'legacy-1') } });
      const pem = await eventually(async () => legacy.clientCertificate(), { what: 'certificate for the bearer agent' });
      const moved = await connectWith(1, 'legacy-1', { keyPem: key.keyPem, certificatePem: pem });
      expect(moved.welcomed()).toBe(true);
      const again = agent(1, 'legacy-1', credential);
      again.connect();
      await eventually(async () => again.refusal(), { what: 'refusal of the old bearer credential' });
      expect(again.refusal()).toBe('UNAUTHENTICATED');
    });
  });

  describe('revocation', () => {
    const cases: { name: string; cluster: string; mutation: string }[] = [
      { name: 'revokeAgentCredentials cuts a certificate-authenticated stream on the other replica within 2 s', cluster: 'revoke-1', mutation: `mutation($c: String!) { revokeAgentCredentials(cluster: $c) { revokedCredentials } }` },
      { name: 'deregisterCluster cuts a certificate-authenticated stream on the other replica within 2 s', cluster: 'revoke-2', mutation: `mutation($c: String!) { deregisterCluster(name: $c) { deregistered } }` },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const enrolled = await enroll(c.cluster);
        const live = await connectWith(1, c.cluster, enrolled);
        expect(live.welcomed()).toBe(true);
        await eventually(async () => (await connected(c.cluster)) === true, { what: `${c.cluster} connected` });
        const since = Date.now();
        const res = await admin(c.mutation, { c: c.cluster });
        expect(res.errors).toBeUndefined();
        expect(await cutAfter(live, since, `cut of ${c.cluster}`)).toBeLessThan(CUT_WITHIN_MS);
        const again = await connectWith(0, c.cluster, enrolled);
        await eventually(async () => again.status, { what: 'refusal after revocation' });
        expect(again.welcomed()).toBe(false);
        expect(again.status!.code).toBe(grpc.status.UNAUTHENTICATED);
      });
    }
  });
});
