import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { connect, jwtAuthenticator, nkeys } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webAppSet } from '../harness/app-sets.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import {
  claimsOf,
  connectAsUser,
  enrollOverNats,
  recordJsonLines,
  requestJson,
  startOperatorHubs,
  type AgentLogLine,
  type NatsUserIdentity,
  type OperatorHubs,
  type UserConnection,
} from '../harness/nats-operator.js';
import { startAgent, type ManagedProcess } from '../harness/processes.js';

/**
 * RELIABILITY rows 11 and 20 on the NATS transport, with the hub as NATS operator (README "NATS
 * identities"): one hub, and three replicas over one database and one operator-mode nats-server. Two
 * agents (sim driver) enroll with what registerCluster returns, renew their 10-second user JWTs while a
 * rollout soaks, and then their identities are attacked: edge-1's user tried as edge-2 and edge-10,
 * foreign, reused and expired bootstrap tokens, an expired user JWT, and revokeAgentCredentials(edge-1)
 * called on the last replica, which must cut edge-1 within two seconds and leave edge-2 alone.
 */
const USER_JWT_TTL_SECONDS = 10;
/** The shortest the hub allows: a token issued at the start has expired before the suite ends. */
const BOOTSTRAP_TOKEN_TTL_SECONDS = 60;
/** Agents renew at two thirds of 10 s: a 16-second soak sees at least two renewals of each. */
const SOAK = '16s';
const CLUSTERS = ['edge-1', 'edge-2'] as const;
type ClusterName = (typeof CLUSTERS)[number];
const BUCKET = 'flotilla-desired';
const IDENTITY_FILE = 'nats-identity.json';
const ENROLLED = 'enrolled this cluster on NATS';
const RENEWED = 'reconnecting with the renewed NATS user JWT';
const RENEWAL_FAILED = 'renewing the NATS user JWT failed; retrying';
const LINK_DOWN = 'hub link down; reconnecting';
const TOKEN_REFUSED = { error: 'UNAUTHENTICATED', message: 'The bootstrap token is not valid for this cluster.' };
/** What the hub logs for every renewal it answers (one replica answers each request). */
const renewalAnsweredFor = (cluster: string) => `renewed the NATS user JWT of cluster ${cluster} (user `;

interface Registered {
  readonly bootstrapToken: string;
  readonly bootstrapTokenExpiresAt: string;
  readonly natsEnrollmentJwt: string | null;
}

interface AppView {
  readonly name: string;
  readonly cluster: string;
  readonly generation: string | null;
  readonly revision: string | null;
  readonly health: string;
  readonly healthRevision: string | null;
}

interface Agent {
  readonly process: ManagedProcess & { stateDir: string };
  readonly logs: AgentLogLine[];
  readonly registered: Registered;
}

const publicKeyOf = (seed: string) => nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey();

