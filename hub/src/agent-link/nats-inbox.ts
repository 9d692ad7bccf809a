import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConnectRequest, Hello, Inventory } from '@flotilla/proto';
import { DataSource } from 'typeorm';
import { Clock } from '../clock';
import { ClustersService } from '../clusters/clusters.service';
import { HUB_CONFIG, NATS_PRESENCE, type HubConfig } from '../config/hub-config';
import { returnedRows } from '../database/sql';
import { Metrics } from '../observability/metrics';
import { AgentMessages } from './agent-messages.service';
import type { DesiredKv } from './desired-kv';
import { isKeyToken } from './kv-layout';

/** A cluster counts as connected while heard from within this many heartbeat intervals (as over gRPC). */
const CONNECTED_GRACE_INTERVALS = 3;
/** Largest generation, used to delete a removal whatever its generation. */
const ANY_GENERATION = 2n ** 63n - 1n;
/** Bound of the in-memory caches (cluster ids, last-seen writes); they are simply cleared when full. */
const MAX_CACHED_CLUSTERS = 100_000;

/**
 * Handles the messages agents publish on `reports.<cluster>`. The subject is the identity: the NATS
 * server only lets a cluster's user publish on its own subject (see docs/nats), so no token is checked
 * here. Presence has no stream to hold: a fresh Hello or heartbeat marks the cluster connected
 * (`connected_replica = 'nats'`, shared by every replica), and {@link sweep} disconnects clusters not
 * heard from within three heartbeat intervals.
 *
 * Every step is idempotent (the consumer is shared by all replicas and redelivers on failure): acks and
 * reports are generation-guarded, KV writes compare generations, presence only moves forward in time.
 */
@Injectable()
export class NatsInbox {
  private readonly log = new Logger('AgentLink(NATS)');
  private readonly clusterIds = new Map<string, { readonly id: string; readonly at: number }>();
  private readonly lastSeenWrite = new Map<string, number>();

  constructor(
    private readonly db: DataSource,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    private readonly clusters: ClustersService,
    private readonly messages: AgentMessages,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
  ) {}

  private get graceMs(): number {
    return CONNECTED_GRACE_INTERVALS * this.config.heartbeatIntervalSeconds * 1000;
  }

  /**
   * Handles one message from `cluster`'s agent, stored by NATS at `sentAt`. Resolves when it is done
   * with (also when it was ignored); rejects on a failure worth a redelivery.
   */
  async handle(kv: DesiredKv, cluster: string, request: ConnectRequest, sentAt: Date): Promise<void> {
    const now = this.clock.now();
    // Presence and resync act on recent messages only: a backlog left while no hub ran must not mark a
    // long-gone agent connected, and a newer Inventory always follows.
    const fresh = now.getTime() - sentAt.getTime() <= this.graceMs;
    const clusterId = await this.clusterId(cluster);
    const { case: kind, value } = request.message;
    if (!clusterId) {
      if (kind === 'hello' && fresh) {
        this.metrics.refusedStreams.inc({ reason: 'UNKNOWN_CLUSTER' });
        this.log.warn(`refused agent of unregistered cluster ${cluster} (NATS)`);
        await kv.putWelcome(cluster, this.messages.refusal('UNKNOWN_CLUSTER', `Cluster "${cluster}" is not registered on the hub.`, true));
      }
      return;
    }
    switch (kind) {
      case 'hello':
        return fresh ? this.hello(kv, cluster, clusterId, value, sentAt) : undefined;
      case 'ack':
        // An accepted removal: the App is gone from the cluster, and so is its key.
        if ((await this.messages.recordAck(clusterId, value)) === 'removed' && isKeyToken(value.appName)) await kv.deleteRemoval(cluster, value.appName, value.generation);
        return;
      case 'report':
        return this.messages.recordReport(clusterId, value);
      case 'heartbeat':
        return fresh ? this.touch(kv, cluster, clusterId, sentAt) : undefined;
      case 'inventory':
        if (!fresh) return;
        await this.touch(kv, cluster, clusterId, sentAt);
        return this.resync(kv, cluster, clusterId, value);
      default:
        return; // an unknown message from a newer agent: ignore it
    }
  }

  /** Marks NATS clusters not heard from within the grace period disconnected. Any replica may run it. */
  async sweep(): Promise<void> {
    const before = new Date(this.clock.now().getTime() - this.graceMs);
    const gone = returnedRows<{ name: string }>(
      await this.db.query(
        `UPDATE clusters SET connected_replica = NULL, connected_since = NULL
         WHERE connected_replica = $1 AND (last_seen_at IS NULL OR last_seen_at < $2) RETURNING name`,
        [NATS_PRESENCE, before],
      ),
    );
    for (const { name } of gone) {
      this.lastSeenWrite.delete(name);
      this.log.log(`agent ${name} disconnected (no heartbeat over NATS)`);
    }
  }

  private async hello(kv: DesiredKv, cluster: string, clusterId: string, hello: Hello, sentAt: Date): Promise<void> {
    const refusal =
      this.messages.helloRefusal(hello) ??
      (hello.clusterName === cluster
        ? undefined
        : { code: 'UNAUTHENTICATED', message: `The Hello names cluster "${hello.clusterName.slice(0, 63)}" but was sent by the NATS user of cluster ${cluster}.`, retryable: false });
    if (refusal) {
      this.metrics.refusedStreams.inc({ reason: refusal.code });
      this.log.warn(`refused agent of ${cluster} (NATS): ${refusal.code}`);
      await kv.putWelcome(cluster, this.messages.refusal(refusal.code, refusal.message, refusal.retryable));
      return;
    }
    if ((await this.markSeen(clusterId, sentAt, hello.agentVersion)) === undefined) return this.forget(cluster); // deregistered meanwhile
    this.lastSeenWrite.set(cluster, this.clock.now().getTime());
    await this.messages.recordCapabilities(clusterId, cluster, hello, this.clock.now());
    await kv.putWelcome(cluster, this.messages.welcome(cluster));
    this.log.log(`agent ${cluster} connected over NATS (${hello.agentVersion || 'unknown version'})`);
    // Without an inventory (it did not fit in one message) the hub cannot tell what differs; the
    // watch already gave the agent every key.
    if (hello.inventory) await this.resync(kv, cluster, clusterId, hello.inventory);
  }

