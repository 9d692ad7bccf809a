import type { DriverCapabilities } from '../driver/cluster-driver.js';
import * as grpc from '@grpc/grpc-js';
import type { CertificateRenewed, Welcome } from '@flotilla/proto';
import { AgentServiceClient, GRPC_CHANNEL_OPTIONS } from '@flotilla/proto/grpc';
import type { Clock, Timer } from '../clock.js';
import { nextBackoffMs, type BackoffOptions } from '../core/backoff.js';
import type { Logger } from '../log.js';
import { certificateLifetime, certificateRequest, hasUsableCertificate, newClientKey, privateKeyOf, renewalDueAtMs, tokenFingerprint, type ClientIdentity } from './client-identity.js';
import { GrpcSession, type SessionOutcome, type SessionRenewal } from './grpc-session.js';
import type { HubLink, HubLinkHandler } from './hub-link.js';

/** Where the link stores the durable credential the hub hands out. */
export interface CredentialSink {
  write(credential: string): Promise<void>;
}

/** The PEM certificates of `pems`, each once, in order. */
function mergeCertificates(...pems: readonly (string | undefined)[]): string {
  const seen = new Set<string>();
  for (const pem of pems) {
    for (const block of (pem ?? '').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) seen.add(`${block.replace(/\r/g, '')}\n`);
  }
  return [...seen].join('');
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
  /** The cluster's capabilities for Hello, as last discovered (undefined: none known yet). */
  readonly capabilities?: (() => DriverCapabilities | undefined) | undefined;
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
 *
 * A stored certificate or credential that the hub refuses (UNAUTHENTICATED: a hub with a fresh
 * database, a re-registered cluster) while the agent holds a bootstrap token it has not used yet (not
 * the one its certificate was enrolled with, nor one refused since it started) is replaced: the link
 * enrolls with that token at once. A token is tried once this way; the stored identity is never
 * given up for a token the agent already spent.
 */
export class GrpcHubLink implements HubLink {
  readonly #options: GrpcHubLinkOptions;
  #credential: string | undefined;
  #identity: ClientIdentity | undefined;
  /** The key of a renewal in flight, kept until its certificate arrives. */
  #renewalKey: string | undefined;
  #client: AgentServiceClient | undefined;
  /** The client certificate #client presents ('' for none). */
  #channelKey = '';
  #session: GrpcSession | undefined;
  #loop: Promise<void> | undefined;
  #sleepTimer: Timer | undefined;
  #wake: (() => void) | undefined;
  #stopped = false;
  #stopping: Promise<void> | undefined;
  /** Set when the hub refused the stored identity and an unused bootstrap token replaces it. */
  #replaceIdentity = false;
  /** Fingerprints of bootstrap tokens the hub refused since the agent started. */
  readonly #refusedTokens = new Set<string>();
  /** The bootstrap token of the enrollment in flight, if any. */
  #enrollingWith: string | undefined;
  /** The new key of an enrollment that replaces a refused identity: stored with its certificate. */
  #replacementKey: string | undefined;

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

  /**
   * The channel for this attempt: a new one when the client certificate to present or the CAs to trust
   * changed. The hub is verified against the CA the agent was installed with plus the bundle the hub
   * sent over an earlier verified stream (so that a CA rotation reaches agents without a re-install).
   */
  #channel(certificate: (ClientIdentity & { certificatePem: string }) | undefined): AgentServiceClient {
    const { security } = this.#options;
    const trustPem = security.kind === 'tls' ? mergeCertificates(security.caPem, this.#identity?.caBundlePem) : '';
    const key = `${certificate?.certificatePem ?? ''}\n${trustPem}`;
    if (this.#client !== undefined && this.#channelKey === key) return this.#client;
    this.#client?.close();
    const credentials =
      security.kind === 'insecure'
        ? grpc.credentials.createInsecure()
        : certificate !== undefined
          ? grpc.credentials.createSsl(Buffer.from(trustPem, 'utf8'), Buffer.from(certificate.privateKeyPem, 'utf8'), Buffer.from(certificate.certificatePem, 'utf8'))
          : grpc.credentials.createSsl(Buffer.from(trustPem, 'utf8'));
    this.#channelKey = key;
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
      const replacing = this.#replaceIdentity;
      const certificate = !replacing && this.#usesCertificates && hasUsableCertificate(identity, this.#options.clock.now()) ? identity : undefined;
      const credential = replacing ? undefined : this.#credential;
      const token = certificate !== undefined ? undefined : (credential ?? this.#options.bootstrapToken);
      let delayMs: number;
      if (certificate === undefined && token === undefined) {
        log.error('no usable client certificate, no agent credential and no bootstrap token; set FLOTILLA_BOOTSTRAP_TOKEN');
        delayMs = reconnect.maxMs;
      } else {
        const stored = certificate !== undefined || credential !== undefined;
        log.debug('connecting to the hub', { address: this.#options.address, attempt, auth: certificate !== undefined ? 'client certificate' : credential !== undefined ? 'credential' : 'bootstrap token' });
        const enrolling = !stored && this.#usesCertificates;
        this.#enrollingWith = stored ? undefined : token;
        const outcome = await this.#runSession(this.#channel(certificate), token, enrolling ? await this.#enrollmentRequest(replacing) : undefined);
        this.#enrollingWith = undefined;
        this.#replacementKey = undefined;
        if (this.#stopped) break;
        if (outcome.welcomed || outcome.durationMs >= stableAfterMs) attempt = 0;
        const refused = !outcome.welcomed && outcome.refusal?.code === 'UNAUTHENTICATED';
        if (refused && !stored && token !== undefined) this.#refusedTokens.add(tokenFingerprint(token));
        // Until the token is welcomed (see #onWelcome) or refused, the replacement goes on.
        const replace = refused && stored && this.#hasUnusedBootstrapToken();
        if (replace) log.warn('the hub refused the stored agent identity; enrolling with the bootstrap token, which this agent has not used yet');
        if (replace || (refused && !stored)) this.#replaceIdentity = replace;
        delayMs = outcome.renewed || replace
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
   * True when a bootstrap token is configured that this agent has not used: not the one its stored
   * certificate was enrolled with, and not refused since it started.
   */
  #hasUnusedBootstrapToken(): boolean {
    const token = this.#options.bootstrapToken;
    if (token === undefined || token === '') return false;
    const fingerprint = tokenFingerprint(token);
    return this.#identity?.enrolledWith !== fingerprint && !this.#refusedTokens.has(fingerprint);
  }

  /**
   * A CSR for the key to enroll with the bootstrap token: the stored key, or a new one stored first
   * (if that write fails the key is kept in memory: the certificate then lasts until restart).
   *
   * When a refused identity is being replaced, the new key stays in memory and is stored with its
   * certificate: if the hub refuses the token too, the stored identity is left as it was (a crash
   * between the hub's answer and that write costs the token, as it would for a key stored first).
   */
  async #enrollmentRequest(replacing = false): Promise<Uint8Array> {
    if (replacing) {
      this.#replacementKey = newClientKey();
      return certificateRequest(privateKeyOf({ privateKeyPem: this.#replacementKey }), this.#options.clusterName);
    }
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
      trusted: (caBundlePem: string) => this.#keepBundle(caBundlePem),
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
      capabilities: this.#options.capabilities,
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
    const token = this.#enrollingWith;
    const replacementKey = this.#replacementKey;
    this.#replacementKey = undefined;
    // Welcomed: the stored identity, or the token that replaces it, was accepted.
    this.#replaceIdentity = false;
    const identity = replacementKey !== undefined ? { privateKeyPem: replacementKey, caBundlePem: this.#identity?.caBundlePem } : this.#identity;
    if (welcome.clientCertificatePem !== '' && identity !== undefined && welcome.clientCertificatePem !== identity.certificatePem) {
      this.#identity = {
        privateKeyPem: identity.privateKeyPem,
        certificatePem: welcome.clientCertificatePem,
        caBundlePem: welcome.caBundlePem || undefined,
        enrolledWith: token !== undefined ? tokenFingerprint(token) : identity.enrolledWith,
      };
      await this.#storeIdentity(this.#identity, 'enrolled a client certificate');
      return;
    }
    if (welcome.caBundlePem !== '') await this.#keepBundle(welcome.caBundlePem);
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

  /** Stores the hub's CA bundle with the client identity when it changed; used from the next connection. */
  async #keepBundle(caBundlePem: string): Promise<void> {
    const identity = this.#identity;
    if (identity === undefined || identity.caBundlePem === caBundlePem) return;
    this.#identity = { ...identity, caBundlePem };
    await this.#storeIdentity(this.#identity, "kept the hub's CA bundle");
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
