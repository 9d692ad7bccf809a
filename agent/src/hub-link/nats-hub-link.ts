import type { DriverCapabilities } from '../driver/cluster-driver.js';
import type { Clock, Timer } from '../clock.js';
import { nextBackoffMs, type BackoffOptions } from '../core/backoff.js';
import type { NatsAuthConfig } from '../core/transport-config.js';
import type { Logger } from '../log.js';
import type { HubLink, HubLinkHandler } from './hub-link.js';
import type { NatsIdentity } from './nats-identity.js';
import { NatsSession, RENEWED_REASON, type NatsSessionOutcome } from './nats-session.js';

/** Settings of {@link NatsHubLink}. */
export interface NatsHubLinkOptions {
  /** NATS server URLs, tried in order at each connect. */
  readonly servers: readonly string[];
  /** The cluster's NATS user (or creds file); never logged. */
  readonly auth: NatsAuthConfig;
  readonly kvBucket: string;
  readonly clusterName: string;
  readonly agentVersion: string;
  /** The cluster's capabilities for Hello, as last discovered (undefined: none known yet). */
  readonly capabilities?: (() => DriverCapabilities | undefined) | undefined;
  readonly handler: HubLinkHandler;
  readonly clock: Clock;
  readonly random01: () => number;
  readonly log: Logger;
  /** Reconnect delays; the first retry waits at most `baseMs`, no retry waits more than `maxMs`. */
  readonly reconnect: BackoffOptions;
  /** Give up on a connect after this long (default 5 s). */
  readonly connectTimeoutMs?: number;
  /** Give up on a session whose publish is not confirmed within this long (default 10 s). */
  readonly publishTimeoutMs?: number;
  /** A session that stayed up this long resets the backoff (default 10 s). */
  readonly stableAfterMs?: number;
  /** Heartbeat and inventory intervals until the hub's Welcome names others (defaults 10 s and 60 s). */
  readonly defaultHeartbeatMs?: number;
  readonly defaultInventoryMs?: number;
  /** With `auth.kind === 'operator'`: enrolls before the first session and renews the JWT (see {@link NatsIdentity}). */
  readonly identity?: NatsIdentity;
  /** PEM file of the CA the server's certificate is verified with (FLOTILLA_NATS_CA_FILE). */
  readonly caFile?: string;
}

/**
 * The NATS JetStream hub link: runs one {@link NatsSession} (one connection) at a time and reconnects
 * forever with exponential backoff and full jitter until stopped. Every session starts with a fresh
 * watch, so the agent gets the latest value of every key of its cluster after each reconnect, and a
 * fresh Hello, so the hub resyncs what differs.
 */
export class NatsHubLink implements HubLink {
  readonly #options: NatsHubLinkOptions;
  #session: NatsSession | undefined;
  #loop: Promise<void> | undefined;
  #sleepTimer: Timer | undefined;
  #wake: (() => void) | undefined;
  #stopped = false;
  #stopping: Promise<void> | undefined;

  constructor(options: NatsHubLinkOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#loop !== undefined || this.#stopped) return;
    this.#loop = this.#run();
  }

  isConnected(): boolean {
    return this.#session?.isWelcomed ?? false;
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#stopped = true;
    this.#sleepTimer?.cancel();
    this.#wake?.();
    this.#session?.close('agent stopping');
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { log, reconnect } = this.#options;
    const stableAfterMs = this.#options.stableAfterMs ?? 10_000;
    let attempt = 0;
    while (!this.#stopped) {
      log.debug('connecting to NATS', { servers: this.#options.servers.map(withoutCredentials), attempt });
      const outcome = await this.#runSession();
      if (this.#stopped) break;
      // A renewal ends a healthy session on purpose: reconnect at once with the new JWT.
      if (outcome.reason === RENEWED_REASON) {
        log.info('reconnecting with the renewed NATS user JWT');
        attempt = 0;
        continue;
      }
      if (outcome.established && outcome.durationMs >= stableAfterMs) attempt = 0;
      const delayMs = nextBackoffMs(attempt, this.#options.random01(), reconnect);
      log.warn('hub link down; reconnecting', { reason: outcome.reason, retryInMs: delayMs, attempt: attempt + 1 });
      attempt += 1;
      await this.#sleep(delayMs);
    }
  }

  async #runSession(): Promise<NatsSessionOutcome> {
    const options = this.#options;
    if (options.identity !== undefined) {
      const startedAt = options.clock.now();
      try {
        await options.identity.ensure();
      } catch (error) {
        return { established: false, refusal: undefined, reason: `cannot obtain a NATS identity: ${error instanceof Error ? error.message : String(error)}`, durationMs: options.clock.now() - startedAt };
      }
    }
    const session = new NatsSession({
      servers: options.servers,
      auth: options.auth,
      kvBucket: options.kvBucket,
      clusterName: options.clusterName,
      agentVersion: options.agentVersion,
      capabilities: options.capabilities,
      handler: options.handler,
      clock: options.clock,
      log: options.log,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      publishTimeoutMs: options.publishTimeoutMs ?? 10_000,
      defaultHeartbeatMs: options.defaultHeartbeatMs ?? 10_000,
      defaultInventoryMs: options.defaultInventoryMs ?? 60_000,
      identity: options.identity,
      caFile: options.caFile,
    });
    this.#session = session;
    try {
      return await session.run();
    } finally {
      this.#session = undefined;
    }
  }

  #sleep(delayMs: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#sleepTimer = this.#options.clock.setTimer(resolve, delayMs);
    }).finally(() => {
      this.#wake = undefined;
      this.#sleepTimer = undefined;
    });
  }
}

/** A server URL fit for a log line (configuration refuses credentials in URLs; this is belt and braces). */
function withoutCredentials(server: string): string {
  return server.replace(/\/\/[^@/]*@/, '//');
}