  /** Keeps last-seen fresh; welcomes again an agent that was marked disconnected (it re-sends its reports). */
  private async touch(kv: DesiredKv, cluster: string, clusterId: string, sentAt: Date): Promise<void> {
    const now = this.clock.now().getTime();
    // One write per half heartbeat interval is enough to keep `connected` fresh.
    if (now - (this.lastSeenWrite.get(cluster) ?? 0) < (this.config.heartbeatIntervalSeconds * 1000) / 2) return;
    if (this.lastSeenWrite.size >= MAX_CACHED_CLUSTERS) this.lastSeenWrite.clear();
    this.lastSeenWrite.set(cluster, now);
    const wasConnected = await this.markSeen(clusterId, sentAt, undefined);
    if (wasConnected === undefined) return this.forget(cluster); // deregistered meanwhile
    if (!wasConnected) {
      await kv.putWelcome(cluster, this.messages.welcome(cluster));
      this.log.log(`agent ${cluster} connected over NATS`);
    }
  }

  /**
   * Marks the cluster connected over NATS as of `seenAt` and returns whether it already was. Presence
   * over NATS replaces a gRPC replica's mark: an agent uses one transport, so that stream is gone.
   * Undefined when the cluster is gone (deregistered).
   */
  private async markSeen(clusterId: string, seenAt: Date, agentVersion: string | undefined): Promise<boolean | undefined> {
    const since = new Date(this.clock.now().getTime() - this.graceMs);
    const rows = returnedRows<{ was_connected: boolean }>(
      await this.db.query(
        `UPDATE clusters c SET
           last_seen_at = GREATEST(COALESCE(old.last_seen_at, $2::timestamptz), $2::timestamptz),
           connected_replica = $3,
           connected_since = CASE WHEN old.connected_replica IS DISTINCT FROM $3 OR old.last_seen_at IS NULL OR old.last_seen_at < $4::timestamptz
                                  THEN $2::timestamptz ELSE old.connected_since END,
           agent_version = COALESCE($5::varchar, old.agent_version)
         FROM clusters old WHERE c.id = $1 AND old.id = c.id
         RETURNING (old.connected_replica IS NOT DISTINCT FROM $3 AND old.last_seen_at >= $4::timestamptz) AS was_connected`,
        [clusterId, seenAt, NATS_PRESENCE, since, agentVersion === undefined ? null : agentVersion.slice(0, 64)],
      ),
    );
    return rows[0] === undefined ? undefined : rows[0].was_connected === true;
  }

  /**
   * Anti-entropy: writes whatever differs between the released state and the agent's Inventory. KV
   * writes are generation-guarded, so what the bucket already holds is left alone.
   */
  private async resync(kv: DesiredKv, cluster: string, clusterId: string, inventory: Inventory): Promise<void> {
    const work = await this.messages.resync(clusterId, inventory);
    for (const message of work.messages) {
      if ((await kv.write(cluster, message)) === 'written') this.metrics.deliveries.inc({ kind: message.message.case ?? 'unknown', cause: 'resync' });
    }
    const ignored = [...work.ignored];
    for (const { appName, message } of work.unknown) {
      if (!isKeyToken(appName)) {
        ignored.push({ appName, reason: 'the name cannot be a NATS key, so no removal can be stored for it' });
        continue;
      }
      // Generation-guarded: a removal already stored (or anything newer) is left as it is.
      if ((await kv.write(cluster, message)) === 'written') this.metrics.deliveries.inc({ kind: 'removeApp', cause: 'resync' });
    }
    const [first] = ignored;
    if (first) {
      // One line per resync, however many Apps: the inventory is the agent's to fill.
      this.log.warn(`agent of ${cluster} holds ${ignored.length} App(s) the hub leaves unanswered (first: ${first.appName.slice(0, 63)}: ${first.reason})`);
    }
    if (work.forget.length > 0) {
      await this.messages.forgetRemoved(clusterId, work.forget);
      for (const appName of work.forget) await kv.deleteRemoval(cluster, appName, ANY_GENERATION);
    }
  }

  /** Drops a cluster from the caches (it was deregistered through this replica). */
  forget(name: string): void {
    this.clusterIds.delete(name);
    this.lastSeenWrite.delete(name);
  }

  private async clusterId(name: string): Promise<string | undefined> {
    const now = this.clock.now().getTime();
    const cached = this.clusterIds.get(name);
    if (cached && now - cached.at < this.graceMs) return cached.id;
    const cluster = await this.clusters.find(name);
    if (!cluster) {
      this.forget(name);
      return undefined;
    }
    // Ids never change, but a cluster may be deregistered (and its name registered again, with a new
    // id) through any replica: a cached id is trusted for the grace period only, and dropped as soon as
    // a last-seen write finds no row.
    if (this.clusterIds.size >= MAX_CACHED_CLUSTERS) this.clusterIds.clear();
    this.clusterIds.set(name, { id: cluster.id, at: now });
    return cluster.id;
  }
}
