import { ClientIdentityStore } from './cache/client-identity-store.js';
import { CredentialStore } from './cache/credential-store.js';
import { DesiredStateCache } from './cache/desired-state-cache.js';
import { systemClock, type Clock } from './clock.js';
import type { StateStore } from './cache/state-store.js';
import { AGENT_ENV, credentialIssue, type AgentConfig, type ConfigIssue, type DriverConfig } from './core/config.js';
import type { HubTlsConfig } from './core/hub-tls-config.js';
import type { ClusterDriver } from './driver/cluster-driver.js';
import { createStateStore, needsKubeAccess, openKubeAccess, type KubeAccess } from './driver/kube/kube-access.js';
import { KubeDriver } from './driver/kube/kube-driver.js';
import { CapabilitiesSource } from './hub-link/capabilities-source.js';
import { GrpcHubLink, type GrpcLinkSecurity } from './hub-link/grpc-hub-link.js';
import { resolveLinkSecurity } from './hub-link/link-security.js';
import type { ClientIdentity } from './hub-link/client-identity.js';
import type { HubLink } from './hub-link/hub-link.js';
import { NatsHubLink } from './hub-link/nats-hub-link.js';
import { NatsIdentity } from './hub-link/nats-identity.js';
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
 * Wires and starts an agent: cache and credential from the state store, the driver, the
 * reconciler (which re-applies the cached Apps at once, hub or no hub), the gRPC or NATS hub link, and the
 * optional probe server. Returns issues (and starts nothing) when no credential can be presented.
 */
