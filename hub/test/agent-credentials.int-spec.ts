import * as grpc from '@grpc/grpc-js';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../src/config/hub-config';
import { startHub, type RunningHub } from '../src/hub';
import { FakeAgent } from './support/fake-agent';
import { TEST_ADMIN_TOKEN } from './support/admin-token';
import { eventually, graphqlClient } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/** The bound of the issue: a revoked agent is cut on every replica within two seconds. */
const CUT_WITHIN_MS = 2000;

const REVOKE = `mutation($c: String!) { revokeAgentCredentials(cluster: $c) { cluster { name connected } revokedAt revokedCredentials revokedBootstrapTokens } }`;
const ISSUE = `mutation($c: String!) { issueBootstrapToken(cluster: $c) { bootstrapToken reinstall cluster { name } } }`;
const DEREGISTER = `mutation($c: String!) { deregisterCluster(name: $c) { deregistered } }`;

interface Revoked {
  revokeAgentCredentials: { cluster: { name: string; connected: boolean }; revokedAt: string; revokedCredentials: number; revokedBootstrapTokens: number };
}
interface Issued {
  issueBootstrapToken: { bootstrapToken: string; reinstall: boolean; cluster: { name: string } };
}

/**
 * Two hub replicas (A and B) on one database; mutations go through A. Agents send no heartbeats and
 * the heartbeat interval is the default 10 s, so a cut within 2 s comes from the credential check (or
 * its notification), never from a last-seen write.
 */
