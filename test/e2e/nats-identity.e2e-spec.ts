import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, jwtAuthenticator, nkeys } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_CA_ENCRYPTION_KEY } from '../harness/auth.js';
import { createTestDatabase, type TestDatabase } from '../harness/database.js';
import { eventually } from '../harness/eventually.js';
import { graphqlClient } from '../harness/graphql.js';
import { printHubNats, recordJsonLines, startOperatorNatsServer, type AgentLogLine, type OperatorNatsServer } from '../harness/nats-operator.js';
import { startAgent, startHub, type HubProcess, type ManagedProcess } from '../harness/processes.js';
import { webAppSet } from '../harness/app-sets.js';

/**
 * The hub as NATS operator, end to end: a real operator-mode nats-server configured from the hub's own
 * `--print-nats-config`, the hub and one agent as processes (sim driver). The agent enrolls with the
 * enrollment JWT and a bootstrap token, renews its short-lived user JWT while a rollout is in flight
 * (RELIABILITY row 20), restarts on its stored identity (row 11: the used token stays used), and is
 * shut out once its JWT expired while the hub was down, until it is given a new bootstrap token (the
 * documented design: README "Decentralized auth", "Lifetime and renewal").
 */
const CLUSTER = 'edge-op';
/** The agent renews at 2/3 of it (every 4 s), so a rollout of ~12 s sees two or three renewals. */
const USER_JWT_TTL_SECONDS = 6;
/** Health comes a while after an apply, so that a renewal can fall between release and report. */
const SIM_HEALTHY_AFTER_MS = 2000;
const IDENTITY_FILE = 'nats-identity.json';

const appSet = (value: string) => webAppSet({ value, byLabel: 'maxConcurrency: "100%", maxFailures: 0, soak: 1s, progressDeadline: 1m' });

/** The second rollout soaks long enough for the agent to renew twice while it is in flight. */
const LONG_SOAK_STRATEGY = { byLabel: { label: 'region', maxConcurrency: '100%', maxFailures: 0, soak: '10s', progressDeadline: '1m' } };

interface AppView {
  name: string;
  cluster: string;
  generation: string | null;
  revision: string | null;
  stagedRevision: string | null;
  health: string;
  healthRevision: string | null;
}

interface StoredIdentity {
  seed: string;
  jwt: string;
}

interface UserClaims {
  sub: string;
  name: string;
  iat: number;
  exp: number;
  nats: { pub: { allow: string[] }; sub: { allow: string[] } };
}

const RENEWED = 'reconnecting with the renewed NATS user JWT';
const ENROLLED = 'enrolled this cluster on NATS';

