import { Algorithms, encodeUser } from '@nats-io/jwt';
import { createUser, type KeyPair } from '@nats-io/nkeys';
import { connect, jwtAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig, type HubConfig } from '../src/config/hub-config';
import { startHub, type RunningHub } from '../src/hub';
import { NatsTrust, type CredentialReply } from '../src/nats-trust/nats-trust.service';
import { NatsUserEntity } from '../src/nats-trust/nats-user.entity';
import { printNatsConfig } from '../src/nats-trust/print-nats-config';
import { TEST_ADMIN_TOKEN } from './support/admin-token';
import { eventually, graphqlClient } from './support/graphql-client';
import { TestNatsServer } from './support/nats-server';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe('NATS decentralized auth: the hub as operator', () => {
  let db: TestDatabase;
  let config: HubConfig;
  let nats: TestNatsServer;
  let hub: RunningHub;
  let trust: NatsTrust;
  let observer: NatsConnection;
  let gql: ReturnType<typeof graphqlClient>;
  const open: NatsConnection[] = [];

  const register = async (name: string): Promise<string> => {
    const res = await gql<{ registerCluster: { bootstrapToken: string } }>(`mutation($n: String!) { registerCluster(input: { name: $n }) { bootstrapToken } }`, { n: name });
    if (!res.data) throw new Error(`registerCluster ${name} failed: ${JSON.stringify(res.errors)}`);
    return res.data.registerCluster.bootstrapToken;
  };

  const enroll = async (cluster: string, token: string, key: KeyPair = createUser(), enrollmentJwt?: string): Promise<CredentialReply> => {
    const connection = await connect({ servers: nats.url, authenticator: jwtAuthenticator(enrollmentJwt ?? (await trust.enrollmentJwt())), inboxPrefix: '_INBOX_enroll' });
    try {
      const reply = await connection.request(`flotilla.enroll.${cluster}`, encoder.encode(JSON.stringify({ token, publicKey: key.getPublicKey() })), { timeout: 5000 });
      return JSON.parse(decoder.decode(reply.data)) as CredentialReply;
    } finally {
      await connection.close();
    }
  };

  const connectAs = async (cluster: string, jwt: string, key: KeyPair): Promise<NatsConnection> => {
    const connection = await connect({ servers: nats.url, authenticator: jwtAuthenticator(jwt, key.getSeed()), inboxPrefix: `_INBOX_${cluster}`, reconnect: false });
    open.push(connection);
    return connection;
  };

  const enrolledAs = async (cluster: string): Promise<{ connection: NatsConnection; jwt: string; key: KeyPair }> => {
    const key = createUser();
    const reply = await enroll(cluster, await register(cluster), key);
    if (!('jwt' in reply)) throw new Error(`enrollment of ${cluster} refused: ${reply.message}`);
    return { connection: await connectAs(cluster, reply.jwt, key), jwt: reply.jwt, key };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = {
      DATABASE_URL: db.url,
      PORT: '0',
      FLOTILLA_GRPC_PORT: '0',
      FLOTILLA_LOG_LEVEL: 'error',
      FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      FLOTILLA_CA_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      FLOTILLA_NATS_URL: 'nats://127.0.0.1:1',
      FLOTILLA_NATS_OPERATOR: 'true',
    };
    // The server's configuration comes from the hub's keys, as an operator would make it.
    nats = await TestNatsServer.start(await printNatsConfig(loadHubConfig(env)));
    config = loadHubConfig({ ...env, FLOTILLA_NATS_URL: nats.url });
    hub = await startHub(config);
    trust = hub.app.get(NatsTrust);
    gql = graphqlClient(hub.graphqlUrl, TEST_ADMIN_TOKEN);
    // An unrestricted user of the account sees what agents manage to publish.
    const keys = await trust.signingKeys();
    const watcher = createUser();
    observer = await connect({ servers: nats.url, authenticator: jwtAuthenticator(await encodeUser('observer', watcher, keys.account, {}, { algorithm: Algorithms.v2 }), watcher.getSeed()) });
    // The hub is connected once its own enrollment responder answers.
    await eventually(async () => (await enroll('nobody', 'x').catch(() => undefined)) !== undefined, { what: 'the hub answering on NATS' });
  });

  afterAll(async () => {
    for (const connection of open) await connection.close().catch(() => undefined);
    await observer?.close();
    await hub?.stop();
    await nats?.stop();
    await db?.drop();
  });

  /** True when `subject`, published by `connection`, reaches the observer. */
  const reaches = async (connection: NatsConnection, subject: string): Promise<boolean> => {
    const seen: string[] = [];
    const sub = observer.subscribe(subject, { callback: (_error, message) => void seen.push(message.subject) });
    await observer.flush();
    connection.publish(subject, encoder.encode('probe'));
    await connection.flush();
    await observer.flush();
    sub.unsubscribe();
    return seen.length > 0;
  };

  /** True when the server lets `connection` subscribe to `subject`. */
  const maySubscribe = async (connection: NatsConnection, subject: string): Promise<boolean> => {
    const sub = connection.subscribe(subject, { callback: () => undefined });
    await connection.flush();
    const closed = await Promise.race([sub.closed, new Promise<'open'>((done) => setTimeout(() => done('open'), 300))]);
    sub.unsubscribe();
    return closed === 'open';
  };

  describe("a minted cluster user has exactly the hand-written user's permissions", () => {
    let edge1: NatsConnection;
    beforeAll(async () => {
      edge1 = (await enrolledAs('edge-1')).connection;
      await register('edge-2');
      await register('edge-10');
    });

    it.each([
      { subject: 'reports.edge-1', allowed: true },
      { subject: 'reports.edge-2', allowed: false },
      { subject: 'reports.edge-10', allowed: false },
      { subject: 'reports.edge-1.extra', allowed: false },
      { subject: '$KV.flotilla-desired.edge-1.web', allowed: false },
      { subject: '$JS.API.DIRECT.GET.KV_flotilla-desired.$KV.flotilla-desired.edge-1.web', allowed: false },
      { subject: '$JS.API.STREAM.MSG.GET.KV_flotilla-desired', allowed: false },
      { subject: '$JS.API.STREAM.LIST', allowed: false },
      { subject: '$JS.API.CONSUMER.CREATE.KV_flotilla-desired.c1.$KV.flotilla-desired.edge-2.>', allowed: false },
      { subject: '$JS.API.CONSUMER.CREATE.KV_flotilla-desired.c1.$KV.flotilla-desired.edge-1.>', allowed: true },
      { subject: 'flotilla.enroll.edge-2', allowed: false },
      { subject: 'flotilla.renew.edge-2', allowed: false },
    ])('publishing to $subject: allowed $allowed', async ({ subject, allowed }) => {
      expect(await reaches(edge1, subject)).toBe(allowed);
    });

    it.each([
      { subject: '_INBOX_edge-1.abc.>', allowed: true },
      { subject: '_INBOX_edge-2.>', allowed: false },
      { subject: '_INBOX_edge-10.>', allowed: false },
      { subject: '_INBOX.>', allowed: false },
      { subject: 'reports.>', allowed: false },
      { subject: 'flotilla.enroll.*', allowed: false },
      { subject: '>', allowed: false },
    ])('subscribing to $subject: allowed $allowed', async ({ subject, allowed }) => {
      expect(await maySubscribe(edge1, subject)).toBe(allowed);
    });
  });

  describe('enrollment with the one-time bootstrap token', () => {
    it.each([
      { name: 'a valid token is exchanged once and its reuse is refused', setup: async () => ({ cluster: 'enr-a', token: await register('enr-a') }), reuse: true },
      { name: 'an expired token is refused', setup: async () => ({ cluster: 'enr-b', token: await expired(await register('enr-b')) }), reuse: false },
      { name: "another cluster's token is refused", setup: async () => ({ cluster: 'enr-c', token: (await register('enr-c'), await register('enr-d')) }), reuse: false },
      { name: 'a made-up token is refused', setup: async () => ({ cluster: (await register('enr-e'), 'enr-e'), token: 'flt_boot_not-a-token' }), reuse: false },
    ])('$name', async ({ setup, reuse }) => {
      const { cluster, token } = await setup();
      const first = await enroll(cluster, token);
      if (!reuse) {
        expect(first).toEqual({ error: 'UNAUTHENTICATED', message: 'The bootstrap token is not valid for this cluster.' });
        return;
      }
      expect(first).toHaveProperty('jwt');
      expect(await enroll(cluster, token)).toEqual({ error: 'UNAUTHENTICATED', message: 'The bootstrap token is not valid for this cluster.' });
    });

    it('refuses a request without a valid user public key, before looking at the token', async () => {
      const connection = await connect({ servers: nats.url, authenticator: jwtAuthenticator(await trust.enrollmentJwt()), inboxPrefix: '_INBOX_enroll' });
      const reply = await connection.request('flotilla.enroll.enr-f', encoder.encode(JSON.stringify({ token: await register('enr-f'), publicKey: 'AAAA' })), { timeout: 5000 });
      await connection.close();
      expect(JSON.parse(decoder.decode(reply.data))).toMatchObject({ error: 'INVALID_ARGUMENT' });
    });

    it('the enrollment user may ask and read its answer, and nothing else', async () => {
      const connection = await connect({ servers: nats.url, authenticator: jwtAuthenticator(await trust.enrollmentJwt()), inboxPrefix: '_INBOX_enroll' });
      open.push(connection);
      expect(await reaches(connection, 'reports.edge-1')).toBe(false);
      expect(await reaches(connection, '$JS.API.STREAM.LIST')).toBe(false);
      expect(await maySubscribe(connection, 'flotilla.enroll.*')).toBe(false);
      expect(await maySubscribe(connection, '_INBOX_edge-1.>')).toBe(false);
    });
  });

  it.each([
    { mutation: 'registerCluster', field: 'registerCluster', run: `mutation { registerCluster(input: { name: "inst-1" }) { bootstrapToken natsEnrollmentJwt agentInstallCommand } }` },
    { mutation: 'issueBootstrapToken', field: 'issueBootstrapToken', run: `mutation { issueBootstrapToken(cluster: "inst-1") { bootstrapToken natsEnrollmentJwt agentInstallCommand } }` },
  ])('$mutation returns an enrollment JWT that enrolls with the returned token, and an install command on NATS', async ({ field, run }) => {
    type Payload = { bootstrapToken: string; natsEnrollmentJwt: string | null; agentInstallCommand: string };
    const res = await gql<Record<string, Payload>>(run);
    const { bootstrapToken, natsEnrollmentJwt, agentInstallCommand } = res.data![field]!;
    expect(natsEnrollmentJwt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(agentInstallCommand).toContain('--set transport=nats');
    expect(agentInstallCommand).toContain(`--set-string nats.url=${nats.url}`);
    expect(agentInstallCommand).toContain(`--set-string nats.enrollmentJwt.value=${natsEnrollmentJwt}`);
    expect(agentInstallCommand).toContain(`--set bootstrapToken.value=${bootstrapToken}`);
    expect(agentInstallCommand).not.toContain('hub.address');
    const key = createUser();
    const reply = await enroll('inst-1', bootstrapToken, key, natsEnrollmentJwt!);
    if (!('jwt' in reply)) throw new Error(`enrollment refused: ${reply.message}`);
    expect(await reaches(await connectAs('inst-1', reply.jwt, key), 'reports.inst-1')).toBe(true);
  });

  it('the enrollment JWT alone grants nothing: without a valid token the hub refuses', async () => {
    const res = await gql<{ issueBootstrapToken: { natsEnrollmentJwt: string } }>(`mutation { issueBootstrapToken(cluster: "inst-1") { natsEnrollmentJwt } }`);
    expect(await enroll('inst-1', 'flt_boot_guess', createUser(), res.data!.issueBootstrapToken.natsEnrollmentJwt)).toEqual({ error: 'UNAUTHENTICATED', message: 'The bootstrap token is not valid for this cluster.' });
  });

  it('renewal by the current identity returns a fresh JWT for the same key; another key is refused', async () => {
    const { connection, key } = await enrolledAs('ren-a');
    const ask = async (publicKey: string) => JSON.parse(decoder.decode((await connection.request('flotilla.renew.ren-a', encoder.encode(JSON.stringify({ publicKey })), { timeout: 5000 })).data)) as CredentialReply;
    const renewed = await ask(key.getPublicKey());
    if (!('jwt' in renewed)) throw new Error(renewed.message);
    const again = await connectAs('ren-a', renewed.jwt, key);
    expect(await reaches(again, 'reports.ren-a')).toBe(true);
    expect(await ask(createUser().getPublicKey())).toEqual({ error: 'UNAUTHENTICATED', message: 'This NATS user cannot be renewed.' });
  });

  it('deregistration revokes: the open connection is dropped within seconds and the old JWT is refused', async () => {
    const { connection, jwt, key } = await enrolledAs('gone-1');
    const { connection: neighbour } = await enrolledAs('gone-10');
    const res = await gql<{ deregisterCluster: { deregistered: boolean } }>(`mutation { deregisterCluster(name: "gone-1", force: true) { deregistered } }`);
    expect(res.data!.deregisterCluster.deregistered).toBe(true);
    await eventually(async () => connection.isClosed(), { timeoutMs: 5000, what: 'the revoked connection dropped' });
    await expect(connectAs('gone-1', jwt, key)).rejects.toThrow(/authorization|revoked/i);
    expect(neighbour.isClosed()).toBe(false);
    expect(await reaches(neighbour, 'reports.gone-10')).toBe(true);
  });

  it('a JWT lives exactly the configured lifetime, and its row keeps its expiry (the revocation entry lasts as long as the JWT)', async () => {
    const { jwt, key } = await enrolledAs('life-1');
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as { iat: number; exp: number };
    expect(claims.exp - claims.iat).toBe(config.nats!.auth.kind === 'operator' ? config.nats!.auth.userJwtTtlSeconds : -1);
    const rows = await hub.app.get(DataSource).getRepository(NatsUserEntity).findBy({ clusterName: 'life-1', publicKey: key.getPublicKey() });
    expect(rows.map((row) => [row.issuedAt.getTime() / 1000, row.expiresAt.getTime() / 1000])).toEqual([[claims.iat, claims.exp]]);
  });

  it('a re-install: the old user keeps working until the new agent enrolls, then is revoked; the new one is let in', async () => {
    // Given an enrolled agent, and a fresh bootstrap token for its cluster
    const old = await enrolledAs('reinst-1');
    const { issueBootstrapToken } = (await gql<{ issueBootstrapToken: { bootstrapToken: string } }>(`mutation { issueBootstrapToken(cluster: "reinst-1") { bootstrapToken } }`)).data!;
    // Then the old agent carries on while nobody has used the token
    expect(await reaches(old.connection, 'reports.reinst-1')).toBe(true);

    // When a new agent enrolls with it
    const key = createUser();
    const reply = await enroll('reinst-1', issueBootstrapToken.bootstrapToken, key);
    if (!('jwt' in reply)) throw new Error(`re-enrollment refused: ${reply.message}`);

    // Then the old connection is dropped and its JWT refused, and the new key connects
    await eventually(async () => old.connection.isClosed(), { timeoutMs: 5000, what: 'the replaced connection dropped' });
    await expect(connectAs('reinst-1', old.jwt, old.key)).rejects.toThrow(/authorization|revoked/i);
    expect(await reaches(await connectAs('reinst-1', reply.jwt, key), 'reports.reinst-1')).toBe(true);
  });

  it('revokeAgentCredentials counts the NATS users it revoked and cuts them; renewing afterwards is refused', async () => {
    const { connection, jwt, key } = await enrolledAs('rev-1');
    const res = await gql<{ revokeAgentCredentials: { revokedCredentials: number } }>(`mutation { revokeAgentCredentials(cluster: "rev-1") { revokedCredentials } }`);
    expect(res.data!.revokeAgentCredentials.revokedCredentials).toBe(1);
    await eventually(async () => connection.isClosed(), { timeoutMs: 5000, what: 'the revoked connection dropped' });
    await expect(connectAs('rev-1', jwt, key)).rejects.toThrow(/authorization|revoked/i);
    expect(await trust.renew('rev-1', { publicKey: key.getPublicKey() }, new Date())).toEqual({ error: 'UNAUTHENTICATED', message: 'This NATS user cannot be renewed.' });
  });

  it('prints the server configuration with the operator, the system account and a preloaded memory resolver', async () => {
    const text = await trust.serverConfig();
    const keys = await trust.signingKeys();
    expect(text).toContain(`system_account: ${keys.systemAccount.getPublicKey()}`);
    expect(text).toMatch(/^operator: "eyJ/m);
    expect(text).toContain('resolver: MEMORY');
    expect(text).toContain(`${keys.account.getPublicKey()}: "eyJ`);
    expect(text).not.toMatch(/S[OA][A-Z2-7]{50,}/);
  });

  async function expired(token: string): Promise<string> {
    const { DataSource } = await import('typeorm');
    await hub.app.get(DataSource).query(`UPDATE agent_tokens SET expires_at = now() - interval '1 second' WHERE kind = 'bootstrap' AND used_at IS NULL AND expires_at > now() - interval '1 second'`);
    return token;
  }
});
