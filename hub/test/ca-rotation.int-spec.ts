import * as grpc from '@grpc/grpc-js';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import type { ConnectResponse } from '@flotilla/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../src/config/hub-config';
import { startHub, type RunningHub } from '../src/hub';
import { createCertificateAuthority } from '../src/trust/x509';
import { TEST_ADMIN_TOKEN } from './support/admin-token';
import { certificateRequest, newClientKey } from './support/client-keys';
import { FakeAgent, type ClientCertificate } from './support/fake-agent';
import { eventually, graphqlClient } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/** The overlap of the rotation under test: long enough for the steps below, short enough to wait out. */
const OVERLAP_SECONDS = 12;
/** Replicas re-read the CAs every two seconds. */
const PROPAGATION_MS = 2000;
const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

interface Trust {
  bundlePem: string;
  rotationEndsAt: string | null;
  clustersOnRetiringCA: number;
  authorities: { fingerprint: string; role: string; signsServerCertificates: boolean; retiresAt: string | null }[];
}
const TRUST_FIELDS = 'bundlePem rotationEndsAt clustersOnRetiringCA authorities { fingerprint role signsServerCertificates retiresAt }';

/** The CA certificate (PEM) that signed the certificate a replica's agent link serves now, read from a fresh TLS handshake. */
function servedIssuer(port: number, trustPem: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: trustPem, servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
      const peer = socket.getPeerX509Certificate();
      socket.destroy();
      if (!peer) reject(new Error('no peer certificate'));
      else resolve(peer.issuer);
    });
    socket.on('error', reject);
  });
}

