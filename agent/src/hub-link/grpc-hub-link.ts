import * as grpc from '@grpc/grpc-js';
import type { Welcome } from '@flotilla/proto';
import { AgentServiceClient, GRPC_CHANNEL_OPTIONS } from '@flotilla/proto/grpc';
import type { Clock, Timer } from '../clock.js';
import { nextBackoffMs, type BackoffOptions } from '../core/backoff.js';
import type { Logger } from '../log.js';
import { GrpcSession, type SessionOutcome } from './grpc-session.js';
import type { HubLink, HubLinkHandler } from './hub-link.js';

/** Where the link stores the durable credential the hub hands out. */
export interface CredentialSink {
  write(credential: string): Promise<void>;
}

/**
 * How the link dials the hub: TLS, verifying the hub's certificate against `caPem` (and, when set,
 * checking it for `serverName` instead of the address's host), or plaintext.
 */
export type GrpcLinkSecurity = { readonly kind: 'tls'; readonly caPem: string; readonly serverName?: string | undefined } | { readonly kind: 'insecure' };

/** Settings of {@link GrpcHubLink}. */
export interface GrpcHubLinkOptions {
  /** `host:port` of the hub. */
  readonly address: string;
  readonly security: GrpcLinkSecurity;
  readonly clusterName: string;
  readonly agentVersion: string;
  /** The credential stored by an earlier Welcome, used in preference to the bootstrap token. */
  readonly storedCredential: string | undefined;
  readonly bootstrapToken: string | undefined;
  readonly credentials: CredentialSink;
  readonly handler: HubLinkHandler;
  readonly clock: Clock;
  readonly random01: () => number;
  readonly log: Logger;
  /** Reconnect delays; the first retry waits at most `baseMs`, no retry waits more than `maxMs`. */
  readonly reconnect: BackoffOptions;
  /** Give up on a stream that sends no Welcome within this time (default 15 s). */
  readonly welcomeTimeoutMs?: number;
  /** A stream that stayed up this long resets the backoff even without Welcome (default 10 s). */
  readonly stableAfterMs?: number;
  /** Heartbeat and inventory intervals used when Welcome leaves them at 0 (defaults 10 s and 60 s). */
  readonly defaultHeartbeatMs?: number;
  readonly defaultInventoryMs?: number;
}

/**
 * The gRPC hub link: dials the hub, runs one {@link GrpcSession} at a time, and reconnects forever
 * with exponential backoff and full jitter until stopped. A refusal that retrying cannot fix still
 * retries, at the longest delay, so that a fixed hub (or a re-issued credential) is picked up without
 * restarting the agent.
 */
export class GrpcHubLink implements HubLink {
  readonly #options: GrpcHubLinkOptions;
  #credential: string | undefined;
  #client: AgentServiceClient | undefined;
  #session: GrpcSession | undefined;
  #loop: Promise<void> | undefined;
  #sleepTimer: Timer | undefined;
  #wake: (() => void) | undefined;
  #stopped = false;
  #stopping: Promise<void> | undefined;

  constructor(options: GrpcHubLinkOptions) {
    this.#options = options;
    this.#credential = options.storedCredential;
  }

  start(): void {
    if (this.#loop !== undefined || this.#stopped) return;
    const { security } = this.#options;
    const credentials = security.kind === 'tls' ? grpc.credentials.createSsl(Buffer.from(security.caPem, 'utf8')) : grpc.credentials.createInsecure();
    this.#client = new AgentServiceClient(this.#options.address, credentials, {
      ...GRPC_CHANNEL_OPTIONS,
      ...(security.kind === 'tls' && security.serverName !== undefined ? { 'grpc.ssl_target_name_override': security.serverName } : {}),
      // Keep grpc-js's own reconnect backoff within ours, or a restarted hub stays unreachable to new
      // calls until the channel's default backoff (up to two minutes) runs out.
      'grpc.initial_reconnect_backoff_ms': this.#options.reconnect.baseMs,
      'grpc.max_reconnect_backoff_ms': this.#options.reconnect.maxMs,
    });
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
    this.#client?.close();
  }

  async #run(): Promise<void> {
    const { log, reconnect } = this.#options;
    const stableAfterMs = this.#options.stableAfterMs ?? 10_000;
    let attempt = 0;
    while (!this.#stopped) {
      const token = this.#credential ?? this.#options.bootstrapToken;
      let delayMs: number;
      if (token === undefined) {
        log.error('no agent credential and no bootstrap token; set FLOTILLA_BOOTSTRAP_TOKEN');
        delayMs = reconnect.maxMs;
      } else {
        log.debug('connecting to the hub', { address: this.#options.address, attempt });
        const outcome = await this.#runSession(token);
        if (this.#stopped) break;
        if (outcome.welcomed || outcome.durationMs >= stableAfterMs) attempt = 0;
        delayMs =
          outcome.refusal !== undefined && !outcome.refusal.retryable
            ? reconnect.maxMs
            : nextBackoffMs(attempt, this.#options.random01(), reconnect);
        log.warn('hub link down; reconnecting', { reason: outcome.reason, retryInMs: delayMs, attempt: attempt + 1 });
      }
      attempt += 1;
      await this.#sleep(delayMs);
    }
  }

  async #runSession(token: string): Promise<SessionOutcome> {
    const client = this.#client;
    if (client === undefined) throw new Error('hub link used before start');
    const session = new GrpcSession({
      client,
      token,
      handler: this.#options.handler,
      clock: this.#options.clock,
      log: this.#options.log,
      clusterName: this.#options.clusterName,
      agentVersion: this.#options.agentVersion,
      welcomeTimeoutMs: this.#options.welcomeTimeoutMs ?? 15_000,
      defaultHeartbeatMs: this.#options.defaultHeartbeatMs ?? 10_000,
      defaultInventoryMs: this.#options.defaultInventoryMs ?? 60_000,
      onWelcome: (welcome) => this.#onWelcome(welcome),
    });
    this.#session = session;
    try {
      return await session.run();
    } finally {
      this.#session = undefined;
    }
  }

  // The bootstrap token works once, so the credential must be durable before anything else happens
  // on this stream. If the write fails, the credential is still used from memory until restart.
  async #onWelcome(welcome: Welcome): Promise<void> {
    const credential = welcome.agentCredential;
    if (credential === '' || credential === this.#credential) return;
    this.#credential = credential;
    try {
      await this.#options.credentials.write(credential);
      this.#options.log.info('stored the agent credential issued by the hub');
    } catch (error) {
      this.#options.log.error('could not store the agent credential; it is kept in memory until the agent restarts', { error });
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