describe('agent credentials: revocation and re-install, with two hub replicas on one database', () => {
  let db: TestDatabase;
  const hubs: RunningHub[] = [];
  const agents: FakeAgent[] = [];
  let admin: ReturnType<typeof graphqlClient>;
  let viewer: ReturnType<typeof graphqlClient>;
  let operator: ReturnType<typeof graphqlClient>;

  const connect = (replica: number, cluster: string, secret: string): FakeAgent => {
    const agent = new FakeAgent(hubs[replica]!, cluster, secret);
    agents.push(agent);
    agent.connect();
    return agent;
  };

  /** Registers `cluster` and enrolls its agent on `replica`; returns the live agent and its credential. */
  const enroll = async (cluster: string, replica: number): Promise<{ agent: FakeAgent; credential: string }> => {
    const res = await admin<{ registerCluster: { bootstrapToken: string } }>(`mutation($n: String!) { registerCluster(input: { name: $n }) { bootstrapToken } }`, { n: cluster });
    const agent = connect(replica, cluster, res.data!.registerCluster.bootstrapToken);
    const credential = await eventually(async () => agent.welcomeCredential(), { what: `welcome of ${cluster}` });
    await eventually(async () => (await connected(cluster)) === true, { what: `${cluster} connected` });
    return { agent, credential };
  };

  const connected = async (cluster: string) => (await admin<{ cluster: { connected: boolean } | null }>(`query($c: String!) { cluster(name: $c) { connected } }`, { c: cluster })).data!.cluster?.connected;

  /** Waits for the agent's stream to end; returns how long after `since` it ended. */
  const cutAfter = async (agent: FakeAgent, since: number, what: string): Promise<number> => {
    await eventually(async () => agent.endedAt, { timeoutMs: CUT_WITHIN_MS + 3000, intervalMs: 20, what });
    expect(agent.status!.code, what).toBe(grpc.status.UNAUTHENTICATED);
    expect(agent.refusal(), what).toBe('UNAUTHENTICATED');
    return agent.endedAt! - since;
  };

  /** A reconnect with `credential` is refused on every replica. */
  const expectRefusedEverywhere = async (cluster: string, credential: string): Promise<void> => {
    for (const replica of hubs.keys()) {
      const again = connect(replica, cluster, credential);
      await eventually(async () => again.refusal(), { what: `refusal of ${cluster}'s old credential on replica ${replica}` });
      expect(again.refusal()).toBe('UNAUTHENTICATED');
      expect(again.welcomeCredential()).toBeUndefined();
      again.close();
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    for (const replica of ['hub-a', 'hub-b']) {
      hubs.push(
        await startHub(
          loadHubConfig({
            DATABASE_URL: db.url,
            PORT: '0',
            FLOTILLA_GRPC_PORT: '0',
            FLOTILLA_OUTBOX_SCAN_MS: '200',
            FLOTILLA_LOG_LEVEL: 'error',
            FLOTILLA_REPLICA_ID: replica,
            FLOTILLA_BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
          }),
        ),
      );
    }
    admin = graphqlClient(hubs[0]!.graphqlUrl, TEST_ADMIN_TOKEN);
    const token = async (name: string, role: string) =>
      (await admin<{ createApiToken: { token: string } }>(`mutation($n: String!, $r: Role!) { createApiToken(input: { name: $n, role: $r, project: "default" }) { token } }`, { n: name, r: role })).data!
        .createApiToken.token;
    viewer = graphqlClient(hubs[0]!.graphqlUrl, await token('a-viewer', 'VIEWER'));
    operator = graphqlClient(hubs[0]!.graphqlUrl, await token('an-operator', 'OPERATOR'));
  });

  afterAll(async () => {
    for (const agent of agents) agent.close();
    for (const hub of hubs) await hub.stop();
    await db?.drop();
  });

  describe('who may revoke', () => {
    let guarded: FakeAgent;
    beforeAll(async () => {
      guarded = (await enroll('guarded-1', 1)).agent;
    });

    it.each([
      { name: 'a VIEWER is PERMISSION_DENIED', as: () => viewer, cluster: 'guarded-1', code: 'PERMISSION_DENIED' },
      { name: 'an OPERATOR is PERMISSION_DENIED', as: () => operator, cluster: 'guarded-1', code: 'PERMISSION_DENIED' },
      { name: 'an ADMIN naming an unknown cluster gets NOT_FOUND', as: () => admin, cluster: 'nowhere-1', code: 'NOT_FOUND' },
    ])('$name, and the agent stays connected', async ({ as, cluster, code }) => {
      const res = await as()<Revoked>(REVOKE, { c: cluster });
      expect(res.data).toBeNull();
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual([code]);
      expect(guarded.status).toBeUndefined();
      expect(await connected('guarded-1')).toBe(true);
    });
  });

  it.each([
    { name: 'the replica that handles the mutation', cluster: 'revoked-a', replica: 0 },
    { name: 'another replica', cluster: 'revoked-b', replica: 1 },
  ])('revokeAgentCredentials cuts an agent streaming to $name within 2 s; its old credential is refused everywhere, the cluster stays registered and can be re-installed', async ({
    cluster,
    replica,
  }) => {
    const { agent, credential } = await enroll(cluster, replica);

    const started = Date.now();
    const res = await admin<Revoked>(REVOKE, { c: cluster });
    expect(res.errors).toBeUndefined();
    expect(res.data!.revokeAgentCredentials).toMatchObject({ cluster: { name: cluster, connected: false }, revokedCredentials: 1, revokedBootstrapTokens: 0 });
    expect(Date.parse(res.data!.revokeAgentCredentials.revokedAt)).toBeGreaterThanOrEqual(started - 1000);
    expect(await cutAfter(agent, started, `the stream of ${cluster} to end`)).toBeLessThan(CUT_WITHIN_MS);

    await expectRefusedEverywhere(cluster, credential);
    expect(await connected(cluster)).toBe(false);

    // Revoking again changes nothing; a fresh bootstrap token is not a re-install and enrolls a new agent.
    expect((await admin<Revoked>(REVOKE, { c: cluster })).data!.revokeAgentCredentials).toMatchObject({ revokedCredentials: 0 });
    const issued = (await admin<Issued>(ISSUE, { c: cluster })).data!.issueBootstrapToken;
    expect(issued.reinstall).toBe(false);
    const reinstalled = connect(1 - replica, cluster, issued.bootstrapToken);
    await eventually(async () => reinstalled.welcomeCredential(), { what: `welcome of the re-installed ${cluster}` });
    await eventually(async () => (await connected(cluster)) === true, { what: `${cluster} connected again` });
  });

  it('revokeAgentCredentials also revokes unused bootstrap tokens of the cluster', async () => {
    const { agent } = await enroll('pending-1', 1);
    const pending = (await admin<Issued>(ISSUE, { c: 'pending-1' })).data!.issueBootstrapToken.bootstrapToken;
    const res = await admin<Revoked>(REVOKE, { c: 'pending-1' });
    expect(res.data!.revokeAgentCredentials).toMatchObject({ revokedCredentials: 1, revokedBootstrapTokens: 1 });
    await cutAfter(agent, Date.now(), 'the stream of pending-1 to end');
    await expectRefusedEverywhere('pending-1', pending);
  });

  it('without a notification, the once-a-second check alone cuts a stream whose credential was revoked in the database', async () => {
    const { agent } = await enroll('silent-1', 1);
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      const started = Date.now();
      // What a replica whose NOTIFY was lost leaves behind: the revoked row, nothing else.
      const updated = await pg.query(`UPDATE agent_tokens t SET revoked_at = now() FROM clusters c WHERE c.id = t.cluster_id AND c.name = 'silent-1' AND t.kind = 'credential'`);
      expect(updated.rowCount).toBe(1);
      expect(await cutAfter(agent, started, 'the stream of silent-1 to end')).toBeLessThan(CUT_WITHIN_MS);
    } finally {
      await pg.end();
    }
  });

  it.each([
    { name: 'the replica that handles the mutation', cluster: 'gone-a', replica: 0 },
    { name: 'another replica', cluster: 'gone-b', replica: 1 },
  ])('deregisterCluster cuts an agent streaming to $name within 2 s, and its credential is refused everywhere', async ({ cluster, replica }) => {
    const { agent, credential } = await enroll(cluster, replica);
    const started = Date.now();
    const res = await admin<{ deregisterCluster: { deregistered: boolean } }>(DEREGISTER, { c: cluster });
    expect(res.data!.deregisterCluster.deregistered).toBe(true);
    expect(await cutAfter(agent, started, `the stream of ${cluster} to end`)).toBeLessThan(CUT_WITHIN_MS);
    await expectRefusedEverywhere(cluster, credential);
  });

  it.each([
    { name: 'the same replica', cluster: 'reinstall-a', oldReplica: 0, newReplica: 0 },
    { name: 'another replica', cluster: 'reinstall-b', oldReplica: 0, newReplica: 1 },
  ])('a re-install whose new agent enrolls on $name keeps the old agent connected until then, then cuts it within 2 s and refuses its credential', async ({
    cluster,
    oldReplica,
    newReplica,
  }) => {
    const { agent: old, credential: oldCredential } = await enroll(cluster, oldReplica);

    // When an admin issues a bootstrap token for the enrolled cluster
    const issued = (await admin<Issued>(ISSUE, { c: cluster })).data!.issueBootstrapToken;
    expect(issued).toMatchObject({ reinstall: true, cluster: { name: cluster } });
    const audit = await admin<{ auditEvents: { nodes: { message: string; outcome: string }[] } }>(`{ auditEvents(filter: { kind: "issueBootstrapToken" }, first: 50) { nodes { message outcome } } }`);
    expect(audit.data!.auditEvents.nodes).toContainEqual({ message: expect.stringMatching(new RegExp(`cluster="${cluster}" re-install`)), outcome: 'SUCCESS' });

    // Then the old agent stays connected across more than one credential check
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(old.status).toBeUndefined();
    expect(await connected(cluster)).toBe(true);

    // When the new agent enrolls with the new token
    const started = Date.now();
    const fresh = connect(newReplica, cluster, issued.bootstrapToken);
    const freshCredential = await eventually(async () => fresh.welcomeCredential(), { what: `welcome of the re-installed ${cluster}` });

    // Then the old agent is cut within 2 s and its credential refused; the new one stays connected
    expect(await cutAfter(old, started, `the old stream of ${cluster} to end`)).toBeLessThan(CUT_WITHIN_MS);
    await expectRefusedEverywhere(cluster, oldCredential);
    expect(fresh.status).toBeUndefined();
    expect(await connected(cluster)).toBe(true);
    expect(freshCredential).not.toBe(oldCredential);
  });
});
