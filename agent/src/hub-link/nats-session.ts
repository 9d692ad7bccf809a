import type { DriverCapabilities } from '../driver/cluster-driver.js';
import { readFile } from 'node:fs/promises';
import {
  ConnectRequestSchema,
  PROTOCOL_VERSION,
  create,
  toBinary,
  truncateText,
  type ConnectResponse,
  type Refusal,
} from '@flotilla/proto';
import { DeliverPolicy, jetstream, type ConsumerMessages, type JetStreamClient } from '@nats-io/jetstream';
import { connect, credsAuthenticator, jwtAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import type { Clock, Timer } from '../clock.js';
import type { NatsAuthConfig } from '../core/transport-config.js';
import type { AckContent } from '../core/desired-state.js';
import { ackMessage, heartbeatMessage, helloMessage, inventoryMessage, reportMessage, type RequestMessage } from './agent-messages.js';
import type { ReportContent } from '../core/health/index.js';
import type { Logger } from '../log.js';
import type { HubLinkHandler } from './hub-link.js';
import { DesiredEntries } from './nats-desired-entries.js';
import { renewAtMs, userJwtTimes } from '../core/nats-user-jwt.js';
import type { NatsIdentity } from './nats-identity.js';

/** Settings of one {@link NatsSession}. */
export interface NatsSessionOptions {
  readonly servers: readonly string[];
  /** Never logged. */
  readonly auth: NatsAuthConfig;
  readonly kvBucket: string;
  readonly clusterName: string;
  readonly agentVersion: string;
  /** The cluster's capabilities for Hello, as last discovered (undefined: none known yet). */
  readonly capabilities?: (() => DriverCapabilities | undefined) | undefined;
  readonly handler: HubLinkHandler;
  readonly clock: Clock;
  readonly log: Logger;
  readonly connectTimeoutMs: number;
  /** How long a publish may wait for JetStream's acknowledgement before the session is given up. */
  readonly publishTimeoutMs: number;
  /** Intervals used until a Welcome names others. */
  readonly defaultHeartbeatMs: number;
  readonly defaultInventoryMs: number;
  /** With `auth.kind === 'operator'`: the enrolled identity the session connects as and renews. */
  readonly identity?: NatsIdentity;
  /** PEM file of the CA the server's certificate is verified with. */
  readonly caFile?: string;
}

/** The reason of a session the agent ended to reconnect with its renewed NATS user JWT. */
export const RENEWED_REASON = 'NATS user JWT renewed; reconnecting with it';

/** How a session ended. */
export interface NatsSessionOutcome {
  /** True when the watch and Hello were up (the backoff then starts over). */
  readonly established: boolean;
  readonly refusal: Refusal | undefined;
  readonly reason: string;
  readonly durationMs: number;
}


/** Messages waiting for NATS before the session is considered stuck and ended. */
const MAX_QUEUED = 10_000;

/**
 * One NATS connection, from connect to its end: watches the cluster's keys of the desired-state KV
 * bucket (an ordered consumer that first delivers the latest value of every key, then each update),
 * publishes Hello, acks, reports, heartbeats and inventories on `reports.<cluster>`, and ends on any
 * connection or publish failure so that the link reconnects and the next watch resyncs everything.
 * Entries are handled strictly one after another; the watch waits while one is being handled.
 */
export class NatsSession {
  readonly #options: NatsSessionOptions;
  readonly #timers = new Set<Timer>();
  readonly #startedAt: number;
  readonly #subject: string;
  #connection: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #maxPayload = 1024 * 1024;
  #publishing: Promise<void> = Promise.resolve();
  #queued = 0;
  #established = false;
  #welcomed = false;
  #ended = false;
  #closeReason: string | undefined;
  #refusal: Refusal | undefined;
  #heartbeatMs: number;
  #inventoryMs: number;
  #inventoryTooLargeLogged = false;
  #unsubscribeReports: (() => void) | undefined;
  #renewalTimer: Timer | undefined;

  constructor(options: NatsSessionOptions) {
    this.#options = options;
    this.#startedAt = options.clock.now();
    this.#subject = `reports.${options.clusterName}`;
    this.#heartbeatMs = options.defaultHeartbeatMs;
    this.#inventoryMs = options.defaultInventoryMs;
  }

  /** True while the session runs and the latest entry of `<cluster>._welcome` is a Welcome. */
  get isWelcomed(): boolean {
    return this.#welcomed && !this.#ended;
  }

  /** Connects, watches and runs until the connection ends or {@link close} is called. Never rejects. */
  async run(): Promise<NatsSessionOutcome> {
    const { log, clusterName, kvBucket, handler } = this.#options;
    try {
      this.#connection = await this.#connect();
    } catch (error) {
      return this.#outcome(`cannot connect to NATS: ${describe(error)}`);
    }
    const connection = this.#connection;
    try {
      if (this.#ended) return this.#outcome(this.#closeReason ?? 'closed');
      this.#maxPayload = connection.info?.max_payload ?? this.#maxPayload;
      this.#js = jetstream(connection);
      const entries = new DesiredEntries(kvBucket, clusterName);
      let watch: ConsumerMessages;
      try {
        const consumer = await this.#js.consumers.getPushConsumer(`KV_${kvBucket}`, {
          filter_subjects: DesiredEntries.filter(kvBucket, clusterName),
          deliver_policy: DeliverPolicy.LastPerSubject,
        });
        watch = await consumer.consume();
      } catch (error) {
        return this.#outcome(`cannot watch the desired state: ${describe(error)}`);
      }
      this.#established = true;
      log.debug('watching the desired state over NATS', { cluster: clusterName, bucket: kvBucket });
      this.#unsubscribeReports = handler.onReport((report) => this.#sendReport(report));
      this.#sendHello();
      this.#armTimers();
      this.#scheduleRenewal(connection);
      // Closing the connection ends the watch; a failed publish closes the connection.
      void connection.closed().then(() => watch.stop());
      try {
        for await (const message of watch) {
          if (this.#ended) break;
          await this.#handle(entries, { subject: message.subject, headers: message.headers, data: message.data });
        }
      } catch (error) {
        return this.#outcome(`the desired-state watch failed: ${describe(error)}`);
      }
      return this.#outcome(this.#closeReason ?? 'NATS connection closed');
    } finally {
      this.#ended = true;
      this.#clearTimers();
      this.#renewalTimer?.cancel();
      this.#unsubscribeReports?.();
      await connection.close().catch(() => undefined);
    }
  }

  /** Ends the session from the agent's side; `run` then resolves with `reason`. */
  close(reason: string): void {
    if (this.#ended) return;
    this.#closeReason ??= reason;
    this.#ended = true;
    void this.#connection?.close().catch(() => undefined);
  }

  async #connect(): Promise<NatsConnection> {
    const { auth, servers, clusterName, connectTimeoutMs, identity, caFile } = this.#options;
    const enrolled = auth.kind === 'operator' ? identity?.current : undefined;
    if (auth.kind === 'operator' && enrolled === undefined) throw new Error('no enrolled NATS identity');
    const credentials =
      auth.kind === 'password'
        ? { user: auth.user, pass: auth.password }
        : auth.kind === 'creds'
          ? // Read at every connect, so that a rotated creds file is picked up without a restart.
            { authenticator: credsAuthenticator(await readFile(auth.file)) }
          : enrolled !== undefined
            ? { authenticator: jwtAuthenticator(enrolled.jwt, new TextEncoder().encode(enrolled.seed)) }
            : {};
    return connect({
      servers: [...servers],
      ...(caFile !== undefined ? { tls: { caFile } } : {}),
      ...credentials,
      name: `flotilla-agent ${clusterName}`,
      // The server only lets this cluster's user subscribe under its own inbox prefix (see docs/nats).
      inboxPrefix: `_INBOX_${clusterName}`,
      // One connection per session: the link reconnects with its own backoff and a fresh watch.
      reconnect: false,
      timeout: connectTimeoutMs,
      pingInterval: 15_000,
      maxPingOut: 2,
    });
  }

  async #handle(entries: DesiredEntries, entry: { subject: string; headers: { get(name: string): string } | undefined; data: Uint8Array }): Promise<void> {
    const { handler, log } = this.#options;
    const event = entries.accept(entry, this.#options.clock.now());
    const sendAck = (ack: AckContent) => this.#send(ackMessage(ack));
    switch (event.kind) {
      case 'desiredApp':
        return handler.handleDesiredApp(event.message, sendAck);
      case 'removeApp':
        return handler.handleRemoveApp(event.message, sendAck);
      case 'welcome':
        return this.#onWelcome(event.message);
      case 'ignored':
        log.warn('ignoring a desired-state entry', { reason: truncateText(event.reason, 256) });
        return;
      case 'pending':
      case 'deleted':
        return;
    }
  }

  #onWelcome(message: ConnectResponse): void {
    const { log, handler, clusterName } = this.#options;
    const inner = message.message;
    if (inner.case === 'refusal') {
      this.#welcomed = false;
      this.#refusal = inner.value;
      log.warn('hub refused this agent', { code: truncateText(inner.value.code, 64), reason: truncateText(inner.value.message, 512), retryable: inner.value.retryable });
      return;
    }
    if (inner.case !== 'welcome') return;
    const welcome = inner.value;
    if (welcome.protocolVersion !== PROTOCOL_VERSION) {
      this.#welcomed = false;
      log.error('hub speaks another protocol version', { hubProtocolVersion: welcome.protocolVersion, agentProtocolVersion: PROTOCOL_VERSION });
      return;
    }
    if (!this.#welcomed) log.info('agent connected', { cluster: clusterName, transport: 'nats' });
    this.#welcomed = true;
    this.#refusal = undefined;
    const heartbeatMs = welcome.heartbeatIntervalSeconds > 0 ? welcome.heartbeatIntervalSeconds * 1000 : this.#options.defaultHeartbeatMs;
    const inventoryMs = welcome.inventoryIntervalSeconds > 0 ? welcome.inventoryIntervalSeconds * 1000 : this.#options.defaultInventoryMs;
    if (heartbeatMs !== this.#heartbeatMs || inventoryMs !== this.#inventoryMs) {
      this.#heartbeatMs = heartbeatMs;
      this.#inventoryMs = inventoryMs;
      this.#armTimers();
    }
    // Each Welcome means a hub (re)gained sight of this agent: it gets every current report again,
    // since reports published while no hub was reading may have expired.
    for (const report of handler.currentReports()) this.#sendReport(report);
  }

  #sendHello(): void {
    const { clusterName, agentVersion, handler, log } = this.#options;
    const capabilities = this.#options.capabilities?.();
    const hello = helloMessage(clusterName, agentVersion, handler, true, undefined, capabilities);
    if (this.#fits(hello)) return this.#send(hello);
    // Without an inventory the hub skips the resync; the watch has delivered every key anyway.
    log.error('the inventory is larger than one NATS message; Hello goes without it and anti-entropy is off', { maxPayload: this.#maxPayload });
    this.#send(helloMessage(clusterName, agentVersion, handler, false, undefined, capabilities));
  }

  #sendInventory(): void {
    const inventory = inventoryMessage(this.#options.handler);
    if (this.#fits(inventory)) return this.#send(inventory);
    if (!this.#inventoryTooLargeLogged) {
      this.#inventoryTooLargeLogged = true;
      this.#options.log.error('the inventory is larger than one NATS message and is not sent; raise max_payload on the NATS server', { maxPayload: this.#maxPayload });
    }
  }

  #sendReport(report: ReportContent): void {
    const message = reportMessage(report);
    if (this.#fits(message)) return this.#send(message);
    this.#options.log.error('a report is larger than one NATS message and is not sent', { app: report.appName, maxPayload: this.#maxPayload });
  }

  #fits(message: RequestMessage): boolean {
    return toBinary(ConnectRequestSchema, create(ConnectRequestSchema, { message })).length <= this.#maxPayload;
  }

  /**
   * Publishes in order, one at a time, each confirmed by JetStream. A failure ends the session: what
   * was lost is re-sent after the reconnect (the watch redelivers every key, so acks come again).
   */
  #send(message: RequestMessage): void {
    const js = this.#js;
    if (this.#ended || js === undefined) return;
    if (this.#queued >= MAX_QUEUED) {
      this.close(`more than ${MAX_QUEUED} messages wait for NATS`);
      return;
    }
    const bytes = toBinary(ConnectRequestSchema, create(ConnectRequestSchema, { message }));
    this.#queued += 1;
    this.#publishing = this.#publishing
      .then(async () => {
        if (this.#ended) return;
        await js.publish(this.#subject, bytes, { timeout: this.#options.publishTimeoutMs });
      })
      .catch((error: unknown) => this.close(`publish failed: ${describe(error)}`))
      .finally(() => {
        this.#queued -= 1;
      });
  }

  /**
   * Renews the NATS user JWT at two thirds of its lifetime over this connection, then ends the
   * session so that the link reconnects with the new JWT at once (a server cannot swap the JWT of an
   * open connection). The next watch redelivers every key; the reconciler acks what it already holds
   * without applying it again. A failed renewal is retried while the current JWT lasts.
   */
  #scheduleRenewal(connection: NatsConnection): void {
    const { identity, clock, log } = this.#options;
    const jwt = identity?.current?.jwt;
    const times = jwt === undefined ? undefined : userJwtTimes(jwt);
    const at = times === undefined ? undefined : renewAtMs(times);
    if (identity === undefined || times?.expiresAtMs === undefined || at === undefined) return;
    const expiresAtMs = times.expiresAtMs;
    const attempt = (delayMs: number) => {
      this.#renewalTimer = clock.setTimer(() => {
        this.#renewalTimer = undefined;
        if (this.#ended) return;
        identity.renew(connection).then(
          () => this.close(RENEWED_REASON),
          (error: unknown) => {
            const retryMs = Math.max(1000, Math.floor((expiresAtMs - clock.now()) / 4));
            log.warn('renewing the NATS user JWT failed; retrying', { reason: describe(error), retryInMs: retryMs });
            if (!this.#ended) attempt(retryMs);
          },
        );
      }, delayMs);
    };
    attempt(Math.max(0, at - clock.now()));
  }

  #armTimers(): void {
    this.#clearTimers();
    const { clock } = this.#options;
    this.#every(this.#heartbeatMs, () => this.#send(heartbeatMessage(clock.now())));
    this.#every(this.#inventoryMs, () => this.#sendInventory());
  }

  #every(intervalMs: number, callback: () => void): void {
    const timer = this.#options.clock.setTimer(() => {
      this.#timers.delete(timer);
      if (this.#ended) return;
      callback();
      this.#every(intervalMs, callback);
    }, intervalMs);
    this.#timers.add(timer);
  }

  #clearTimers(): void {
    for (const timer of this.#timers) timer.cancel();
    this.#timers.clear();
  }

  #outcome(reason: string): NatsSessionOutcome {
    return {
      established: this.#established,
      refusal: this.#refusal,
      reason: this.#closeReason ?? reason,
      durationMs: this.#options.clock.now() - this.#startedAt,
    };
  }
}

function describe(error: unknown): string {
  return truncateText(error instanceof Error ? error.message : String(error), 512);
}
