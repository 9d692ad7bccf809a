import { readFile } from 'node:fs/promises';
import { ConnectRequestSchema, fromBinary, type ConnectRequest } from '@flotilla/proto';
import {
  AckPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, credsAuthenticator, jwtAuthenticator, nanos, type NatsConnection } from '@nats-io/transport-node';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HUB_CONFIG, type HubConfig, type NatsConfig } from '../config/hub-config';
import { Metrics } from '../observability/metrics';
import { NatsTrust } from '../nats-trust/nats-trust.service';
import { DesiredKv } from './desired-kv';
import { chunkBytesFor, clusterOfReportsSubject, isKeyToken } from './kv-layout';
import { NatsInbox } from './nats-inbox';
import { OutboxRelay } from './outbox-relay.service';

/** The durable consumer every hub replica reads agent messages from (each message reaches one replica). */
export const REPORTS_CONSUMER = 'flotilla-hub';
/** Messages handled at once per replica; messages of one cluster are handled in arrival order. */
const MAX_IN_FLIGHT = 32;
const ACK_WAIT_MS = 15_000;
/** Redeliveries of a message that keeps failing, before JetStream drops it. */
const MAX_DELIVER = 50;
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 30_000;
/**
 * Agent messages are level-based and re-sent after every Welcome, so old ones are expendable: the
 * stream keeps a day of them, at most this many per cluster, dropping the oldest.
 */
const REPORTS_MAX_AGE_MS = 24 * 3600 * 1000;
const REPORTS_MAX_PER_CLUSTER = 10_000;

/**
 * The NATS JetStream agent link of the hub (enabled by FLOTILLA_NATS_URL): connects (and keeps
 * reconnecting), makes sure the desired-state KV bucket, the reports stream and the shared durable
 * consumer exist, hands the bucket to the outbox relay, and consumes agent messages into
 * {@link NatsInbox}. Several replicas may run it against one NATS and one database.
 */
