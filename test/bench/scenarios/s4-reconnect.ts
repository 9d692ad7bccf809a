/**
 * S4: reconnect storm. N agents connected and holding a released revision; `kill -9` the hub, restart
 * it on the same ports and database; time until every agent is back and resynced, and nothing lost.
 *
 * Project: a real hub process (product timings) and N simulated agents in this process (the agent's
 * real GrpcHubLink, reconnect backoff 500 ms base / 5 s max, which the link also gives grpc-js's own
 * channel backoff). Set-up releases one App to every agent (one wave, 100 %) and waits for every ack.
 * Each round: SIGKILL the hub, start it again at once (same ports, database, data folder), then wait
 * until every agent has a Welcome newer than the kill and no hub message has arrived for a quiet
 * period (a resync sends right after Welcome, on the same stream). Resynced at = max(Welcome, last
 * resync message) per agent. Then every agent must still hold the released revision (else the run
 * fails). Timestamps are taken at the agents (the handler's onReport subscription is made right after
 * Welcome; DesiredApp/RemoveApp are timestamped as handled).
 * Baseline: the bare grpc-js server of lib/raw-idle-server.ts, killed and restarted the same way on
 * the same port, and N raw clients with the same channel options and the same backoff loop and
 * settings (lib/raw-reconnecting-clients.ts); each stream's Hello is answered with a Welcome and
 * nothing else (a no-op resync).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectRequestSchema, ConnectResponseSchema, HelloSchema, PROTOCOL_VERSION, create, toBinary } from '@flotilla/proto';
import type { AckContent, IncomingDesiredApp, IncomingRemoveApp } from '../../../agent/src/core/desired-state.js';
import { createTestDatabase } from '../../harness/database.js';
import { graphqlClient } from '../../harness/graphql.js';
import { freePort } from '../../harness/ports.js';
import { startHub, type HubProcess } from '../../harness/processes.js';
import { onCleanup } from '../lib/cleanup.js';
import { PRODUCT_TIMINGS, configMapAppSet, hubMetric, registerGrpcClusters, stageAppSet, startRollout } from '../lib/hub-fleet.js';
import { alternate, summarise, type CaseResult, type Figures } from '../lib/pairs.js';
import { waitFor } from '../lib/proc.js';
import { startRawIdleServer, type RawIdleServer } from '../lib/raw-idle-server.js';
import { startRawReconnectingFleet } from '../lib/raw-reconnecting-clients.js';
import { AckingAgent, RECONNECT, startLink } from '../lib/sim-agents.js';
import { percentile } from '../lib/stats.js';
import type { Profile, Scenario } from './registry.js';

const SIZES: Record<Profile, number> = { quick: 500, full: 10_000 };
const ONE_WAVE = { waves: [{ name: 'all', maxConcurrency: '100%', soak: '0s' }] };
/** No hub message for this long after the last Welcome: the resyncs are over. */
const QUIET_MS = 1000;
const STORM_TIMEOUT_MS = 180_000;
const APP_SET = 'storm';

/** An acking agent that also timestamps each Welcome and each hub message it handles. */
class StormAgent extends AckingAgent {
  welcomedAt = 0;
  lastMessageAt = 0;
  messages = 0;

  override onReport(): () => void {
    // GrpcSession subscribes right after it has processed Welcome: the moment the link is back.
    this.welcomedAt = performance.now();
    return () => undefined;
  }

  override async handleDesiredApp(message: IncomingDesiredApp, sendAck: (ack: AckContent) => void): Promise<void> {
    this.#touch();
    await super.handleDesiredApp(message, sendAck);
  }

  override async handleRemoveApp(message: IncomingRemoveApp, sendAck: (ack: AckContent) => void): Promise<void> {
    this.#touch();
    await super.handleRemoveApp(message, sendAck);
  }

  #touch(): void {
    this.messages += 1;
    this.lastMessageAt = performance.now();
  }
}

export const S4: Scenario = {
  id: 'S4',
  title: 'reconnect storm: kill -9 the hub with N agents connected, restart it',
  notes: [
    `project: real hub process, N GrpcHubLink agents holding one released App; SIGKILL, immediate restart on the same ports and database; reconnect backoff ${RECONNECT.baseMs} ms base / ${RECONNECT.maxMs} ms max (also grpc-js's channel backoff), identical for the raw clients`,
    'baseline: bare grpc-js server (hub server options) killed and restarted the same way; raw clients with the agent link\'s channel options and reconnect loop; Hello answered by a Welcome only (no-op resync)',
    `all times from the SIGKILL, in ms: server up = hub /healthz answers (raw: listening); first back = first Welcome; p50 / all resynced = max(Welcome, last resync message) per agent, after ${QUIET_MS} ms without hub messages; every agent then still holds the released revision (checked)`,
  ],
  groups: () => ['grpc'],
  groupTimeoutMs: (profile) => (profile === 'full' ? 60 * 60_000 : 5 * 60_000),
  runGroup: async (_group, profile) => [await runStorm(profile)],
};

/** performance.now() of the first 200 from `url`, polled every 10 ms (bounded like the storm). */
async function firstHealthy(url: string): Promise<number> {
  let at = 0;
  await waitFor(async () => {
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) at = performance.now();
    return ok;
  }, 'the restarted hub to answer /healthz', STORM_TIMEOUT_MS, 10);
  return at;
}

const clusterName = (i: number) => `r-${String(i).padStart(5, '0')}`;

