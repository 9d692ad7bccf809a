import * as grpc from '@grpc/grpc-js';
import type { CertificateRenewed, Welcome } from '@flotilla/proto';
import { AgentServiceClient, GRPC_CHANNEL_OPTIONS } from '@flotilla/proto/grpc';
import type { Clock, Timer } from '../clock.js';
import { nextBackoffMs, type BackoffOptions } from '../core/backoff.js';
import type { Logger } from '../log.js';
import { certificateLifetime, certificateRequest, hasUsableCertificate, newClientKey, privateKeyOf, renewalDueAtMs, type ClientIdentity } from './client-identity.js';
import { GrpcSession, type SessionOutcome, type SessionRenewal } from './grpc-session.js';
import type { HubLink, HubLinkHandler } from './hub-link.js';

/** Where the link stores the durable credential the hub hands out. */
export interface CredentialSink {
  write(credential: string): Promise<void>;
}

/** Where the link keeps its client identity (key and certificate). */
export interface ClientIdentitySink {
  write(identity: ClientIdentity): Promise<void>;
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
  /**
   * The client identity stored by an earlier enrollment, and where to store a new one. Without
   * `identities` (or over plaintext) the link authenticates with bearer tokens only.
   */
  readonly storedIdentity?: ClientIdentity | undefined;
  readonly identities?: ClientIdentitySink | undefined;
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
 *
 * Over TLS the link authenticates with a client certificate: it enrolls one with the bootstrap token
 * (a CSR for a key generated here, stored before the CSR leaves), presents it on every later stream,
 * and renews it over the stream once two thirds of its lifetime have passed, then reconnects with the
 * new one. An agent that holds a bearer credential from an earlier version renews at once to move to a
 * certificate. A certificate that expired falls back to the bootstrap token, if one is configured.
 */
export class GrpcHubLink implements HubLink {
  readonly #options: GrpcHubLinkOptions;
  #credential: string | undefined;
  #identity: ClientIdentity | undefined;
  /** The key of a renewal in flight, kept until its certificate arrives. */
  #renewalKey: string | undefined;
  #client: AgentServiceClient | undefined;
  /** The client certificate #client presents ('' for none). */
  #clientCertificate = '';
  #session: GrpcSession | undefined;
  #loop: Promise<void> | undefined;
  #sleepTimer: Timer | undefined;
  #wake: (() => void) | undefined;
  #stopped = false;
  #stopping: Promise<void> | undefined;

  constructor(options: GrpcHubLinkOptions) {
    this.#options = options;
    this.#credential = options.storedCredential;
    this.#identity = options.storedIdentity;
  }

  start(): void {
    if (this.#loop !== undefined || this.#stopped) return;
    this.#loop = this.#run();
  }

  /** True when the link uses client certificates (TLS, and somewhere to keep the identity). */
  get #usesCertificates(): boolean {
    return this.#options.security.kind === 'tls' && this.#options.identities !== undefined;
  }

