import { CredentialStore } from './cache/credential-store.js';
import { DesiredStateCache } from './cache/desired-state-cache.js';
import { systemClock, type Clock } from './clock.js';
import { credentialIssue, type AgentConfig, type ConfigIssue, type DriverConfig } from './core/config.js';
import type { ClusterDriver } from './driver/cluster-driver.js';
import { GrpcHubLink } from './hub-link/grpc-hub-link.js';
import type { HubLink } from './hub-link/hub-link.js';
import { createLogger, type Logger } from './log.js';
import { startProbeServer, type ProbeServer } from './probe-server.js';
import { Reconciler } from './reconciler/reconciler.js';
import { SimDriver } from './sim/sim-driver.js';

/** First reconnect delay ceiling, in milliseconds (the config sets the longest). */
export const RECONNECT_BASE_MS = 500;

/** Optional seams of {@link startAgent}; production leaves them unset. */
export interface AgentOptions {
  readonly log?: Logger;
  readonly clock?: Clock;
  readonly random01?: () => number;
  /** Reported in Hello. */
  readonly agentVersion?: string;
  /** Replaces the driver the config selects (tests, embedding). */
  readonly driver?: ClusterDriver;
  /** Link timings; tests shorten them. */
  readonly link?: {
    readonly reconnectBaseMs?: number;
    readonly welcomeTimeoutMs?: number;
    readonly defaultHeartbeatMs?: number;
    readonly defaultInventoryMs?: number;
  };
}

/** A started agent. */
export interface RunningAgent {
  readonly driver: ClusterDriver;
  readonly reconciler: Reconciler;
  readonly link: HubLink;
  /** Port of the probe server, when one runs. */
  readonly probePort: number | undefined;
  /** Stops the link, waits for driver work in flight, closes the driver and the probe server. */
  stop(): Promise<void>;
}

/** Result of {@link startAgent}: a running agent, or the configuration issues that prevent one. */
export type StartAgentResult = { readonly ok: true; readonly agent: RunningAgent } | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/**
 * Wires and starts an agent: cache and credential from the state directory, the driver, the
 * reconciler (which re-applies the cached Apps at once, hub or no hub), the gRPC hub link, and the
 * optional probe server. Returns issues (and starts nothing) when no credential can be presented.
 */
export async function startAgent(config: AgentConfig, options: AgentOptions = {}): Promise<StartAgentResult> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const clock = options.clock ?? systemClock;
  const random01 = options.random01 ?? Math.random;

  const credentials = new CredentialStore(config.stateDir);
  const storedCredential = await credentials.read();
  const issue = credentialIssue(storedCredential !== undefined, config);
  if (issue !== undefined) return { ok: false, issues: [issue] };
  const cache = await DesiredStateCache.open({ stateDir: config.stateDir, log, clock });

  const driver = options.driver ?? createDriver(config.driver, clock);
  const reconciler = new Reconciler({ cache, driver, clock, random01, log: log.child({ component: 'reconciler' }) });
  const link = new GrpcHubLink({
    address: config.hubAddress,
    clusterName: config.clusterName,
    agentVersion: options.agentVersion ?? '0.0.0-dev',
    storedCredential,
    bootstrapToken: config.bootstrapToken,
    credentials,
    handler: reconciler,
    clock,
    random01,
    log: log.child({ component: 'hub-link' }),
    reconnect: { baseMs: Math.min(options.link?.reconnectBaseMs ?? RECONNECT_BASE_MS, config.reconnectMaxMs), maxMs: config.reconnectMaxMs },
    welcomeTimeoutMs: options.link?.welcomeTimeoutMs,
    defaultHeartbeatMs: options.link?.defaultHeartbeatMs,
    defaultInventoryMs: options.link?.defaultInventoryMs,
  });

  let stopping: Promise<void> | undefined;
  let probe: ProbeServer | undefined;
  if (config.probePort !== undefined) {
    try {
      probe = await startProbeServer(config.probePort, { ready: () => stopping === undefined, hubConnected: () => link.isConnected() }, log);
    } catch (error) {
      await driver.close();
      throw error;
    }
  }
  // Nothing above has started work; from here on the agent runs until stop().
  reconciler.start();
  link.start();
  log.info('agent started', {
    cluster: config.clusterName,
    hub: config.hubAddress,
    driver: config.driver.kind,
    stateDir: config.stateDir,
    cachedApps: cache.appCount,
    auth: storedCredential !== undefined ? 'stored credential' : 'bootstrap token',
  });

  const stop = async (): Promise<void> => {
    await link.stop();
    await reconciler.stop();
    await driver.close();
    await probe?.close();
    log.info('agent stopped', { cluster: config.clusterName });
  };
  return {
    ok: true,
    agent: {
      driver,
      reconciler,
      link,
      probePort: probe?.port,
      stop: () => (stopping ??= stop()),
    },
  };
}

/** The driver a configuration selects. A switch over the union, so a new driver kind must be handled. */
export function createDriver(config: DriverConfig, clock: Clock): ClusterDriver {
  switch (config.kind) {
    case 'sim':
      return new SimDriver({ healthyAfterMs: config.healthyAfterMs, failApps: config.failApps, clock });
  }
}