describe('NATS identities minted by the hub: enrollment, renewal, restart and expiry with real processes', () => {
  let db: TestDatabase;
  let nats: OperatorNatsServer;
  let hub: HubProcess;
  let api: ReturnType<typeof graphqlClient>;
  let enrollmentJwt: string;
  let bootstrapToken: string;
  const stateDir = mkdtempSync(join(tmpdir(), `flotilla-agent-${CLUSTER}-`));
  /** FLOTILLA_DATA_DIR of the printing processes (the keys live in the database; nothing is kept here). */
  const printDir = mkdtempSync(join(tmpdir(), 'flotilla-hub-print-'));
  let agent: ManagedProcess | undefined;
  /** Every log line of every agent process of this file, in order. */
  const logs: AgentLogLine[] = [];

  const hubEnv = () => ({ FLOTILLA_NATS_URL: nats.server.url, FLOTILLA_NATS_OPERATOR: 'true', FLOTILLA_NATS_USER_JWT_TTL_SECONDS: String(USER_JWT_TTL_SECONDS) });
  /** What `--print-nats-*` needs: the hub's database and key, nothing of the running hub. */
  const printEnv = (natsUrl: string) => ({
    DATABASE_URL: db.url,
    FLOTILLA_DATA_DIR: printDir,
    FLOTILLA_CA_ENCRYPTION_KEY: TEST_CA_ENCRYPTION_KEY,
    FLOTILLA_NATS_URL: natsUrl,
    FLOTILLA_NATS_OPERATOR: 'true',
    FLOTILLA_NATS_USER_JWT_TTL_SECONDS: String(USER_JWT_TTL_SECONDS),
  });

  const startHubProcess = (ports?: { port: number; grpcPort: number }) => startHub({ databaseUrl: db.url, env: hubEnv(), ...ports });
  const hubPorts = () => ({ port: Number(new URL(hub.graphqlUrl).port), grpcPort: Number(hub.grpcAddress.split(':')[1]) });

  /** Starts the agent on the shared state folder; its log lines are appended to {@link logs}. Returns where they start. */
  const startAgentProcess = (token: string | undefined): number => {
    const from = logs.length;
    const started = startAgent({
      hubAddress: hub.grpcAddress,
      cluster: CLUSTER,
      bootstrapToken: token,
      stateDir,
      env: {
        FLOTILLA_TRANSPORT: 'nats',
        FLOTILLA_NATS_URL: nats.server.url,
        FLOTILLA_NATS_ENROLLMENT_JWT: enrollmentJwt,
        FLOTILLA_LOG_LEVEL: 'debug',
        FLOTILLA_SIM_HEALTHY_AFTER_MS: String(SIM_HEALTHY_AFTER_MS),
      },
    });
    // One timeline across restarts, so that counts can start anywhere.
    recordJsonLines(started, logs);
    agent = started;
    return from;
  };

  const since = (from: number, msg: string, where: (line: AgentLogLine) => boolean = () => true) => logs.slice(from).filter((line) => line.msg === msg && where(line));
  /** Every apply the agent's driver ran for `appName`, whatever its result (`done`, `unchanged`, `failed`). */
  const appliesOf = (from: number, appName: string) => logs.slice(from).filter((line) => typeof line.msg === 'string' && line.msg.startsWith('driver apply ') && line['app'] === appName);
  const linkDownBecause = (pattern: RegExp) => (line: AgentLogLine) => typeof line['reason'] === 'string' && pattern.test(line['reason']);

  const storedIdentity = (): StoredIdentity => JSON.parse(readFileSync(join(stateDir, IDENTITY_FILE), 'utf8')) as StoredIdentity;
  const claimsOf = (jwt: string): UserClaims => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as UserClaims;
  const publicKeyOf = (seed: string) => nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey();

  const isConnected = async () => (await api.must<{ clusters: { name: string; connected: boolean }[] }>(`{ clusters { name connected } }`)).clusters.find((c) => c.name === CLUSTER)?.connected ?? false;
  const app = async () => (await api.must<{ appSet: { apps: AppView[] } }>(`{ appSet(name: "web") { apps { name cluster generation revision stagedRevision health healthRevision } } }`)).appSet.apps[0]!;
  const rolloutPhase = async (id: string) => (await api.must<{ rollout: { phase: string; reason: string } }>(`query($id: ID!) { rollout(id: $id) { phase reason } }`, { id })).rollout;

  /** Applies the AppSet with `value` and starts its rollout; returns the rollout's id and the staged revision. */
  const rollOut = async (value: string, strategy?: object) => {
    const applied = await api.must<{ applyAppSet: { issues: unknown[] } }>(`mutation($y: String!) { applyAppSet(yaml: $y) { issues { code path message } } }`, { y: appSet(value) });
    expect(applied.applyAppSet.issues).toEqual([]);
    const revision = (await app()).stagedRevision!;
    const { startRollout } = await api.must<{ startRollout: { id: string } }>(`mutation($s: JSONObject) { startRollout(appSet: "web", strategy: $s) { id } }`, { s: strategy ?? null });
    return { id: startRollout.id, revision };
  };

  const succeeded = (id: string, what: string) =>
    eventually(
      async () => {
        const view = await rolloutPhase(id);
        if (view.phase === 'FAILED' || view.phase === 'PAUSED') throw new Error(`rollout ended ${view.phase}: ${view.reason}`);
        return view.phase === 'SUCCEEDED';
      },
      { what: `${what}\n${agent?.tail()}`, timeoutMs: 60_000 },
    );

  /** Asks for an identity as the shared enrollment user, as an agent would. */
  const enrollDirectly = async (token: string) => {
    const connection = await connect({ servers: nats.server.url, authenticator: jwtAuthenticator(enrollmentJwt), inboxPrefix: '_INBOX_enroll', reconnect: false, timeout: 5000 });
    try {
      const reply = await connection.request(`flotilla.enroll.${CLUSTER}`, new TextEncoder().encode(JSON.stringify({ token, publicKey: nkeys.createUser().getPublicKey() })), { timeout: 5000 });
      return JSON.parse(new TextDecoder().decode(reply.data)) as Record<string, unknown>;
    } finally {
      await connection.close();
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    // The server's configuration comes from the hub's keys before any hub runs, as an operator makes it.
    nats = await startOperatorNatsServer(await printHubNats('server-config', printEnv('nats://127.0.0.1:1')));
    hub = await startHubProcess();
    api = graphqlClient(hub.graphqlUrl, hub.adminToken);
  });

  afterAll(async () => {
    await agent?.stop();
    await hub?.stop();
    await nats?.dispose();
    await db?.drop();
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(printDir, { recursive: true, force: true });
  });

  it('an agent given the enrollment JWT and a bootstrap token enrolls, stores its identity, and applies what a rollout releases', async () => {
    // Given a cluster registered over GraphQL, and the enrollment JWT printed while the hub runs
    // (with PostgreSQL the printing process needs no exclusive access to the database)
    ({ registerCluster: { bootstrapToken } } = await api.must<{ registerCluster: { bootstrapToken: string } }>(
      `mutation($name: String!) { registerCluster(input: { name: $name, labels: { region: "eu" } }) { bootstrapToken } }`,
      { name: CLUSTER },
    ));
    enrollmentJwt = (await printHubNats('enrollment-jwt', printEnv(nats.server.url))).trim();
    expect(enrollmentJwt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const from = startAgentProcess(bootstrapToken);
    await eventually(isConnected, { what: `${CLUSTER} connected over NATS\n${agent!.tail()}` });

    // When a rollout releases an App
    const { id, revision } = await rollOut('v1');
    await succeeded(id, 'first rollout SUCCEEDED');

    // Then the agent enrolled once and applied the App, which is healthy at the released revision
    expect(since(from, ENROLLED)).toHaveLength(1);
    const released = await app();
    expect(released).toMatchObject({ cluster: CLUSTER, revision, health: 'HEALTHY', healthRevision: revision });
    expect(appliesOf(from, released.name).map((line) => line.msg)).toEqual(['driver apply done']);
    // And it keeps its identity: a user seed of its own (private file) and the JWT the hub signed for
    // that key, for this cluster, with the configured lifetime and this cluster's subjects only
    const identity = storedIdentity();
    expect(statSync(join(stateDir, IDENTITY_FILE)).mode & 0o077).toBe(0);
    expect(identity.seed).toMatch(/^SU/);
    const claims = claimsOf(identity.jwt);
    expect(claims.sub).toBe(publicKeyOf(identity.seed));
    expect(claims.name).toBe(CLUSTER);
    expect(claims.exp - claims.iat).toBe(USER_JWT_TTL_SECONDS);
    expect(claims.nats.pub.allow).toContain(`reports.${CLUSTER}`);
    expect(claims.nats.pub.allow).toContain(`flotilla.renew.${CLUSTER}`);
    expect(claims.nats.sub.allow).toEqual([`_INBOX_${CLUSTER}.>`]);
  });

  it('renews its user JWT at least twice while a rollout is in flight; the rollout succeeds and nothing is applied twice (row 20)', async () => {
    // Given the enrolled agent, connected with a JWT that lives 6 s
    const before = storedIdentity();
    const generationBefore = BigInt((await app()).generation!);
    const from = logs.length;

    // When a second rollout runs for longer than two renewal periods
    const { id, revision } = await rollOut('v2', LONG_SOAK_STRATEGY);
    await succeeded(id, 'second rollout SUCCEEDED');
    const renewalsInFlight = since(from, RENEWED).length;

    // Then the agent renewed (same key, newer JWT) and reconnected at least twice meanwhile
    expect(renewalsInFlight, agent!.tail()).toBeGreaterThanOrEqual(2);
    const after = storedIdentity();
    expect(after.seed).toBe(before.seed);
    expect(claimsOf(after.jwt).iat).toBeGreaterThan(claimsOf(before.jwt).iat);
    expect(since(from, 'renewing the NATS user JWT failed; retrying')).toEqual([]);
    // And it is connected, healthy at the new revision
    await eventually(isConnected, { what: `${CLUSTER} connected after the renewals\n${agent!.tail()}` });
    const released = await app();
    expect(released).toMatchObject({ revision, health: 'HEALTHY', healthRevision: revision });
    // And each reconnect's redelivery was recognised as held: one release, one accept, one apply.
    // The hub released once (generation +1), the agent accepted that generation once and applied it
    // once; every other delivery of it was acked again without touching the cluster.
    expect(BigInt(released.generation!)).toBe(generationBefore + 1n);
    const accepted = since(from, 'accepted DesiredApp', (line) => line['app'] === released.name);
    expect(accepted.map((line) => line['generation'])).toEqual([released.generation]);
    expect(appliesOf(from, released.name).map((line) => [line.msg, line['generation']])).toEqual([['driver apply done', released.generation]]);
    // (the last reconnect's redelivery may still be on its way when the rollout is seen done)
    await eventually(() => since(from, 'DesiredApp already held; acking again', (line) => line['app'] === released.name).length >= renewalsInFlight, {
      what: 'one redelivery acked again per reconnect',
      timeoutMs: 10_000,
    });
  });

  it('restarted without the bootstrap token, the agent reconnects on its stored identity; the used token cannot enroll again (row 11)', async () => {
    // Given an agent that has just renewed (its stored JWT has most of its lifetime left)
    const renewals = since(0, RENEWED).length;
    await eventually(() => since(0, RENEWED).length > renewals, { what: 'a fresh renewal', timeoutMs: 15_000 });
    const keyBefore = publicKeyOf(storedIdentity().seed);

    // When it is stopped with SIGTERM and started again without FLOTILLA_BOOTSTRAP_TOKEN
    await agent!.stop('SIGTERM');
    const from = startAgentProcess(undefined);

    // Then it connects with the same key, without enrolling again
    await eventually(() => since(from, 'agent connected').length > 0, { what: `the restarted agent connected\n${agent!.tail()}` });
    await eventually(isConnected, { what: `${CLUSTER} connected after the restart` });
    expect(since(from, ENROLLED)).toEqual([]);
    expect(publicKeyOf(storedIdentity().seed)).toBe(keyBefore);
    // And the bootstrap token it enrolled with is spent
    expect(await enrollDirectly(bootstrapToken)).toEqual({ error: 'UNAUTHENTICATED', message: 'The bootstrap token is not valid for this cluster.' });
  });

  it('once its JWT expired while the hub was down, the server refuses it and the agent needs a new bootstrap token (row 20)', async () => {
    const expired = storedIdentity();
    const from = logs.length;
    const ports = hubPorts();
    const { revision } = await app();

    // Given the hub stopped for longer than the JWT's lifetime
    await hub.stop('SIGTERM');
    // Then the agent's renewals fail (nobody answers), and once the JWT has expired it cannot connect
    await eventually(() => since(from, 'renewing the NATS user JWT failed; retrying').length > 0, { what: 'a failed renewal while the hub is down', timeoutMs: 15_000 });
    await eventually(() => since(from, 'hub link down; reconnecting', linkDownBecause(/has expired and no bootstrap token is set/)).length > 0, {
      what: `the agent giving up its expired identity\n${agent!.tail()}`,
      timeoutMs: 30_000,
    });
    const latest = storedIdentity();
    expect(latest.seed).toBe(expired.seed);
    // And the server refuses the expired JWT. The agent gives up a second early (its connect margin)
    // and the server compares whole seconds: within the expiry second it still lets the JWT in and
    // closes the connection at once, so the check waits for that second to pass.
    const expiresAtMs = claimsOf(latest.jwt).exp * 1000;
    await eventually(() => Date.now() >= expiresAtMs + 1000, { what: 'the expiry second passed', timeoutMs: 5000, intervalMs: 50 });
    await expect(
      connect({ servers: nats.server.url, authenticator: jwtAuthenticator(latest.jwt, new TextEncoder().encode(latest.seed)), inboxPrefix: `_INBOX_${CLUSTER}`, reconnect: false, timeout: 5000 }),
    ).rejects.toThrow(/expired|authorization/i);

    // When the hub is back
    hub = await startHubProcess(ports);
    api = graphqlClient(hub.graphqlUrl, hub.adminToken);
    const hubBack = logs.length;
    // Then the agent does not come back by itself: renewal needs a valid JWT to connect with
    await eventually(() => since(hubBack, 'hub link down; reconnecting', linkDownBecause(/has expired and no bootstrap token is set/)).length > 0, {
      what: 'the agent still without an identity after the hub is back',
      timeoutMs: 15_000,
    });
    await eventually(async () => !(await isConnected()), { what: `${CLUSTER} shown as not connected`, timeoutMs: 30_000 });
    expect(since(hubBack, 'agent connected')).toEqual([]);

    // When an operator issues a new bootstrap token and the agent is restarted with it
    const { issueBootstrapToken } = await api.must<{ issueBootstrapToken: { bootstrapToken: string } }>(`mutation($c: String!) { issueBootstrapToken(cluster: $c) { bootstrapToken } }`, { c: CLUSTER });
    await agent!.stop('SIGTERM');
    const restarted = startAgentProcess(issueBootstrapToken.bootstrapToken);

    // Then it enrolls a new key, connects, and still runs the released revision
    await eventually(() => since(restarted, ENROLLED).length > 0, { what: `re-enrollment\n${agent!.tail()}` });
    await eventually(isConnected, { what: `${CLUSTER} connected after re-enrollment\n${agent!.tail()}` });
    expect(publicKeyOf(storedIdentity().seed)).not.toBe(publicKeyOf(expired.seed));
    await eventually(async () => {
      const current = await app();
      return current.revision === revision && current.health === 'HEALTHY' && current.healthRevision === revision;
    }, { what: 'the App healthy at the released revision after re-enrollment' });
  });
});