describe.each([
  { topology: 'one hub', replicas: 1 },
  { topology: 'three hub replicas over one database and one NATS server', replicas: 3 },
])('NATS credentials of agents under attack and renewed mid-rollout, $topology', ({ replicas }) => {
  let fleet: OperatorHubs;
  const agents = new Map<ClusterName, Agent>();
  /** What each agent held right after enrolling: its first JWT, expired long before the suite ends. */
  const enrolled = new Map<ClusterName, NatsUserIdentity>();
  /** A second, unused bootstrap token of edge-1, issued at the start, for the expiry case. */
  let staleToken: Registered;
  const probes: UserConnection[] = [];

  const natsUrl = () => fleet.nats.server.url;
  const api = (replica = 0) => graphqlClient(fleet.hubs[replica]!.graphqlUrl, fleet.hubs[replica]!.adminToken);
  const lastReplica = () => fleet.hubs.length - 1;
  const agentOf = (cluster: ClusterName) => agents.get(cluster)!;
  const storedIdentity = (cluster: ClusterName) => JSON.parse(readFileSync(join(agentOf(cluster).process.stateDir, IDENTITY_FILE), 'utf8')) as NatsUserIdentity;
  const logged = (cluster: ClusterName, msg: string, from = 0) => agentOf(cluster).logs.slice(from).filter((line) => line.msg === msg);
  const tails = () => CLUSTERS.map((cluster) => agentOf(cluster).process.tail(15)).join('\n');
  const connected = async () => new Set((await api().must<{ clusters: { name: string; connected: boolean }[] }>(`{ clusters { name connected } }`)).clusters.filter((c) => c.connected).map((c) => c.name));
  const apps = async () => (await api().must<{ appSet: { apps: AppView[] } }>(`{ appSet(name: "web") { apps { name cluster generation revision health healthRevision } } }`)).appSet.apps;
  const renewalsAnswered = (cluster: string) => fleet.hubLines.map((lines) => lines.filter((line) => line.includes(renewalAnsweredFor(cluster))).length);
  const probeAs = async (identity: NatsUserIdentity, inboxPrefix: string) => {
    const probe = await connectAsUser(natsUrl(), identity, inboxPrefix);
    probes.push(probe);
    return probe;
  };
  const register = async (name: string, replica: number, labels: Record<string, string> = {}) =>
    (
      await api(replica).must<{ registerCluster: Registered }>(
        `mutation($name: String!, $labels: JSONObject) { registerCluster(input: { name: $name, labels: $labels }) { bootstrapToken bootstrapTokenExpiresAt natsEnrollmentJwt } }`,
        { name, labels },
      )
    ).registerCluster;
  /** Waits for the agent of `cluster` to renew once more, so that its stored JWT has its whole lifetime ahead. */
  const freshlyRenewed = async (cluster: ClusterName) => {
    const before = logged(cluster, RENEWED).length;
    await eventually(() => logged(cluster, RENEWED).length > before, { what: `a fresh renewal of ${cluster}\n${agentOf(cluster).process.tail(15)}`, timeoutMs: 15_000 });
    return storedIdentity(cluster);
  };

  beforeAll(async () => {
    fleet = await startOperatorHubs({
      replicas,
      env: { FLOTILLA_NATS_USER_JWT_TTL_SECONDS: String(USER_JWT_TTL_SECONDS), FLOTILLA_BOOTSTRAP_TOKEN_TTL_SECONDS: String(BOOTSTRAP_TOKEN_TTL_SECONDS) },
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(probes.map((probe) => probe.connection.close().catch(() => undefined)));
    await Promise.all([...agents.values()].map((agent) => agent.process.stop()));
    await fleet?.dispose();
  });

  it('edge-1 and edge-2 enroll with what registerCluster returns (on any replica) and hold a user JWT of their own cluster', async () => {
    // Given two clusters registered on different replicas, with the enrollment JWT the hub returns
    for (const [index, cluster] of CLUSTERS.entries()) {
      const registered = await register(cluster, index === 0 ? 0 : lastReplica(), { region: 'eu' });
      expect(registered.natsEnrollmentJwt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      // When their agents start on NATS with it and the bootstrap token (debug logs count every apply)
      const process = startAgent({
        hubAddress: fleet.hubs[0]!.grpcAddress,
        cluster,
        bootstrapToken: registered.bootstrapToken,
        env: {
          FLOTILLA_TRANSPORT: 'nats',
          FLOTILLA_NATS_URL: natsUrl(),
          FLOTILLA_NATS_ENROLLMENT_JWT: registered.natsEnrollmentJwt!,
          FLOTILLA_LOG_LEVEL: 'debug',
          FLOTILLA_SIM_HEALTHY_AFTER_MS: '2000',
        },
      });
      agents.set(cluster, { process, logs: recordJsonLines(process), registered });
    }
    // (and a second token of edge-1 that nobody uses, for the expiry case below)
    staleToken = (await api().must<{ issueBootstrapToken: Registered }>(`mutation { issueBootstrapToken(cluster: "edge-1") { bootstrapToken bootstrapTokenExpiresAt natsEnrollmentJwt } }`)).issueBootstrapToken;

    // Then both enroll once and connect
    await eventually(async () => CLUSTERS.every((cluster) => logged(cluster, ENROLLED).length === 1) && (await connected()).size === CLUSTERS.length, {
      what: `both agents enrolled and connected\n${tails()}`,
    });
    for (const cluster of CLUSTERS) {
      // And each holds a JWT for its own key, named for its cluster, with the configured lifetime
      const identity = storedIdentity(cluster);
      const claims = claimsOf(identity.jwt);
      expect(claims).toMatchObject({ sub: publicKeyOf(identity.seed), name: cluster });
      expect(claims.exp - claims.iat).toBe(USER_JWT_TTL_SECONDS);
      enrolled.set(cluster, identity);
    }
  });

  it('each agent renews at least twice while a rollout is in flight; the rollout succeeds and each applied its App once, for the one generation released (row 20)', async () => {
    // Given a rollout that soaks longer than two renewal periods
    const from = new Map(CLUSTERS.map((cluster) => [cluster, agentOf(cluster).logs.length]));
    const applied = await api().must<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code path message } } }`, {
      y: webAppSet({ value: 'v1', byLabel: `maxConcurrency: "100%", maxFailures: 0, soak: ${SOAK}, progressDeadline: 2m` }),
    });
    expect(applied.applyAppSet.issues).toEqual([]);
    const { startRollout } = await api(lastReplica()).must<{ startRollout: { id: string } }>(`mutation { startRollout(appSet: "web") { id } }`);

    // When it runs to its end
    const done = await eventually(
      async () => {
        const { rollout } = await api().must<{ rollout: { phase: string; reason: string | null } }>(`query($id: ID!) { rollout(id: $id) { phase reason } }`, { id: startRollout.id });
        if (rollout.phase === 'FAILED' || rollout.phase === 'PAUSED') throw new Error(`rollout ended ${rollout.phase}: ${rollout.reason}`);
        return rollout.phase === 'SUCCEEDED' ? rollout : undefined;
      },
      { what: `rollout SUCCEEDED\n${tails()}`, timeoutMs: 90_000 },
    );
    expect(done.phase).toBe('SUCCEEDED');

    const final = await apps();
    expect(final.map((app) => app.cluster).sort()).toEqual([...CLUSTERS]);
    for (const app of final) {
      const cluster = app.cluster as ClusterName;
      const start = from.get(cluster)!;
      // Then the agent renewed (same key, newer JWT) and reconnected at least twice meanwhile, and no renewal failed
      expect(logged(cluster, RENEWED, start).length, agentOf(cluster).process.tail()).toBeGreaterThanOrEqual(2);
      expect(logged(cluster, RENEWAL_FAILED, start)).toEqual([]);
      const renewed = storedIdentity(cluster);
      expect(renewed.seed).toBe(enrolled.get(cluster)!.seed);
      expect(claimsOf(renewed.jwt).iat).toBeGreaterThan(claimsOf(enrolled.get(cluster)!.jwt).iat);
      // And the App is healthy at the released revision; the agent accepted its one generation once
      // and applied it once: every redelivery after a renewal's reconnect was acked without an apply
      expect(app).toMatchObject({ health: 'HEALTHY', healthRevision: app.revision });
      expect(logged(cluster, 'accepted DesiredApp', start).filter((line) => line['app'] === app.name).map((line) => line['generation'])).toEqual([app.generation]);
      const applies = agentOf(cluster).logs.filter((line) => typeof line.msg === 'string' && line.msg.startsWith('driver apply ') && line['app'] === app.name);
      expect(applies.map((line) => [line.msg, line['generation']]), cluster).toEqual([['driver apply done', app.generation]]);
    }
    await eventually(async () => (await connected()).size === CLUSTERS.length, { what: `both agents connected after their renewals\n${tails()}`, timeoutMs: 15_000 });
  });

  it('renewal works whichever replica answers: every replica renews edge-1, each time for its own key and cluster only', async () => {
    // Given edge-1's live identity, on a connection of its own
    const identity = storedIdentity('edge-1');
    const key = publicKeyOf(identity.seed);
    const probe = await probeAs(identity, '_INBOX_edge-1');
    const answeredBefore = renewalsAnswered('edge-1');

    // When it asks for renewals until each replica has answered one (the queue group picks a replica)
    const answers: Record<string, unknown>[] = [];
    for (let attempt = 0; attempt < 60 && renewalsAnswered('edge-1').some((count, replica) => count === answeredBefore[replica]); attempt++) {
      answers.push(await requestJson(probe.connection, 'flotilla.renew.edge-1', { publicKey: key }));
      // The answering replica logs before it replies; a beat for its output to arrive here.
      await eventually(() => renewalsAnswered('edge-1').reduce((a, b) => a + b, 0) >= answeredBefore.reduce((a, b) => a + b, 0) + answers.length, { what: 'the renewal logged', timeoutMs: 5000, intervalMs: 20 });
    }

    // Then every replica answered, and every answer is a JWT for the same key and cluster
    expect(renewalsAnswered('edge-1').map((count, replica) => count > answeredBefore[replica]!)).toEqual(fleet.hubs.map(() => true));
    for (const answer of answers) expect(claimsOf(answer['jwt'] as string)).toMatchObject({ sub: key, name: 'edge-1' });
    // And the last one connects, with edge-1's inbox
    const renewed = await probeAs({ seed: identity.seed, jwt: answers.at(-1)!['jwt'] as string }, '_INBOX_edge-1');
    const inbox = renewed.connection.subscribe('_INBOX_edge-1.probe.>');
    expect(await renewed.wasRefused('subscription', '_INBOX_edge-1.probe.>')).toBe(false);
    inbox.unsubscribe();
  });

  it("edge-1's NATS user is refused as edge-2 and as edge-10 on every subject of theirs, and reads nothing of edge-2 (row 11)", async () => {
    // Given a connection with edge-1's live identity
    const probe = await probeAs(storedIdentity('edge-1'), '_INBOX_edge-1');
    const edge2Key = publicKeyOf(storedIdentity('edge-2').seed);

    for (const other of ['edge-2', 'edge-10']) {
      // When it publishes and subscribes on the other cluster's subjects
      const published = [`reports.${other}`, `flotilla.renew.${other}`, `flotilla.enroll.${other}`, `$JS.API.CONSUMER.CREATE.KV_${BUCKET}.probe.$KV.${BUCKET}.${other}.>`];
      for (const subject of published) probe.connection.publish(subject, new TextEncoder().encode('{}'));
      const subscribed = [`_INBOX_${other}.>`, `$KV.${BUCKET}.${other}.>`];
      for (const subject of subscribed) probe.connection.subscribe(subject);

      // Then the server refuses each of them
      for (const subject of published) expect(await probe.wasRefused('publish', subject), `publish ${subject}`).toBe(true);
      for (const subject of subscribed) expect(await probe.wasRefused('subscription', subject), `subscribe ${subject}`).toBe(true);
    }

    // And a watch of edge-2's desired state is refused, while its own is delivered (its App)
    const js = jetstream(probe.connection, { timeout: 5000 });
    const firstKeyOf = async (cluster: string) => {
      const consumer = await js.consumers.getPushConsumer(`KV_${BUCKET}`, { filter_subjects: `$KV.${BUCKET}.${cluster}.>`, deliver_policy: DeliverPolicy.LastPerSubject });
      const messages = await consumer.consume();
      try {
        for await (const message of messages) return message.subject;
      } finally {
        messages.stop();
      }
      return undefined;
    };
    expect(await firstKeyOf('edge-1')).toMatch(/^\$KV\.flotilla-desired\.edge-1\./);
    await expect(firstKeyOf('edge-2')).rejects.toThrow();
    expect(probe.refused.some((refusal) => refusal.operation === 'publish' && refusal.subject.startsWith(`$JS.API.CONSUMER.CREATE.KV_${BUCKET}.`) && refusal.subject.endsWith(`.$KV.${BUCKET}.edge-2.>`))).toBe(true);

    // And the hub refuses to renew edge-2's key over edge-1's own renewal subject
    expect(await requestJson(probe.connection, 'flotilla.renew.edge-1', { publicKey: edge2Key })).toEqual({ error: 'UNAUTHENTICATED', message: 'This NATS user cannot be renewed.' });
    // And with edge-2's inbox prefix it cannot even hear an answer
    const asEdge2Inbox = await probeAs(storedIdentity('edge-1'), '_INBOX_edge-2');
    await expect(requestJson(asEdge2Inbox.connection, 'flotilla.renew.edge-1', { publicKey: publicKeyOf(storedIdentity('edge-1').seed) })).rejects.toThrow();
  });

  it("bootstrap tokens: one cluster's token enrolls no other cluster, and a used token is refused (row 11)", async () => {
    // Given edge-10, registered with a token of its own
    const edge10 = await register('edge-10', lastReplica());
    const enroll = (cluster: string, token: string) => enrollOverNats(natsUrl(), edge10.natsEnrollmentJwt!, cluster, { token, publicKey: nkeys.createUser().getPublicKey() });

    // When its token is presented for edge-1 and edge-2, then for edge-10 twice
    const asEdge1 = await enroll('edge-1', edge10.bootstrapToken);
    const asEdge2 = await enroll('edge-2', edge10.bootstrapToken);
    const first = await enroll('edge-10', edge10.bootstrapToken);
    const again = await enroll('edge-10', edge10.bootstrapToken);

    // Then it enrolls edge-10 once, for edge-10, and nothing else
    expect([asEdge1, asEdge2]).toEqual([TOKEN_REFUSED, TOKEN_REFUSED]);
    expect(claimsOf(first['jwt'] as string).name).toBe('edge-10');
    expect(again).toEqual(TOKEN_REFUSED);
    // And the tokens the agents enrolled with are spent
    for (const cluster of CLUSTERS) expect(await enroll(cluster, agentOf(cluster).registered.bootstrapToken)).toEqual(TOKEN_REFUSED);
  });

  it('an expired bootstrap token is refused, and its expired enrollment JWT cannot even connect (row 11)', async () => {
    // Given edge-1's unused second token, once it has expired
    const expiresAtMs = new Date(staleToken.bootstrapTokenExpiresAt).getTime();
    await eventually(() => Date.now() > expiresAtMs + 1000, { what: 'the second bootstrap token of edge-1 expired', timeoutMs: (BOOTSTRAP_TOKEN_TTL_SECONDS + 5) * 1000, intervalMs: 500 });
    const fresh = (await api().must<{ registerCluster: Registered }>(`mutation { registerCluster(input: { name: "edge-20" }) { bootstrapToken bootstrapTokenExpiresAt natsEnrollmentJwt } }`)).registerCluster;

    // When it is presented with a valid enrollment JWT, and its own enrollment JWT is used to connect
    const reply = await enrollOverNats(natsUrl(), fresh.natsEnrollmentJwt!, 'edge-1', { token: staleToken.bootstrapToken, publicKey: nkeys.createUser().getPublicKey() });
    const connecting = connect({ servers: natsUrl(), authenticator: jwtAuthenticator(staleToken.natsEnrollmentJwt!), inboxPrefix: '_INBOX_enroll', reconnect: false, timeout: 5000 });

    // Then the hub refuses the token and the server the JWT
    expect(reply).toEqual(TOKEN_REFUSED);
    await expect(connecting).rejects.toThrow(/expired|authorization/i);
  });

  it('an expired user JWT is refused by the server, while the same key connects with its renewed one (row 20)', async () => {
    for (const cluster of CLUSTERS) {
      // Given the JWT the agent enrolled with, expired (the server compares whole seconds)
      const expired = enrolled.get(cluster)!;
      expect(Date.now()).toBeGreaterThan(claimsOf(expired.jwt).exp * 1000 + 1000);

      // When it is presented, with its key
      const refused = connectAsUser(natsUrl(), expired, `_INBOX_${cluster}`);

      // Then the server refuses it, and the renewed JWT of the same key is let in
      await expect(refused).rejects.toThrow(/expired|authorization/i);
      const current = storedIdentity(cluster);
      expect(current.seed).toBe(expired.seed);
      await probeAs(current, `_INBOX_${cluster}`);
    }
  });

  it('revokeAgentCredentials(edge-1) on the last replica cuts edge-1 within two seconds and the server refuses its JWT from then on; edge-2 carries on (row 11)', async () => {
    // Given both agents just renewed (their JWTs have their whole lifetime ahead), and a probe connection as each
    const edge1 = await freshlyRenewed('edge-1');
    await freshlyRenewed('edge-2');
    const probe1 = await probeAs(edge1, '_INBOX_edge-1');
    const probe2 = await probeAs(storedIdentity('edge-2'), '_INBOX_edge-2');
    const logsFrom = new Map(CLUSTERS.map((cluster) => [cluster, agentOf(cluster).logs.length]));

    // When an admin revokes edge-1's credentials through the last replica
    const startedAt = Date.now();
    const { revokeAgentCredentials } = await api(lastReplica()).must<{ revokeAgentCredentials: { revokedCredentials: number } }>(`mutation { revokeAgentCredentials(cluster: "edge-1") { revokedCredentials } }`);

    // Then edge-1's connections are cut within two seconds: the probe's, and the agent's own
    await eventually(() => probe1.connection.isClosed(), { what: "edge-1's probe connection cut", timeoutMs: 5000, intervalMs: 10 });
    expect(Date.now() - startedAt).toBeLessThan(2000);
    const down = await eventually(() => logged('edge-1', LINK_DOWN, logsFrom.get('edge-1'))[0], { what: `edge-1's agent cut\n${agentOf('edge-1').process.tail()}`, timeoutMs: 5000, intervalMs: 10 });
    expect(new Date(down['time'] as string).getTime() - startedAt).toBeLessThan(2000);
    // And the hub counts the NATS identity among the credentials it revoked
    expect(revokeAgentCredentials.revokedCredentials).toBeGreaterThanOrEqual(1);
    // And the server refuses edge-1's JWT although it has not expired (the account's revocation list)
    expect(Date.now()).toBeLessThan(claimsOf(edge1.jwt).exp * 1000);
    await expect(connectAsUser(natsUrl(), edge1, '_INBOX_edge-1')).rejects.toThrow(/authorization/i);
    await eventually(async () => !(await connected()).has('edge-1'), { what: 'edge-1 shown as not connected', timeoutMs: 30_000 });
    expect(logged('edge-1', 'agent connected', logsFrom.get('edge-1'))).toEqual([]);

    // And edge-2 is unaffected: its probe is open, its agent was never cut, renews again and stays connected
    expect(probe2.connection.isClosed()).toBe(false);
    await freshlyRenewed('edge-2');
    expect(logged('edge-2', LINK_DOWN, logsFrom.get('edge-2'))).toEqual([]);
    expect(logged('edge-2', RENEWAL_FAILED, logsFrom.get('edge-2'))).toEqual([]);
    expect((await connected()).has('edge-2')).toBe(true);
  });
});