export async function startAgent(config: AgentConfig, options: AgentOptions = {}): Promise<StartAgentResult> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const clock = options.clock ?? systemClock;
  const random01 = options.random01 ?? Math.random;

  // Resolved before anything starts: a gRPC agent never dials a hub it cannot verify by mistake.
  let security: GrpcLinkSecurity = { kind: 'insecure' };
  if (config.transport.kind === 'grpc') {
    const resolved = await resolveLinkSecurity(config.transport.tls);
    if (!resolved.ok) return { ok: false, issues: [resolved.issue] };
    security = resolved.security;
    if (security.kind === 'insecure') {
      log.warn('FLOTILLA_HUB_INSECURE=true: dialing the hub in PLAINTEXT without verifying it; the bootstrap token and the credential cross the network unencrypted. For local development only.');
    }
  }

  // The kube driver and the Secret store share one connection to the cluster's API server.
  let kube: KubeAccess | undefined;
  if (needsKubeAccess(config)) {
    const opened = openKubeAccess(config, clock);
    if (!opened.ok) return { ok: false, issues: [opened.issue] };
    kube = opened.access;
  }
  const store = createStateStore(config, kube, clock, random01);
  let driver: ClusterDriver | undefined;
  let cache: DesiredStateCache;
  let storedCredential: string | undefined;
  const credentials = new CredentialStore(store);
  // Client certificates need TLS: over plaintext (development only) the agent keeps bearer tokens.
  const identities = config.transport.kind === 'grpc' && security.kind === 'tls' ? new ClientIdentityStore(store) : undefined;
  let storedIdentity: ClientIdentity | undefined;
  // With the hub as NATS operator the stored NATS identity takes the credential's place.
  const natsIdentity =
    config.transport.kind === 'nats' && config.transport.auth.kind === 'operator'
      ? new NatsIdentity({
          clusterName: config.clusterName,
          enrollmentJwt: config.transport.auth.enrollmentJwt,
          bootstrapToken: config.bootstrapToken,
          store,
          clock,
          log: log.child({ component: 'nats-identity' }),
          connection: { servers: [...config.transport.servers], ...(config.transport.caFile !== undefined ? { tls: { caFile: config.transport.caFile } } : {}) },
        })
      : undefined;
  try {
    await store.init();
    storedCredential = await credentials.read();
    storedIdentity = await identities?.read();
    if (natsIdentity !== undefined) storedCredential = (await natsIdentity.load()) ? 'nats-identity' : undefined;
    const issue = credentialIssue(storedCredential !== undefined || storedIdentity?.certificatePem !== undefined, config);
    if (issue !== undefined) {
      kube?.close();
      return { ok: false, issues: [issue] };
    }
    cache = await DesiredStateCache.open({ store, log, clock });
    driver = options.driver ?? (await createDriver(config.driver, { clock, random01, log: log.child({ component: 'driver' }), store, kube }));
  } catch (error) {
    kube?.close();
    throw error;
  }
  const reconciler = new Reconciler({ cache, driver, clock, random01, log: log.child({ component: 'reconciler' }) });
  const linkLog = log.child({ component: 'hub-link' });
  const reconnect = { baseMs: Math.min(options.link?.reconnectBaseMs ?? RECONNECT_BASE_MS, config.reconnectMaxMs), maxMs: config.reconnectMaxMs };
  const agentVersion = options.agentVersion ?? '0.0.0-dev';
  // The cluster's capabilities go in every Hello: discovered once before the first (bounded), then before each.
  const discover = driver.capabilities?.bind(driver);
  const capabilitiesSource = discover && new CapabilitiesSource(discover, clock, log.child({ component: 'capabilities' }));
  await capabilitiesSource?.refresh();
  const capabilities = capabilitiesSource && (() => capabilitiesSource.forHello());
  const link: HubLink =
    config.transport.kind === 'nats'
      ? new NatsHubLink({
          servers: config.transport.servers,
          auth: config.transport.auth,
          kvBucket: config.transport.kvBucket,
          clusterName: config.clusterName,
          agentVersion,
          capabilities,
          handler: reconciler,
          clock,
          random01,
          log: linkLog,
          reconnect,
          defaultHeartbeatMs: options.link?.defaultHeartbeatMs,
          defaultInventoryMs: options.link?.defaultInventoryMs,
          identity: natsIdentity,
          caFile: config.transport.caFile,
        })
      : new GrpcHubLink({
          address: config.transport.hubAddress,
          security,
          clusterName: config.clusterName,
          agentVersion,
          capabilities,
          storedCredential,
          bootstrapToken: config.bootstrapToken,
          credentials,
          storedIdentity,
          identities,
          handler: reconciler,
          clock,
          random01,
          log: linkLog,
          reconnect,
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
      kube?.close();
      throw error;
    }
  }
  // Nothing above has started work; from here on the agent runs until stop().
  reconciler.start();
  link.start();
  log.info('agent started', {
    cluster: config.clusterName,
    transport: config.transport.kind,
    hub: config.transport.kind === 'nats' ? config.transport.servers.join(',') : config.transport.hubAddress,
    driver: config.driver.kind,
    stateStore: store.description,
    ...(kube !== undefined ? { kubernetes: `${kube.client.server} (${kube.source}), agent namespace ${kube.namespace}` } : {}),
    cachedApps: cache.appCount,
    auth:
      config.transport.kind === 'nats'
        ? `NATS ${config.transport.auth.kind}`
        : storedIdentity?.certificatePem !== undefined
          ? 'client certificate'
          : storedCredential !== undefined
            ? 'stored credential'
            : 'bootstrap token',
    ...(config.transport.kind === 'grpc' ? { hubTls: describeHubTls(config.transport.tls) } : {}),
  });

  const stop = async (): Promise<void> => {
    await link.stop();
    await reconciler.stop();
    await driver.close();
    kube?.close();
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

/** What {@link createDriver} may need besides the driver's own settings. */
export interface DriverDependencies {
  readonly clock: Clock;
  readonly random01: () => number;
  readonly log: Logger;
  readonly store: StateStore;
  /** The cluster connection; required by the kube driver. */
  readonly kube: KubeAccess | undefined;
}

/** The driver a configuration selects. A switch over the union, so a new driver kind must be handled. */
export async function createDriver(config: DriverConfig, dependencies: DriverDependencies): Promise<ClusterDriver> {
  switch (config.kind) {
    case 'sim':
      return new SimDriver({ healthyAfterMs: config.healthyAfterMs, failApps: config.failApps, kubernetesVersion: config.kubernetesVersion, drift: config.drift, clock: dependencies.clock });
    case 'kube': {
      if (dependencies.kube === undefined) throw new Error('the kube driver needs a Kubernetes connection');
      // The agent closes the shared connection itself, after the driver (the Secret store may use it).
      return KubeDriver.create({
        client: dependencies.kube.client,
        store: dependencies.store,
        clock: dependencies.clock,
        random01: dependencies.random01,
        log: dependencies.log,
        closeClient: false,
      });
    }
  }
}

/** How the gRPC link verifies the hub, for the start-up log. */
function describeHubTls(tls: HubTlsConfig): string {
  if (tls.kind === 'insecure') return 'off (plaintext)';
  const ca = tls.ca.kind === 'file' ? tls.ca.path : AGENT_ENV.hubCa;
  return `verified against the CA in ${ca}${tls.serverName !== undefined ? ` as ${tls.serverName}` : ''}`;
}