@Injectable()
export class NatsLink implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('AgentLink(NATS)');
  private connection: NatsConnection | undefined;
  private kv: DesiredKv | undefined;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private stopped = false;
  private connected = false;
  private inFlight = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    private readonly inbox: NatsInbox,
    private readonly relay: OutboxRelay,
    private readonly metrics: Metrics,
    private readonly trust: NatsTrust,
  ) {}

  onApplicationBootstrap(): void {
    const nats = this.config.nats;
    if (!nats) return;
    this.loop = this.run(nats);
    this.sweepTimer = setInterval(() => {
      if (this.connected) void this.inbox.sweep().catch((error: unknown) => this.log.warn(`presence sweep failed: ${describe(error)}`));
    }, this.config.heartbeatIntervalSeconds * 1000);
    this.sweepTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    this.wake?.();
    this.relay.attachKv(undefined);
    this.messages?.stop();
    await this.loop;
    await Promise.allSettled([...this.chains.values()]);
    await this.connection?.close().catch(() => undefined);
  }

  /**
   * Forgets a deregistered cluster: its keys leave the KV bucket, so nothing desired remains for its
   * agent, and this replica stops resolving its name. Other replicas stop within their name cache's
   * lifetime. Without a NATS link there is nothing to do; a failure is logged, not thrown (the cluster
   * is already gone from the database). With FLOTILLA_NATS_OPERATOR=true the cluster's NATS users are
   * revoked (the server drops their connections); otherwise the operator removes its hand-written user.
   */
  async forgetCluster(name: string): Promise<void> {
    this.inbox.forget(name);
    if (!this.config.nats || !isKeyToken(name)) return;
    if (this.trust.operatorAuth) await this.trust.revokeAgentCredentials(name).catch((error: unknown) => this.log.warn(`revoking the NATS users of ${name} failed: ${describe(error)}`));
    const kv = this.kv;
    if (!kv || !this.connected) {
      this.log.warn(`NATS is not connected: the KV keys of deregistered cluster ${name} stay until purged (${name}.> in the bucket)`);
      return;
    }
    await kv.purgeCluster(name).catch((error: unknown) => this.log.warn(`purging the KV keys of deregistered cluster ${name} failed: ${describe(error)}`));
  }

  private async run(nats: NatsConfig): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      try {
        this.connection ??= await this.connect(nats);
        const jsm = await jetstreamManager(this.connection);
        this.kv = await this.ensureResources(this.connection, jsm, nats);
        this.relay.attachKv({ kv: this.kv, isReady: () => this.connected });
        attempt = 0;
        await this.consume(this.connection, nats);
      } catch (error) {
        if (!this.stopped) this.log.warn(`NATS agent link not ready: ${describe(error)}; retrying`);
      }
      if (this.connection?.isClosed()) {
        this.connection = undefined;
        this.connected = false;
        this.relay.attachKv(undefined);
      }
      if (this.stopped) break;
      await this.sleep(Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(attempt++, 10)));
    }
  }

  private async connect(nats: NatsConfig): Promise<NatsConnection> {
    const operator = nats.auth.kind === 'operator';
    const auth =
      nats.auth.kind === 'password'
        ? { user: nats.auth.user, pass: nats.auth.password }
        : nats.auth.kind === 'creds'
          ? { authenticator: credsAuthenticator(await readFile(nats.auth.file)) }
          : operator
            ? await this.trust.hubUser().then(({ jwt, seed }) => ({ authenticator: jwtAuthenticator(jwt, seed) }))
            : {};
    // Revocations first: a server restarted with a memory resolver has forgotten them.
    if (operator) await this.trust.pushAccount();
    const connection = await connect({
      ...this.trust.connectionOptions(),
      ...auth,
      name: `flotilla-hub ${this.config.replicaId}`,
      // After the first connect the client reconnects by itself, forever; consumers resume on their own.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      pingInterval: 20_000,
      timeout: 5000,
    });
    this.connected = true;
    this.log.log(`agent link (NATS) connected to ${connection.getServer()}`);
    if (operator) this.trust.serve(connection);
    void (async () => {
      for await (const status of connection.status()) {
        if (status.type === 'disconnect') {
          this.connected = false;
          this.log.warn('NATS connection lost; reconnecting');
        } else if (status.type === 'reconnect') {
          this.connected = true;
          this.log.log(`NATS connection back (${connection.getServer()})`);
          this.relay.wake();
          if (operator) void this.trust.pushAccount().catch((error: unknown) => this.log.warn(`pushing the account update to NATS failed: ${describe(error)}`));
        }
      }
    })();
    return connection;
  }

  /**
   * Creates what is missing: the KV bucket (history 1: only the latest value of a key matters), the
   * reports stream (work queue: a message is gone once a replica acked it) and the durable consumer.
   * Existing ones are used as they are, so an operator may create them with more replicas.
   */
  private async ensureResources(connection: NatsConnection, jsm: JetStreamManager, nats: NatsConfig): Promise<DesiredKv> {
    const kvm = new Kvm(jetstream(connection));
    await kvm.create(nats.kvBucket, { history: 1, storage: StorageType.File, description: 'Flotilla desired state, keyed <cluster>.<app>' });
    const stream = {
      name: nats.reportsStream,
      subjects: ['reports.>'],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(REPORTS_MAX_AGE_MS),
      max_msgs_per_subject: REPORTS_MAX_PER_CLUSTER,
      description: 'Flotilla agent messages (reports.<cluster>)',
    };
    await jsm.streams.info(nats.reportsStream).catch(async (error: unknown) => {
      if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)) throw error;
      await jsm.streams.add(stream);
    });
    const consumer = {
      durable_name: REPORTS_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      // A replica killed mid-batch holds its messages this long before another replica gets them.
      ack_wait: nanos(ACK_WAIT_MS),
      max_deliver: MAX_DELIVER,
      max_ack_pending: 1000,
      filter_subject: 'reports.>',
    };
    await jsm.consumers.add(nats.reportsStream, consumer).catch(async (error: unknown) => {
      // It exists with other settings (an older hub made it, or an operator did): keep it as it is.
      if (!(error instanceof JetStreamApiError)) throw error;
      await jsm.consumers.info(nats.reportsStream, REPORTS_CONSUMER);
      this.log.warn(`the durable consumer ${REPORTS_CONSUMER} exists with other settings (${error.message}); using it as it is`);
    });
    return new DesiredKv(jetstream(connection), jsm, nats.kvBucket, chunkBytesFor(connection.info?.max_payload ?? 1024 * 1024));
  }

  /** Reads agent messages until the consumer goes away (it is then re-created) or the hub stops. */
  private async consume(connection: NatsConnection, nats: NatsConfig): Promise<void> {
    const consumer = await jetstream(connection).consumers.get(nats.reportsStream, REPORTS_CONSUMER);
    const messages = await consumer.consume({ max_messages: MAX_IN_FLIGHT, abort_on_missing_resource: true });
    this.messages = messages;
    this.log.log(`agent link (NATS) consuming ${nats.reportsStream} as ${REPORTS_CONSUMER}, desired state in KV bucket ${nats.kvBucket}`);
    try {
      for await (const message of messages) {
        if (this.stopped) break;
        await this.dispatch(message);
      }
    } finally {
      this.messages = undefined;
    }
  }

  /** Queues a message behind the earlier ones of its cluster, waiting for a free slot first. */
  private async dispatch(message: JsMsg): Promise<void> {
    while (this.inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    this.inFlight++;
    const cluster = clusterOfReportsSubject(message.subject) ?? '';
    const done = (this.chains.get(cluster) ?? Promise.resolve())
      .then(() => this.process(message, cluster))
      .finally(() => {
        this.inFlight--;
        this.slotWaiters.shift()?.();
        if (this.chains.get(cluster) === done) this.chains.delete(cluster);
      });
    this.chains.set(cluster, done);
  }

  private async process(message: JsMsg, cluster: string): Promise<void> {
    const kv = this.kv;
    if (!kv || this.stopped) return message.nak(RETRY_BASE_MS);
    let request: ConnectRequest;
    try {
      if (cluster === '') throw new Error(`unexpected subject ${message.subject}`);
      request = fromBinary(ConnectRequestSchema, message.data, { readUnknownFields: false });
    } catch (error) {
      // Retrying cannot fix a malformed message: drop it, count it, keep going.
      this.metrics.refusedStreams.inc({ reason: 'MALFORMED' });
      this.log.warn(`dropped a malformed agent message on ${message.subject.slice(0, 80)}: ${describe(error)}`);
      return message.term();
    }
    try {
      await this.inbox.handle(kv, cluster, request, message.time);
      message.ack();
    } catch (error) {
      const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(message.info.deliveryCount, 10));
      this.log.warn(`agent message of ${cluster} failed (redelivered in ${delay} ms): ${describe(error)}`);
      message.nak(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => (this.wake = undefined));
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