  /** The channel for this attempt: a new one when the client certificate to present changed. */
  #channel(certificate: (ClientIdentity & { certificatePem: string }) | undefined): AgentServiceClient {
    const pem = certificate?.certificatePem ?? '';
    if (this.#client !== undefined && this.#clientCertificate === pem) return this.#client;
    this.#client?.close();
    const { security } = this.#options;
    const credentials =
      security.kind === 'insecure'
        ? grpc.credentials.createInsecure()
        : certificate !== undefined
          ? grpc.credentials.createSsl(Buffer.from(security.caPem, 'utf8'), Buffer.from(certificate.privateKeyPem, 'utf8'), Buffer.from(certificate.certificatePem, 'utf8'))
          : grpc.credentials.createSsl(Buffer.from(security.caPem, 'utf8'));
    this.#clientCertificate = pem;
    this.#client = new AgentServiceClient(this.#options.address, credentials, {
      ...GRPC_CHANNEL_OPTIONS,
      ...(security.kind === 'tls' && security.serverName !== undefined ? { 'grpc.ssl_target_name_override': security.serverName } : {}),
      // Keep grpc-js's own reconnect backoff within ours, or a restarted hub stays unreachable to new
      // calls until the channel's default backoff (up to two minutes) runs out.
      'grpc.initial_reconnect_backoff_ms': this.#options.reconnect.baseMs,
      'grpc.max_reconnect_backoff_ms': this.#options.reconnect.maxMs,
    });
    return this.#client;
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
      const identity = this.#identity;
      const certificate = this.#usesCertificates && hasUsableCertificate(identity, this.#options.clock.now()) ? identity : undefined;
      const token = certificate !== undefined ? undefined : (this.#credential ?? this.#options.bootstrapToken);
      let delayMs: number;
      if (certificate === undefined && token === undefined) {
        log.error('no usable client certificate, no agent credential and no bootstrap token; set FLOTILLA_BOOTSTRAP_TOKEN');
        delayMs = reconnect.maxMs;
      } else {
        log.debug('connecting to the hub', { address: this.#options.address, attempt, auth: certificate !== undefined ? 'client certificate' : this.#credential !== undefined ? 'credential' : 'bootstrap token' });
        const enrolling = certificate === undefined && this.#credential === undefined && this.#usesCertificates;
        const outcome = await this.#runSession(this.#channel(certificate), token, enrolling ? await this.#enrollmentRequest() : undefined);
        if (this.#stopped) break;
        if (outcome.welcomed || outcome.durationMs >= stableAfterMs) attempt = 0;
        delayMs = outcome.renewed
          ? 0
          : outcome.refusal !== undefined && !outcome.refusal.retryable
            ? reconnect.maxMs
            : nextBackoffMs(attempt, this.#options.random01(), reconnect);
        if (outcome.renewed) log.info('reconnecting with the renewed client certificate');
        else log.warn('hub link down; reconnecting', { reason: outcome.reason, retryInMs: delayMs, attempt: attempt + 1 });
      }
      attempt += 1;
      // No wait after a renewal: the reconnect is planned, not a failure.
      if (delayMs > 0) await this.#sleep(delayMs);
    }
  }

  /**
   * A CSR for the key to enroll with the bootstrap token: the stored key, or a new one stored first
   * (if that write fails the key is kept in memory: the certificate then lasts until restart).
   */
  async #enrollmentRequest(): Promise<Uint8Array> {
    if (this.#identity === undefined) {
      this.#identity = { privateKeyPem: newClientKey() };
      await this.#storeIdentity(this.#identity, 'generated a client key');
    }
    return certificateRequest(privateKeyOf(this.#identity), this.#options.clusterName);
  }

  async #storeIdentity(identity: ClientIdentity, what: string): Promise<void> {
    try {
      await this.#options.identities?.write(identity);
      this.#options.log.info(`${what} and stored it`);
    } catch (error) {
      this.#options.log.error(`${what} but could not store it; it is kept in memory until the agent restarts`, { error });
    }
  }

  /** Renewal over an authenticated stream: of the certificate at 2/3 of its life, or at once for a bearer credential. */
  #renewal(): SessionRenewal | undefined {
    if (!this.#usesCertificates) return undefined;
    return {
      dueAtMs: () => {
        const certificatePem = this.#identity?.certificatePem;
        if (certificatePem !== undefined && hasUsableCertificate(this.#identity, this.#options.clock.now())) return renewalDueAtMs(certificateLifetime(certificatePem));
        return this.#credential !== undefined ? this.#options.clock.now() : undefined;
      },
      request: async () => {
        this.#renewalKey = newClientKey();
        return certificateRequest(privateKeyOf({ privateKeyPem: this.#renewalKey }), this.#options.clusterName);
      },
      renewed: async (renewed: CertificateRenewed) => {
        const key = this.#renewalKey;
        if (key === undefined) return;
        this.#renewalKey = undefined;
        this.#identity = { privateKeyPem: key, certificatePem: renewed.clientCertificatePem, caBundlePem: renewed.caBundlePem || this.#identity?.caBundlePem };
        await this.#storeIdentity(this.#identity, 'received a renewed client certificate');
      },
    };
  }

  async #runSession(client: AgentServiceClient, token: string | undefined, csrDer: Uint8Array | undefined): Promise<SessionOutcome> {
    const session = new GrpcSession({
      client,
      token,
      csrDer,
      renewal: this.#renewal(),
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
    const identity = this.#identity;
    if (welcome.clientCertificatePem !== '' && identity !== undefined && welcome.clientCertificatePem !== identity.certificatePem) {
      this.#identity = { privateKeyPem: identity.privateKeyPem, certificatePem: welcome.clientCertificatePem, caBundlePem: welcome.caBundlePem || undefined };
      await this.#storeIdentity(this.#identity, 'enrolled a client certificate');
      return;
    }
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
