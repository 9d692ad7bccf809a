import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { webAppSet } from './app-sets.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { eventually } from './eventually.js';
import { graphqlClient } from './graphql.js';
import { recordJsonLines, type AgentLogLine } from './nats-operator.js';
import { startAgent, startHub, type HubProcess, type ManagedProcess } from './processes.js';
import { TcpBalancer } from './tcp-balancer.js';

/** The clusters of an {@link AgentFleet}, registered with `region: eu`. */
export const FLEET_CLUSTERS = ['edge-1', 'edge-2'] as const;
export type FleetCluster = (typeof FLEET_CLUSTERS)[number];
/** The log message of an agent that enrolled a client certificate. */
export const ENROLLED = 'enrolled a client certificate and stored it';
/** The log message of an agent that renewed its client certificate. */
export const RENEWED = 'received a renewed client certificate and stored it';

/** The `web` AppSet on every cluster in one wave that soaks for `soak` (e.g. `45s`); `value` makes a new revision. */
export const soakingAppSet = (value: string, soak: string) => webAppSet({ value, byLabel: `maxConcurrency: "100%", maxFailures: 0, soak: ${soak}, progressDeadline: 2m` });

/** A real agent process of the fleet. */
export interface FleetAgent {
  readonly process: ManagedProcess & { stateDir: string };
  /** Every JSON log line of the agent, in order (the process keeps only its last 200 lines). */
  readonly logs: AgentLogLine[];
}

/**
 * Real gRPC agents of {@link FLEET_CLUSTERS} and one hub, or several hub replicas over one database
 * behind a TCP balancer that the agents dial. Start it in `beforeAll`, stop it in `afterAll`.
 */
export class AgentFleet {
  readonly hubs: HubProcess[] = [];
  balancer: TcpBalancer | undefined;
  readonly agents = new Map<FleetCluster, FleetAgent>();

  private constructor(readonly db: TestDatabase) {}

  /**
   * A database and `replicas` hubs (`hub-a`, `hub-b`, `hub-c`) with `env` besides their replica id;
   * the first migrates, the others start against the migrated schema; more than one gets a balancer.
   */
  static async start(replicas: number, env: Record<string, string> = {}): Promise<AgentFleet> {
    const fleet = new AgentFleet(await createTestDatabase());
    const hubEnv = (replicaId: string) => ({ ...env, FLOTILLA_REPLICA_ID: replicaId });
    try {
      fleet.hubs.push(await startHub({ databaseUrl: fleet.db.url, env: hubEnv('hub-a') }));
      if (replicas > 1) {
        fleet.hubs.push(...(await Promise.all(['hub-b', 'hub-c'].slice(0, replicas - 1).map((id) => startHub({ databaseUrl: fleet.db.url, env: hubEnv(id) })))));
        fleet.balancer = await TcpBalancer.start(fleet.hubs.map((hub) => hub.grpcAddress));
      }
    } catch (error) {
      await fleet.stop();
      throw error;
    }
    return fleet;
  }

  /** A fleet-admin GraphQL client of the first hub. */
  api() {
    return graphqlClient(this.hubs[0]!.graphqlUrl, this.hubs[0]!.adminToken);
  }

  /** Registers `cluster` with `region: eu`; returns its bootstrap token. */
  async register(cluster: FleetCluster): Promise<string> {
    const { registerCluster } = await this.api().must<{ registerCluster: { bootstrapToken: string } }>(
      `mutation($name: String!, $labels: JSONObject) { registerCluster(input: { name: $name, labels: $labels }) { bootstrapToken } }`,
      { name: cluster, labels: { region: 'eu' } },
    );
    return registerCluster.bootstrapToken;
  }

  /** Starts the agent of `cluster` (debug logs, which count every apply) against the balancer or the only hub, replacing the one the fleet held. */
  launch(cluster: FleetCluster, options: { hubCa: string; bootstrapToken: string | undefined; stateDir?: string }): FleetAgent {
    const process = startAgent({ hubAddress: this.balancer?.address ?? this.hubs[0]!.grpcAddress, cluster, ...options, env: { FLOTILLA_LOG_LEVEL: 'debug' } });
    const agent = { process, logs: recordJsonLines(process) };
    this.agents.set(cluster, agent);
    return agent;
  }

  agentOf(cluster: FleetCluster): FleetAgent {
    return this.agents.get(cluster)!;
  }

  /** The client identity file the agent of `cluster` stored (key, certificate, CA bundle). */
  storedIdentity(cluster: FleetCluster): unknown {
    return JSON.parse(readFileSync(join(this.agentOf(cluster).process.stateDir, 'client-identity.json'), 'utf8'));
  }

  /** The log lines of the agent of `cluster` whose message is `msg`. */
  logged(cluster: FleetCluster, msg: string): AgentLogLine[] {
    return this.agentOf(cluster).logs.filter((line) => line.msg === msg);
  }

  /** The names of the clusters the hub counts connected. */
  async connected(): Promise<Set<string>> {
    return new Set((await this.api().must<{ clusters: { name: string; connected: boolean }[] }>(`{ clusters { name connected } }`)).clusters.filter((c) => c.connected).map((c) => c.name));
  }

  async rollout(id: string): Promise<{ phase: string; reason: string | null }> {
    return (await this.api().must<{ rollout: { phase: string; reason: string | null } }>(`query($id: ID!) { rollout(id: $id) { phase reason } }`, { id })).rollout;
  }

  /** Waits until rollout `id` SUCCEEDED and returns it; throws as soon as it ends FAILED or PAUSED. */
  async succeeded(id: string): Promise<{ phase: string; reason: string | null }> {
    return eventually(
      async () => {
        const view = await this.rollout(id);
        if (view.phase === 'FAILED' || view.phase === 'PAUSED') throw new Error(`rollout ended ${view.phase}: ${view.reason}`);
        return view.phase === 'SUCCEEDED' ? view : undefined;
      },
      { what: `rollout SUCCEEDED\n${this.tails()}`, timeoutMs: 90_000 },
    );
  }

  /** Each driver apply of `app` (done, unchanged or failed) the agent of `cluster` logged, as `[message, generation]`. */
  applies(cluster: FleetCluster, app: string): unknown[][] {
    return this.agentOf(cluster)
      .logs.filter((line) => typeof line.msg === 'string' && line.msg.startsWith('driver apply ') && line['app'] === app)
      .map((line) => [line.msg, line['generation']]);
  }

  /** The last lines of every agent, for failure messages. */
  tails(): string {
    return FLEET_CLUSTERS.map((cluster) => this.agentOf(cluster).process.tail(15)).join('\n');
  }

  /** Stops the agents, the balancer and the hubs, then drops the database. */
  async stop(): Promise<void> {
    await Promise.all([...this.agents.values()].map((agent) => agent.process.stop()));
    await this.balancer?.close();
    await Promise.all(this.hubs.map((hub) => hub.stop()));
    await this.db.drop();
  }
}
