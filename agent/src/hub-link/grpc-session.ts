import type { DriverCapabilities } from '../driver/cluster-driver.js';
import * as grpc from '@grpc/grpc-js';
import {
  ConnectRequestSchema,
  DEFAULT_REASSEMBLY_LIMITS,
  ManifestReassembler,
  PROTOCOL_VERSION,
  RenewCertificateSchema,
  create,
  truncateText,
  type ConnectRequest,
  type CertificateRenewed,
  type ConnectResponse,
  type DesiredApp,
  type ReassemblyEvent,
  type Refusal,
  type TrustUpdate,
  type Welcome,
} from '@flotilla/proto';
import type { AgentServiceClient } from '@flotilla/proto/grpc';
import type { Clock, Timer } from '../clock.js';
import type { ReportContent } from '../core/health/index.js';
import type { Logger } from '../log.js';
import { ackMessage, heartbeatMessage, helloMessage, inventoryMessage, reportMessage, type RequestMessage } from './agent-messages.js';
import type { HubLinkHandler } from './hub-link.js';

/** Settings of one {@link GrpcSession}. */
export interface GrpcSessionOptions {
  readonly client: AgentServiceClient;
  /** Sent as `authorization: Bearer <token>`; never logged. Undefined when the client certificate authenticates. */
  readonly token: string | undefined;
  /** A CSR sent in Hello with a bootstrap token, to enroll a client certificate (empty: none). */
  readonly csrDer?: Uint8Array | undefined;
  /** Certificate renewal over this stream; undefined when the link does not renew. */
  readonly renewal?: SessionRenewal | undefined;
  readonly handler: HubLinkHandler;
  readonly clock: Clock;
  readonly log: Logger;
  readonly clusterName: string;
  readonly agentVersion: string;
  /** The cluster's capabilities for Hello, as last discovered (undefined: none known yet). */
  readonly capabilities?: (() => DriverCapabilities | undefined) | undefined;
  /** How long to wait for Welcome before giving up on this stream. */
  readonly welcomeTimeoutMs: number;
  /** Intervals used when Welcome leaves them at 0. */
  readonly defaultHeartbeatMs: number;
  readonly defaultInventoryMs: number;
  /** Called with Welcome before any later message is processed (the link stores the credential here). */
  readonly onWelcome: (welcome: Welcome) => Promise<void>;
}

/** How a session renews the client certificate: when, with what request, and what to do with the answer. */
export interface SessionRenewal {
  /** When to ask, ms since the epoch, read once Welcome is handled; undefined: not on this stream. */
  dueAtMs(): number | undefined;
  /** A CSR for a new key. */
  request(): Promise<Uint8Array>;
  /** Stores the renewed certificate; the session then ends so that the link reconnects with it. */
  renewed(renewed: CertificateRenewed): Promise<void>;
  /** Keeps the hub's CA bundle (sent in Welcome and TrustUpdate) for the next connections. */
  trusted(caBundlePem: string): Promise<void>;
}

/** How a session ended. */
export interface SessionOutcome {
  readonly welcomed: boolean;
  /** The session ended because it renewed the client certificate: reconnect at once. */
  readonly renewed: boolean;
  readonly refusal: Refusal | undefined;
  readonly reason: string;
  readonly durationMs: number;
}

// Flow control: stop reading from the hub while this many messages wait to be processed.
const PAUSE_BACKLOG = 64;
const RESUME_BACKLOG = 8;
/** The longest delay a Node timer takes (about 24.8 days); longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;


/**
 * One Connect stream, from Hello to its end. Hub messages are processed strictly one after another,
 * so that Welcome (and its credential) is handled before any DesiredApp, and acks leave in order.
 * Every timer belongs to the session and is cancelled when it ends.
 */
export class GrpcSession {
  readonly #options: GrpcSessionOptions;
  readonly #timers = new Set<Timer>();
  readonly #startedAt: number;
  #call: grpc.ClientDuplexStream<ConnectRequest, ConnectResponse> | undefined;
  #resolve: ((outcome: SessionOutcome) => void) | undefined;
  #inbox: Promise<void> = Promise.resolve();
  #backlog = 0;
  #paused = false;
  #welcomed = false;
  #renewalRequested = false;
  #ended = false;
  #closeReason: string | undefined;
  #refusal: Refusal | undefined;
  #renewed = false;
  #unsubscribeReports: (() => void) | undefined;
  /** Joins big DesiredApps sent in chunks: one App in flight, bounded in bytes and time. */
  readonly #reassembler = new ManifestReassembler(DEFAULT_REASSEMBLY_LIMITS);

  constructor(options: GrpcSessionOptions) {
    this.#options = options;
    this.#startedAt = options.clock.now();
  }

  /** True between Welcome and the end of the stream. */
  get isWelcomed(): boolean {
    return this.#welcomed && !this.#ended;
  }