/** Whether a TLS client trusting only `trustPem` completes a handshake with the replica. */
function handshakes(port: number, trustPem: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: trustPem, servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

const trustUpdates = (agent: FakeAgent) => agent.received.filter((m): m is ConnectResponse & { message: { case: 'trustUpdate' } } => m.message.case === 'trustUpdate').map((m) => m.message.value);
const welcomeOf = (agent: FakeAgent) => agent.received.map((m) => m.message).find((m) => m.case === 'welcome')?.value as { caBundlePem: string; renewCertificate: boolean } | undefined;
const subjectOf = (pem: string) => new X509Certificate(pem).subject;

/**
 * A rotation of the hub's own agent-link CA with two replicas on one database: connected agents learn
 * the new CA and renew at once, the previous CA keeps signing server certificates and stays trusted
 * for the overlap, and when it ends every replica serves a certificate from the new CA without a
 * restart while streams still on the old CA's certificates are cut.
 */
describe('agent-link CA rotation with an overlap window, two replicas', () => {
  let db: TestDatabase;
  let dir: string;
  const hubs: RunningHub[] = [];
  const agents: FakeAgent[] = [];
  let admin: ReturnType<typeof graphqlClient>;
  let firstCa: string;
  const state: { rotation?: Trust; renewed?: ClientCertificate; edge2?: ClientCertificate; live1?: FakeAgent; live2?: FakeAgent } = {};

  const target = (replica: number, caBundle: string) => ({ grpcPort: hubs[replica]!.grpcPort, caBundle, agentLinkInsecure: false });
  const agent = (replica: number, cluster: string, secret: string, caBundle: string, certificate?: ClientCertificate): FakeAgent => {
    const created = new FakeAgent(target(replica, caBundle), cluster, secret, certificate);
    agents.push(created);
    return created;
  };
  const trust = async (): Promise<Trust> => {
    const result = await admin<{ agentLinkTrust: Trust }>(`{ agentLinkTrust { ${TRUST_FIELDS} } }`);
    if (!result.data) throw new Error(`agentLinkTrust failed: ${JSON.stringify(result.errors)}`);
    return result.data.agentLinkTrust;
  };

  const enroll = async (cluster: string): Promise<ClientCertificate> => {
    const token = (await admin<{ registerCluster: { bootstrapToken: string } }>(`mutation($n: String!) { registerCluster(input: { name: $n }) { bootstrapToken } }`, { n: cluster })).data!.registerCluster.bootstrapToken;
    const key = await newClientKey();
    const enrolling = agent(0, cluster, token, firstCa);
    enrolling.connect([], undefined, await certificateRequest(key, cluster));
    const certificatePem = await eventually(async () => enrolling.clientCertificate(), { what: `certificate of ${cluster}` });
    enrolling.close();
    return { keyPem: key.keyPem, certificatePem };
  };
  const connectWith = async (replica: number, cluster: string, caBundle: string, certificate: ClientCertificate): Promise<FakeAgent> => {
    const connecting = agent(replica, cluster, '', caBundle, certificate);
    connecting.connect();
    await eventually(async () => connecting.welcomed() || connecting.status !== undefined, { what: `outcome of ${cluster}` });
    return connecting;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'flotilla-ca-rotation-'));
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
            FLOTILLA_CA_ENCRYPTION_KEY: ENCRYPTION_KEY,
            FLOTILLA_DATA_DIR: join(dir, replica),
          }),
        ),
      );
    }
    firstCa = hubs[0]!.caBundle;
    admin = graphqlClient(hubs[0]!.graphqlUrl, TEST_ADMIN_TOKEN);
  });

  afterAll(async () => {
    for (const a of agents) a.close();
    for (const hub of hubs) await hub.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('before a rotation, one CA signs everything and agents are not asked to renew', async () => {
    const before = await trust();
    expect(before.authorities.map((a) => a.role)).toEqual(['SIGNING']);
    expect(before.rotationEndsAt).toBeNull();
    const edge1 = await enroll('edge-1');
    state.edge2 = await enroll('edge-2');
    state.live1 = await connectWith(0, 'edge-1', firstCa, edge1);
    expect(welcomeOf(state.live1)).toMatchObject({ caBundlePem: firstCa, renewCertificate: false });
    state.live2 = await connectWith(1, 'edge-2', firstCa, state.edge2);
    expect(state.live2.welcomed()).toBe(true);
  });

  it('a rotation makes a new signing CA, keeps the old one trusted and signing server certificates, and says when it ends', async () => {
    const startedAt = Date.now();
    const rotated = await graphqlClient(hubs[1]!.graphqlUrl, TEST_ADMIN_TOKEN)<{ rotateAgentLinkCA: Trust }>(`mutation($s: Int) { rotateAgentLinkCA(overlapSeconds: $s) { ${TRUST_FIELDS} } }`, { s: OVERLAP_SECONDS });
    expect(rotated.errors).toBeUndefined();
    const rotation = rotated.data!.rotateAgentLinkCA;
    state.rotation = rotation;
    expect(rotation.authorities.map((a) => [a.role, a.signsServerCertificates])).toEqual([
      ['SIGNING', false],
      ['RETIRING', true],
    ]);
    expect(Date.parse(rotation.rotationEndsAt!) - startedAt).toBeGreaterThan((OVERLAP_SECONDS - 2) * 1000);
    expect(rotation.bundlePem).toContain(firstCa.trim());
    expect(rotation.clustersOnRetiringCA).toBe(2);
  });

  it('each connected agent is sent the new bundle and asked to renew, on whichever replica it is connected', async () => {
    for (const live of [state.live1!, state.live2!]) {
      const update = await eventually(async () => trustUpdates(live)[0], { timeoutMs: PROPAGATION_MS + 3000, what: 'TrustUpdate' });
      expect(update).toMatchObject({ caBundlePem: state.rotation!.bundlePem, renewCertificate: true });
    }
  });

  it('a certificate renewed during the overlap comes from the new CA; the old one is still trusted meanwhile', async () => {
    const key = await newClientKey();
    state.live1!.send({ case: 'renewCertificate', value: { csrDer: await certificateRequest(key, 'edge-1') } });
    const renewedPem = await eventually(async () => {
      const renewed = state.live1!.received.map((m) => m.message).find((m) => m.case === 'certificateRenewed');
      return renewed?.case === 'certificateRenewed' ? renewed.value.clientCertificatePem : undefined;
    }, { what: 'CertificateRenewed' });
    const signing = state.rotation!.authorities.find((a) => a.role === 'SIGNING')!;
    const newCaPem = state.rotation!.bundlePem.replace(firstCa.trim(), '').trim();
    expect(new X509Certificate(renewedPem).verify(new X509Certificate(newCaPem).publicKey)).toBe(true);
    expect(new X509Certificate(newCaPem).fingerprint256.replace(/:/g, '').toLowerCase()).toBe(signing.fingerprint);
    state.renewed = { keyPem: key.keyPem, certificatePem: renewedPem };

    const onNew = await connectWith(1, 'edge-1', state.rotation!.bundlePem, state.renewed);
    expect(welcomeOf(onNew)).toMatchObject({ caBundlePem: state.rotation!.bundlePem, renewCertificate: false });
    // edge-2 has not renewed: its old certificate still connects, and Welcome asks for a new one.
    const edge2Again = await connectWith(0, 'edge-2', firstCa, state.edge2!);
    expect(welcomeOf(edge2Again)).toMatchObject({ renewCertificate: true });
    state.live2 = edge2Again;
    expect((await trust()).clustersOnRetiringCA).toBe(1);
  });

  it('during the overlap both replicas still serve a certificate from the old CA, so agents that know only it connect', async () => {
    for (const hub of hubs) {
      expect(await servedIssuer(hub.grpcPort, state.rotation!.bundlePem)).toBe(subjectOf(firstCa));
      expect(await handshakes(hub.grpcPort, firstCa)).toBe(true);
    }
  });

  it('a second rotation during the overlap is refused, and so are callers without the admin role', async () => {
    const again = await admin(`mutation { rotateAgentLinkCA(overlapSeconds: 60) { rotationEndsAt } }`);
    expect(again.errors?.[0]?.extensions?.['code']).toBe('FAILED_PRECONDITION');
    expect(again.errors?.[0]?.message).toMatch(/in progress/);
    const bad = await admin(`mutation { rotateAgentLinkCA(overlapSeconds: 0) { rotationEndsAt } }`);
    expect(bad.errors?.[0]?.extensions?.['code']).toBe('INVALID_ARGUMENT');
    const token = (await admin<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "viewer-rotation", role: VIEWER, project: "default" }) { token } }`)).data!.createApiToken.token;
    const viewer = graphqlClient(hubs[0]!.graphqlUrl, token);
    for (const document of ['mutation { rotateAgentLinkCA { rotationEndsAt } }', 'mutation { completeAgentLinkCARotation { rotationEndsAt } }', '{ agentLinkTrust { bundlePem } }']) {
      expect((await viewer(document)).errors?.[0]?.extensions?.['code'], document).toBe('PERMISSION_DENIED');
    }
    expect((await trust()).authorities.map((a) => a.role)).toEqual(['SIGNING', 'RETIRING']);
  });

  it('when the overlap ends, every replica serves a certificate from the new CA without a restart, and the old CA is refused', async () => {
    const endsAt = Date.parse(state.rotation!.rotationEndsAt!);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, endsAt - Date.now())));
    const newCaPem = state.rotation!.bundlePem.replace(firstCa.trim(), '').trim();
    for (const hub of hubs) {
      await eventually(async () => (await servedIssuer(hub.grpcPort, state.rotation!.bundlePem)) === subjectOf(newCaPem), { timeoutMs: PROPAGATION_MS + 3000, what: 'server certificate from the new CA' });
      expect(await handshakes(hub.grpcPort, firstCa)).toBe(false);
    }
    // The stream on a certificate from the retired CA is cut; the renewed agent stays connected and learns the smaller bundle.
    await eventually(async () => state.live2!.status, { timeoutMs: PROPAGATION_MS + 3000, what: 'cut of the old-CA stream' });
    expect(state.live2!.status!.code).toBe(grpc.status.UNAUTHENTICATED);
    const after = await trust();
    expect(after.authorities.map((a) => a.role)).toEqual(['SIGNING']);
    expect(after.rotationEndsAt).toBeNull();
    expect(after.bundlePem.trim()).toBe(newCaPem);

    const stillOld = await connectWith(1, 'edge-2', state.rotation!.bundlePem, state.edge2!);
    expect(stillOld.welcomed()).toBe(false);
    expect(stillOld.status!.code).toBe(grpc.status.UNAUTHENTICATED);
    const renewed = await connectWith(0, 'edge-1', after.bundlePem, state.renewed!);
    expect(renewed.welcomed()).toBe(true);
  });

  it('completing a rotation when none is in progress is refused', async () => {
    const result = await admin(`mutation { completeAgentLinkCARotation { rotationEndsAt } }`);
    expect(result.errors?.[0]?.extensions?.['code']).toBe('FAILED_PRECONDITION');
  });

  it('completeAgentLinkCARotation ends a new rotation early, on every replica', async () => {
    const rotated = (await admin<{ rotateAgentLinkCA: Trust }>(`mutation { rotateAgentLinkCA(overlapSeconds: 3600) { ${TRUST_FIELDS} } }`)).data!.rotateAgentLinkCA;
    const completed = await graphqlClient(hubs[1]!.graphqlUrl, TEST_ADMIN_TOKEN)<{ completeAgentLinkCARotation: Trust }>(`mutation { completeAgentLinkCARotation { ${TRUST_FIELDS} } }`);
    expect(completed.errors).toBeUndefined();
    expect(completed.data!.completeAgentLinkCARotation.authorities.map((a) => a.role)).toEqual(['SIGNING']);
    const newest = rotated.authorities.find((a) => a.role === 'SIGNING')!.fingerprint;
    expect(completed.data!.completeAgentLinkCARotation.authorities[0]!.fingerprint).toBe(newest);
    const newestPem = completed.data!.completeAgentLinkCARotation.bundlePem;
    for (const hub of hubs) {
      await eventually(async () => (await servedIssuer(hub.grpcPort, rotated.bundlePem)) === subjectOf(newestPem), { timeoutMs: PROPAGATION_MS + 3000, what: 'server certificate from the newest CA' });
    }
  });
});

/**
 * An operator-supplied CA is rotated by hand (README "Rotating the CA"): the new CA's files replace the
 * old, whose certificate moves to FLOTILLA_CA_TRUST_FILE. Agents enrolled under the old CA still
 * connect, are asked to renew, and are given both CAs; the hub does not rotate files it does not own.
 */
describe('rotating an operator-supplied CA through FLOTILLA_CA_TRUST_FILE', () => {
  let db: TestDatabase;
  let dir: string;
  let hub: RunningHub | undefined;
  const agents: FakeAgent[] = [];
  const files = async (name: string) => {
    const generated = await createCertificateAuthority(new Date(), `Operator CA ${name}`);
    writeFileSync(join(dir, `${name}.crt`), generated.certificatePem);
    writeFileSync(join(dir, `${name}.key`), createPrivateKey({ key: generated.privateKeyPkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }) as string);
    return generated.certificatePem;
  };
  const start = async (ca: string, trust?: string) =>
    startHub(
      loadHubConfig({
        DATABASE_URL: db.url,
        PORT: '0',
        FLOTILLA_GRPC_PORT: '0',
        FLOTILLA_LOG_LEVEL: 'error',
        FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        FLOTILLA_CA_CERT_FILE: join(dir, `${ca}.crt`),
        FLOTILLA_CA_KEY_FILE: join(dir, `${ca}.key`),
        ...(trust ? { FLOTILLA_CA_TRUST_FILE: join(dir, `${trust}.crt`) } : {}),
        FLOTILLA_DATA_DIR: join(dir, 'data'),
      }),
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'flotilla-operator-ca-'));
  });

  afterAll(async () => {
    for (const a of agents) a.close();
    await hub?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an agent enrolled under the old CA connects after the swap, is asked to renew, and gets both CAs', async () => {
    const oldPem = await files('old');
    const newPem = await files('new');
    hub = await start('old');
    const admin = graphqlClient(hub.graphqlUrl, TEST_ADMIN_TOKEN);
    const token = (await admin<{ registerCluster: { bootstrapToken: string } }>(`mutation { registerCluster(input: { name: "edge-op" }) { bootstrapToken } }`)).data!.registerCluster.bootstrapToken;
    const key = await newClientKey();
    const enrolling = new FakeAgent(hub, 'edge-op', token);
    agents.push(enrolling);
    enrolling.connect([], undefined, await certificateRequest(key, 'edge-op'));
    const certificatePem = await eventually(async () => enrolling.clientCertificate(), { what: 'certificate under the old CA' });
    enrolling.close();
    await hub.stop();

    hub = await start('new', 'old');
    const swapped = graphqlClient(hub.graphqlUrl, TEST_ADMIN_TOKEN);
    const trust = (await swapped<{ agentLinkTrust: Trust }>(`{ agentLinkTrust { ${TRUST_FIELDS} } }`)).data!.agentLinkTrust;
    expect(trust.authorities.map((a) => a.role)).toEqual(['SIGNING', 'TRUSTED']);
    expect(trust.bundlePem).toBe(`${newPem}${oldPem}`);
    expect(await servedIssuer(hub.grpcPort, newPem)).toBe(subjectOf(newPem));

    const agent = new FakeAgent({ grpcPort: hub.grpcPort, caBundle: trust.bundlePem, agentLinkInsecure: false }, 'edge-op', '', { keyPem: key.keyPem, certificatePem });
    agents.push(agent);
    agent.connect();
    await eventually(async () => agent.welcomed() || agent.status !== undefined, { what: 'outcome' });
    expect(welcomeOf(agent)).toMatchObject({ caBundlePem: trust.bundlePem, renewCertificate: true });

    const refused = await swapped(`mutation { rotateAgentLinkCA { rotationEndsAt } }`);
    expect(refused.errors?.[0]?.extensions?.['code']).toBe('FAILED_PRECONDITION');
    expect(refused.errors?.[0]?.message).toMatch(/FLOTILLA_CA_TRUST_FILE/);
  });
});
