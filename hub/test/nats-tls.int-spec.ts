import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectRequestSchema, PROTOCOL_VERSION, create, toBinary } from '@flotilla/proto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Algorithms, encodeUser } from '@nats-io/jwt';
import { createUser } from '@nats-io/nkeys';
import { connect, jwtAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { Logger } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadHubConfig } from '../src/config/hub-config';
import { startHub, type RunningHub } from '../src/hub';
import { NatsTrust, type CredentialReply } from '../src/nats-trust/nats-trust.service';
import { printNatsConfig } from '../src/nats-trust/print-nats-config';
import { TEST_ADMIN_TOKEN } from './support/admin-token';
import { eventually, graphqlClient } from './support/graphql-client';
import { TestNatsServer } from './support/nats-server';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** One connect attempt is bounded by the hub's 5 s connect timeout; a refusal must come well within this. */
const REFUSAL_BOUND_MS = 10_000;

/** A CA, a server certificate it signs for 127.0.0.1, and an unrelated CA, made with openssl in `dir`. */
function makeCertificates(dir: string): { ca: string; wrongCa: string; cert: string; key: string } {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ecKey, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=Flotilla test NATS CA');
  openssl('req', '-x509', ...ecKey, '-keyout', 'wrong-ca.key', '-out', 'wrong-ca.pem', '-days', '1', '-subj', '/CN=Some other CA');
  openssl('req', ...ecKey, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'server.ext');
  return { ca: join(dir, 'ca.pem'), wrongCa: join(dir, 'wrong-ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

describe('the hub reaches NATS over TLS (FLOTILLA_NATS_CA_FILE, tls:// URLs)', () => {
  let dir: string;
  let certs: ReturnType<typeof makeCertificates>;
  let db: TestDatabase;
  let nats: TestNatsServer;
  let hub: RunningHub;
  let gql: ReturnType<typeof graphqlClient>;
  const open: NatsConnection[] = [];

  /** The hub's environment: operator mode, so that both of its connections (link and system account) go over TLS. */
  const hubEnv = (extra: Record<string, string>) => ({
    DATABASE_URL: db.url,
    PORT: '0',
    FLOTILLA_GRPC_PORT: '0',
    FLOTILLA_LOG_LEVEL: 'error',
    FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    FLOTILLA_CA_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
    FLOTILLA_NATS_OPERATOR: 'true',
    FLOTILLA_NATS_URL: `tls://127.0.0.1:${nats?.port ?? 1}`,
    ...extra,
  });
  const tlsConnect = async (options: Parameters<typeof connect>[0]) => {
    const connection = await connect({ servers: `tls://127.0.0.1:${nats.port}`, tls: { caFile: certs.ca }, reconnect: false, timeout: 5000, ...options });
    open.push(connection);
    return connection;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-nats-tls-'));
    certs = makeCertificates(dir);
    db = await createTestDatabase();
    const serverConfig = await printNatsConfig(loadHubConfig(hubEnv({})));
    // Loopback only (the helper binds 127.0.0.1); every client must speak TLS.
    nats = await TestNatsServer.start(`${serverConfig}\ntls {\n  cert_file: "${certs.cert}"\n  key_file: "${certs.key}"\n  timeout: 2\n}\n`);
    hub = await startHub(loadHubConfig(hubEnv({ FLOTILLA_NATS_CA_FILE: certs.ca })));
    gql = graphqlClient(hub.graphqlUrl, TEST_ADMIN_TOKEN);
  });

  afterAll(async () => {
    for (const connection of open) await connection.close().catch(() => undefined);
    await hub?.stop();
    await nats?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("with the server's CA the link comes up: the KV bucket is made, enrollment is answered, and a NATS agent's Hello makes its cluster connected", async () => {
    // An unrestricted user of the account, over TLS, sees what the hub made.
    const keys = await hub.app.get(NatsTrust).signingKeys();
    const watcher = createUser();
    const observer = await tlsConnect({ authenticator: jwtAuthenticator(await encodeUser('observer', watcher, keys.account, {}, { algorithm: Algorithms.v2 }), watcher.getSeed()) });
    expect(observer.info?.tls_required).toBe(true);
    const jsm = await jetstreamManager(observer);
    await eventually(async () => (await jsm.streams.info('KV_flotilla-desired').catch(() => undefined)) !== undefined, { what: 'the desired-state bucket made by the hub over TLS' });

    // An agent enrolls over TLS as the enrollment user, then says Hello as its own user.
    const registered = await gql<{ registerCluster: { bootstrapToken: string } }>(`mutation { registerCluster(input: { name: "tls-1" }) { bootstrapToken } }`);
    const agentKey = createUser();
    const enrollment = await tlsConnect({ authenticator: jwtAuthenticator(await hub.app.get(NatsTrust).enrollmentJwt()), inboxPrefix: '_INBOX_enroll' });
    const reply = await enrollment.request('flotilla.enroll.tls-1', encoder.encode(JSON.stringify({ token: registered.data!.registerCluster.bootstrapToken, publicKey: agentKey.getPublicKey() })), { timeout: 5000 });
    const answer = JSON.parse(decoder.decode(reply.data)) as CredentialReply;
    if (!('jwt' in answer)) throw new Error(`enrollment refused: ${answer.message}`);
    const agent = await tlsConnect({ authenticator: jwtAuthenticator(answer.jwt, agentKey.getSeed()), inboxPrefix: '_INBOX_tls-1' });
    const hello = create(ConnectRequestSchema, { message: { case: 'hello', value: { protocolVersion: PROTOCOL_VERSION, clusterName: 'tls-1', agentVersion: 'tls-test', inventory: { apps: [] } } } });
    await jetstream(agent).publish('reports.tls-1', toBinary(ConnectRequestSchema, hello), { timeout: 5000 });
    await eventually(
      async () => (await gql<{ clusters: { name: string; connected: boolean }[] }>(`{ clusters { name connected } }`)).data?.clusters.find((c) => c.name === 'tls-1')?.connected,
      { what: 'tls-1 connected through the hub link over TLS' },
    );
  });

  describe('a hub that does not trust the server certificate', () => {
    let other: RunningHub | undefined;
    afterEach(async () => {
      const stopping = Date.now();
      await other?.stop();
      // Shutting down while the link keeps retrying is bounded too.
      expect(Date.now() - stopping).toBeLessThan(REFUSAL_BOUND_MS);
      other = undefined;
      vi.restoreAllMocks();
    });

    it.each([
      { name: 'another CA in FLOTILLA_NATS_CA_FILE', env: (): Record<string, string> => ({ FLOTILLA_NATS_CA_FILE: certs.wrongCa }) },
      { name: 'no CA file (system roots)', env: (): Record<string, string> => ({}) },
    ])('with $name refuses the server with a certificate error, within a bound, and never links up', async ({ env }) => {
      const warnings: string[] = [];
      vi.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
      const handshakesBefore = nats.output.filter((line) => line.includes('TLS handshake error')).length;
      const startedAt = Date.now();
      // Same database (and so the same NATS keys) as the hub above, a bucket of its own to watch.
      other = await startHub(loadHubConfig(hubEnv({ ...env(), FLOTILLA_NATS_KV_BUCKET: 'untrusted-desired', FLOTILLA_NATS_REPORTS_STREAM: 'UNTRUSTED_REPORTS' })));

      // The link says why, at its first attempt
      const refusal = await eventually(async () => warnings.find((line) => line.startsWith('NATS agent link not ready:')), { what: 'the link refusing the server', timeoutMs: REFUSAL_BOUND_MS });
      expect(refusal).toMatch(/unable to verify the first certificate|certificate/i);
      expect(Date.now() - startedAt).toBeLessThan(REFUSAL_BOUND_MS);
      // And every connection of the hub refuses alike, promptly: pushing the account is one of them
      const pushStartedAt = Date.now();
      await expect(other.app.get(NatsTrust).pushAccount()).rejects.toThrow(/unable to verify the first certificate/);
      expect(Date.now() - pushStartedAt).toBeLessThan(REFUSAL_BOUND_MS);
      // The client is the one that gave up: the server saw its handshakes abort
      await eventually(async () => nats.output.filter((line) => line.includes('TLS handshake error')).length > handshakesBefore, { what: 'the server logging an aborted handshake', timeoutMs: 5000 });
      // And nothing was made on the server in its name
      const keys = await hub.app.get(NatsTrust).signingKeys();
      const watcher = createUser();
      const observer = await tlsConnect({ authenticator: jwtAuthenticator(await encodeUser('observer', watcher, keys.account, {}, { algorithm: Algorithms.v2 }), watcher.getSeed()) });
      const names: string[] = [];
      for await (const name of (await jetstreamManager(observer)).streams.names()) names.push(name);
      expect(names).not.toContain('KV_untrusted-desired');
      expect(names).not.toContain('UNTRUSTED_REPORTS');
    });
  });
});