async function runStorm(profile: Profile): Promise<CaseResult> {
  const n = SIZES[profile];
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-s4-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const db = await createTestDatabase();
  onCleanup(() => db.drop());
  const ports = { port: await freePort(), grpcPort: await freePort() };
  const launchHub = () => startHub({ databaseUrl: db.url, dataDir: join(dir, 'hub'), ...ports, env: PRODUCT_TIMINGS });
  let hub: HubProcess = await launchHub();
  onCleanup(() => hub.stop());
  const api = graphqlClient(hub.graphqlUrl, hub.adminToken);
  const names = Array.from({ length: n }, (_, i) => clusterName(i));
  const targets = await registerGrpcClusters(api, names, () => ({ bench: 's4' }), hub);
  const agents = targets.map(() => new StormAgent());
  const links = targets.map((t, i) => startLink(t, agents[i]!));
  onCleanup(async () => void (await Promise.all(links.map((l) => l.stop()))));
  await waitFor(() => links.every((l) => l.isConnected()), `${n} agents connected`, 120_000, 50);

  const revision = await stageAppSet(api, APP_SET, configMapAppSet(APP_SET, { bench: 's4' }, 0));
  await startRollout(api, APP_SET, ONE_WAVE);
  await waitFor(() => agents.every((a) => a.ackedAt.has(revision)), 'every agent to ack the released revision', 120_000, 20);
  const holdsRelease = (a: StormAgent) => [...a.held.values()].some((e) => e.kind === 'app' && e.revision === revision);

  const welcomeFile = join(dir, 'welcome.bin');
  writeFileSync(welcomeFile, toBinary(ConnectResponseSchema, create(ConnectResponseSchema, { message: { case: 'welcome', value: { protocolVersion: PROTOCOL_VERSION, clusterName: names[0]!, heartbeatIntervalSeconds: 10, inventoryIntervalSeconds: 60 } } })));
  // The bytes of a real agent's Hello (its inventory holds the released App).
  const hello = toBinary(ConnectRequestSchema, create(ConnectRequestSchema, { message: { case: 'hello', value: create(HelloSchema, { protocolVersion: PROTOCOL_VERSION, clusterName: names[0]!, agentVersion: 'bench', inventory: { apps: agents[0]!.inventory().map((ref) => ({ ...ref })) } }) } }));
  let raw: RawIdleServer = await startRawIdleServer(0, welcomeFile);
  onCleanup(() => raw.stop());
  const fleet = startRawReconnectingFleet(raw.address, n, hello, RECONNECT);
  onCleanup(() => fleet.close());
  await waitFor(() => fleet.connected() === n, `${n} raw clients connected`, 120_000, 50);

  const totals = { agentMessages: 0, hubDeliveries: 0, hubRefused: 0 };
  const figuresOf = (up: number, back: number[], resynced: number[]): Figures => ({
    'server up': up,
    'first back': Math.min(...back),
    'p50 resynced': percentile(resynced, 50),
    'all resynced': Math.max(...resynced),
  });

  const project = async (): Promise<Figures> => {
    const messagesBefore = agents.reduce((s, a) => s + a.messages, 0);
    const killedAt = performance.now();
    await hub.stop('SIGKILL');
    // startHub polls /healthz every 200 ms; this finer poll times "server up".
    const upAt = firstHealthy(hub.graphqlUrl.replace(/\/graphql$/, '/healthz'));
    hub = await launchHub();
    const up = (await upAt) - killedAt;
    await waitFor(() => agents.every((a) => a.welcomedAt > killedAt), `${n} agents back`, STORM_TIMEOUT_MS, 20);
    const lastActivity = () => Math.max(...agents.map((a) => Math.max(a.welcomedAt, a.lastMessageAt)));
    await waitFor(() => performance.now() - lastActivity() >= QUIET_MS, 'the resyncs to end', 60_000, 50);
    const lost = agents.filter((a) => !holdsRelease(a)).length;
    if (lost > 0) throw new Error(`${lost} of ${n} agents no longer hold revision ${revision.slice(0, 12)} after the restart`);
    totals.agentMessages += agents.reduce((s, a) => s + a.messages, 0) - messagesBefore;
    totals.hubDeliveries += await hubMetric(hub, 'flotilla_deliveries_total');
    totals.hubRefused += await hubMetric(hub, 'flotilla_refused_streams_total');
    return figuresOf(
      up,
      agents.map((a) => a.welcomedAt - killedAt),
      agents.map((a) => Math.max(a.welcomedAt, a.lastMessageAt) - killedAt),
    );
  };

  const baseline = async (): Promise<Figures> => {
    const killedAt = performance.now();
    await raw.kill();
    raw = await startRawIdleServer(raw.port, welcomeFile);
    const up = performance.now() - killedAt;
    await waitFor(() => fleet.welcomedAt.every((t) => t !== undefined && t > killedAt), `${n} raw clients back`, STORM_TIMEOUT_MS, 20);
    const back = fleet.welcomedAt.map((t) => t! - killedAt);
    return figuresOf(up, back, back);
  };

  const run = await alternate({ warmup: 1, pairs: 5, budgetMs: profile === 'full' ? 40 * 60_000 : 110_000 }, project, baseline);
  const rounds = run.project.length + 1;
  return {
    label: `grpc N=${n}`,
    n,
    pairs: run.project.length,
    cut: run.cut,
    rows: summarise(run, ['server up', 'first back', 'p50 resynced', 'all resynced']),
    facts: {
      'agents holding the release after every restart': `${n}/${n}`,
      'hub messages received by agents per restart (resync)': totals.agentMessages / rounds,
      'hub deliveries per restart (flotilla_deliveries_total)': totals.hubDeliveries / rounds,
      'refused streams per restart': totals.hubRefused / rounds,
      'raw streams opened in total': fleet.sessions(),
    },
    raw: run,
  };
}