  /** Opens the stream, sends Hello, and resolves when the stream has ended for any reason. */
  run(): Promise<SessionOutcome> {
    const { client, token, handler } = this.#options;
    return new Promise<SessionOutcome>((resolve) => {
      this.#resolve = resolve;
      const metadata = new grpc.Metadata();
      if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
      const call = client.connect(metadata);
      this.#call = call;
      call.on('data', (message: ConnectResponse) => this.#receive(message));
      // grpc-js always ends a call with 'status'; 'error' comes with it for non-OK codes.
      call.on('error', (error: grpc.ServiceError) => this.#finish(`stream failed: ${grpc.status[error.code] ?? error.code} ${error.details}`));
      call.on('status', (status: grpc.StatusObject) => this.#finish(`stream closed: ${grpc.status[status.code] ?? status.code} ${status.details}`));
      this.#after(this.#options.welcomeTimeoutMs, () => this.close(`no Welcome within ${this.#options.welcomeTimeoutMs} ms`));
      this.#send(helloMessage(this.#options.clusterName, this.#options.agentVersion, handler, true, this.#options.csrDer, this.#options.capabilities?.()));
    });
  }

  /** Ends the stream from the agent's side; `run` then resolves with `reason`. */
  close(reason: string): void {
    if (this.#ended) return;
    this.#closeReason ??= reason;
    if (this.#call === undefined) {
      this.#finish(reason);
      return;
    }
    this.#call.end();
    this.#call.cancel();
  }

  #receive(message: ConnectResponse): void {
    if (this.#ended) return;
    this.#backlog += 1;
    if (this.#backlog >= PAUSE_BACKLOG && !this.#paused) {
      this.#paused = true;
      this.#call?.pause();
    }
    this.#inbox = this.#inbox
      .then(() => this.#dispatch(message))
      .catch((error: unknown) => this.#options.log.error('failed to process a hub message', { error }))
      .finally(() => {
        this.#backlog -= 1;
        if (this.#paused && this.#backlog <= RESUME_BACKLOG) {
          this.#paused = false;
          this.#call?.resume();
        }
      });
  }

  async #dispatch(message: ConnectResponse): Promise<void> {
    // Messages still queued when the stream ends are dropped: they cannot be acked, and the hub
    // resends whatever differs after the next Hello.
    if (this.#ended) return;
    const { handler, log } = this.#options;
    const inner = message.message;
    switch (inner.case) {
      case 'welcome':
        return this.#onWelcome(inner.value);
      case 'desiredApp':
        return this.#onDesiredApp(inner.value);
      case 'desiredAppHeader':
        this.#afterReassembly(this.#reassembler.header(inner.value, this.#options.clock.now()));
        // Checked once the timeout has passed, in case the rest never comes (a later chunk checks too).
        this.#after(DEFAULT_REASSEMBLY_LIMITS.timeoutMs + 1, () => this.#afterReassembly(this.#reassembler.expire(this.#options.clock.now())));
        return;
      case 'manifestChunk':
        return this.#afterReassembly(this.#reassembler.chunk(inner.value, this.#options.clock.now()));
      case 'removeApp':
        return handler.handleRemoveApp(inner.value, (ack) => this.#send(ackMessage(ack)));
      case 'certificateRenewed':
        return this.#onRenewed(inner.value);
      case 'trustUpdate':
        return this.#onTrustUpdate(inner.value);
      case 'refusal':
        this.#refusal = inner.value;
        log.warn('hub refused the connection', {
          code: truncateText(inner.value.code, 64),
          reason: truncateText(inner.value.message, 512),
          retryable: inner.value.retryable,
        });
        this.close(`refused by the hub: ${truncateText(inner.value.code, 64)}`);
        return;
      case undefined:
        log.warn('ignoring a hub message of an unknown kind (is the hub newer than this agent?)');
        return;
    }
  }

  #onDesiredApp(app: DesiredApp): Promise<void> {
    return this.#options.handler.handleDesiredApp(app, (ack) => this.#send(ackMessage(ack)));
  }

  /**
   * A complete chunked App is handled like any DesiredApp (which verifies it by its revision). A dropped
   * one is only logged: the hub sends it again after the next Inventory or reconnect.
   */
  #afterReassembly(event: ReassemblyEvent | undefined): Promise<void> | undefined {
    if (event === undefined) return undefined;
    const log = this.#options.log;
    switch (event.kind) {
      case 'complete':
        return this.#onDesiredApp(event.app);
      case 'pending':
        if (event.abandoned !== undefined) log.warn('dropped an App whose chunks were cut short by the next App', { app: truncateText(event.abandoned, 63) });
        return undefined;
      case 'dropped':
        log.warn('dropped a chunked App', { app: truncateText(event.appName, 63), reason: truncateText(event.reason, 512) });
        return undefined;
    }
  }

  async #onWelcome(welcome: Welcome): Promise<void> {
    const { log, handler } = this.#options;
    if (this.#welcomed) {
      log.warn('ignoring a second Welcome on the same stream');
      return;
    }
    if (welcome.protocolVersion !== PROTOCOL_VERSION) {
      log.error('hub speaks another protocol version', { hubProtocolVersion: welcome.protocolVersion, agentProtocolVersion: PROTOCOL_VERSION });
      this.close('protocol version mismatch');
      return;
    }
    if (welcome.clusterName !== '' && welcome.clusterName !== this.#options.clusterName) {
      log.warn('hub welcomed a different cluster name', { welcomedAs: truncateText(welcome.clusterName, 64) });
    }
    await this.#options.onWelcome(welcome);
    if (this.#ended) return;
    this.#welcomed = true;
    this.#clearTimers();
    log.info('agent connected', { cluster: this.#options.clusterName });

    const heartbeatMs = welcome.heartbeatIntervalSeconds > 0 ? welcome.heartbeatIntervalSeconds * 1000 : this.#options.defaultHeartbeatMs;
    const inventoryMs = welcome.inventoryIntervalSeconds > 0 ? welcome.inventoryIntervalSeconds * 1000 : this.#options.defaultInventoryMs;
    this.#every(heartbeatMs, () => this.#send(heartbeatMessage(this.#options.clock.now())));
    this.#every(inventoryMs, () => this.#send(inventoryMessage(handler)));
    // Subscribe before the catch-up so that no change between the two is missed.
    this.#unsubscribeReports = handler.onReport((report) => this.#sendReport(report));
    for (const report of handler.currentReports()) this.#sendReport(report);
    if (welcome.renewCertificate) {
      log.info('the hub asks for a certificate from its new CA');
      this.#requestRenewal();
      return;
    }
    const dueAtMs = this.#options.renewal?.dueAtMs();
    if (dueAtMs !== undefined) this.#renewAt(dueAtMs);
  }

  /** The hub's CAs changed (a rotation started or ended): keep the bundle, and renew now when asked. */
  async #onTrustUpdate(update: TrustUpdate): Promise<void> {
    const renewal = this.#options.renewal;
    if (renewal === undefined || update.caBundlePem === '') return;
    await renewal.trusted(update.caBundlePem);
    this.#options.log.info('the hub sent a new CA bundle', { renewCertificate: update.renewCertificate });
    if (update.renewCertificate) this.#requestRenewal();
  }

  /** Asks for a new certificate at `dueAtMs` (chaining timers past Node's longest delay); once per stream. */
  #renewAt(dueAtMs: number): void {
    const delayMs = dueAtMs - this.#options.clock.now();
    if (delayMs > MAX_TIMER_MS) {
      this.#after(MAX_TIMER_MS, () => this.#renewAt(dueAtMs));
      return;
    }
    this.#after(Math.max(0, delayMs), () => this.#requestRenewal());
  }

  /** Sends one certificate request on this stream (a due renewal and a hub's request do not make two). */
  #requestRenewal(): void {
    const renewal = this.#options.renewal;
    if (renewal === undefined || this.#renewalRequested || this.#ended) return;
    this.#renewalRequested = true;
    renewal.request().then(
      (csrDer) => {
        this.#options.log.info('renewing the client certificate');
        this.#send({ case: 'renewCertificate', value: create(RenewCertificateSchema, { csrDer }) });
      },
      (error: unknown) => this.#options.log.error('could not make a certificate request', { error }),
    );
  }

  async #onRenewed(renewed: CertificateRenewed): Promise<void> {
    const renewal = this.#options.renewal;
    if (renewal === undefined || renewed.clientCertificatePem === '') return;
    await renewal.renewed(renewed);
    this.#renewed = true;
    // The reconciler keeps running; the next stream presents the new certificate and the hub resyncs by inventory.
    this.close('client certificate renewed; reconnecting with it');
  }

  #sendReport(report: ReportContent): void {
    if (!this.#welcomed) return;
    this.#send(reportMessage(report));
  }

  // Writes are not awaited: what can be buffered is bounded by the Apps held (one report and one ack
  // per App at most per change), and keepalive ends a stream whose peer stopped reading.
  #send(message: RequestMessage): void {
    const call = this.#call;
    if (this.#ended || call === undefined || !call.writable) return;
    call.write(create(ConnectRequestSchema, { message }));
  }

  #after(delayMs: number, callback: () => void): void {
    const timer = this.#options.clock.setTimer(() => {
      this.#timers.delete(timer);
      if (!this.#ended) callback();
    }, delayMs);
    this.#timers.add(timer);
  }

  #every(intervalMs: number, callback: () => void): void {
    this.#after(intervalMs, () => {
      callback();
      this.#every(intervalMs, callback);
    });
  }

  #clearTimers(): void {
    for (const timer of this.#timers) timer.cancel();
    this.#timers.clear();
  }

  #finish(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#clearTimers();
    this.#unsubscribeReports?.();
    this.#reassembler.reset();
    this.#call?.cancel();
    this.#resolve?.({
      welcomed: this.#welcomed,
      renewed: this.#renewed,
      refusal: this.#refusal,
      reason: this.#closeReason ?? reason,
      durationMs: this.#options.clock.now() - this.#startedAt,
    });
  }
}
