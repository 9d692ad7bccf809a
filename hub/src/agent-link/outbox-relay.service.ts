import type { ConnectResponse } from '@flotilla/proto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { HUB_CONFIG, NATS_PRESENCE, type HubConfig } from '../config/hub-config';
import { returnedRows } from '../database/sql';
import { Metrics } from '../observability/metrics';
import { AgentSessions } from './agent-sessions';
import type { DesiredKv } from './desired-kv';
import { DesiredStateService } from './desired-state.service';

/** The NATS desired-state bucket, when the NATS agent link runs. */
export interface KvTarget {
  readonly kv: DesiredKv;
  /** False while the NATS connection is down: rows then wait instead of failing one by one. */
  isReady(): boolean;
}

/** Clusters whose KV entries are written at once during a drain (each write is two JetStream round trips). */
const KV_PARALLEL_CLUSTERS = 32;
/** A gRPC stream on another replica counts as live while its cluster was heard from this recently. */
const STREAM_GRACE_INTERVALS = 3;
const KV_WARNING_INTERVAL_MS = 30_000;

const BATCH = 500;
/** Most batches per drain, so one drain never runs unbounded; the next wake continues. */
const MAX_BATCHES_PER_DRAIN = 20;
const LISTEN_RETRY_MS = 5000;

/**
 * Delivers released state to the agents connected to this replica. Outbox rows are claimed with
 * `FOR UPDATE SKIP LOCKED`, so replicas never deliver the same row twice, and each row only names
 * (cluster, app): the message sent is always the App's current released state.
 *
 * Wake-ups: a local call after a release on this replica, PostgreSQL NOTIFY from other replicas, and
 * a periodic scan which is the guarantee (NOTIFY may be lost). A row whose cluster is connected
 * nowhere waits; the agent's Hello resync covers it and discards it.
 *
 * With the NATS link, every released change is also written to the desired-state KV bucket, whatever
 * the cluster's transport (the hub cannot know which one an agent will use). Rows of any cluster are
 * then claimed, except those of a cluster whose gRPC stream lives on another replica (that replica
 * delivers them, and writes the KV too). A row is deleted once its KV write succeeded or its message
 * went to a local stream; otherwise it stays for the next scan, like any undelivered change.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(OutboxRelay.name);
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private listener: Client | undefined;
  private listenRetry: NodeJS.Timeout | undefined;
  private kvTarget: KvTarget | undefined;
  private lastKvWarningAt = 0;

  constructor(
    private readonly db: DataSource,
    private readonly sessions: AgentSessions,
    private readonly desired: DesiredStateService,
    private readonly metrics: Metrics,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.wake(), this.config.outboxScanMs);
    this.timer.unref();
    // Embedded PGlite serves one replica only: the local wake-up is enough there.
    if (this.config.databaseUrl) void this.listen();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.listenRetry);
    await this.listener?.end().catch(() => undefined);
    await this.draining;
  }

  /** Schedules a drain now; calls during a drain make it run once more. */
  wake(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain()
      .catch((error: unknown) => this.log.warn(`outbox drain failed (the periodic scan will retry): ${String(error)}`))
      .finally(() => {
        this.draining = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Starts (or, with undefined, stops) writing released changes to the NATS KV bucket. */
  attachKv(target: KvTarget | undefined): void {
    this.kvTarget = target;
    if (target) this.wake();
  }

  /** Drops pending rows of a cluster whose agent is being resynced (the resync sends current state). */
  async discardForCluster(clusterId: string): Promise<void> {
    await this.db.query(`DELETE FROM outbox WHERE cluster_id = $1`, [clusterId]);
  }

  private async drain(): Promise<void> {
    for (let batch = 0; batch < MAX_BATCHES_PER_DRAIN && !this.stopped; batch++) {
      const kv = this.kvTarget?.isReady() ? this.kvTarget.kv : undefined;
      if (kv) {
        if (!(await this.drainWithKv(kv))) return;
        continue;
      }
      const clusterIds = this.sessions.clusterIds();
      if (clusterIds.length === 0) return;
      const claimed = returnedRows<{ cluster_id: string; app_name: string }>(
        await this.db.query(
          `DELETE FROM outbox WHERE id IN (
             SELECT id FROM outbox WHERE cluster_id = ANY($1) ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
           RETURNING cluster_id, app_name`,
          [clusterIds],
        ),
      );
      if (claimed.length === 0) return;
      const byCluster = new Map<string, string[]>();
      for (const row of claimed) {
        const names = byCluster.get(row.cluster_id) ?? [];
        names.push(row.app_name);
        byCluster.set(row.cluster_id, names);
      }
      let messages: Map<string, ConnectResponse[]>;
      try {
        messages = await this.desired.messagesByCluster(byCluster);
      } catch (error) {
        // The rows are gone; the agents' anti-entropy (and the next Hello) converges them.
        this.log.warn(`reading ${claimed.length} released changes failed: ${String(error)}`);
        return;
      }
      for (const [clusterId, list] of messages) {
        const session = this.sessions.get(clusterId);
        if (!session) continue; // disconnected meanwhile: its next Hello resyncs it
        for (const message of list) {
          if (session.send(message)) this.metrics.deliveries.inc({ kind: message.message.case ?? 'unknown', cause: 'release' });
        }
      }
      if (claimed.length < BATCH) return;
    }
  }

  /**
   * One batch with the KV bucket: claims rows under row locks held until the KV writes are done, so
   * that a crash leaves them for another replica, and deletes only the rows that were delivered.
   * Returns whether another batch may follow (a full batch, every row delivered).
   */
  private async drainWithKv(kv: DesiredKv): Promise<boolean> {
    const staleBefore = new Date(Date.now() - STREAM_GRACE_INTERVALS * this.config.heartbeatIntervalSeconds * 1000);
    return this.db.transaction(async (tx) => {
      const claimed: { id: string; cluster_id: string; cluster_name: string; app_name: string }[] = await tx.query(
        `SELECT o.id, o.cluster_id, c.name AS cluster_name, o.app_name FROM outbox o JOIN clusters c ON c.id = o.cluster_id
         WHERE o.cluster_id = ANY($1) OR c.connected_replica IS NULL OR c.connected_replica IN ($2, $3)
            OR c.last_seen_at IS NULL OR c.last_seen_at < $4
         ORDER BY o.id LIMIT ${BATCH} FOR UPDATE OF o SKIP LOCKED`,
        [this.sessions.clusterIds(), NATS_PRESENCE, this.config.replicaId, staleBefore],
      );
      if (claimed.length === 0) return false;
      const byCluster = new Map<string, { name: string; rows: typeof claimed }>();
      for (const row of claimed) {
        const group = byCluster.get(row.cluster_id) ?? { name: row.cluster_name, rows: [] };
        group.rows.push(row);
        byCluster.set(row.cluster_id, group);
      }
      const delivered: string[] = [];
      let kvFailed = false;
      const groups = [...byCluster.entries()];
      const messagesOf = await this.desired.messagesByCluster(new Map(groups.map(([clusterId, group]) => [clusterId, group.rows.map((r) => r.app_name)])), tx);
      const deliver = async ([clusterId, group]: (typeof groups)[number]): Promise<void> => {
        const session = this.sessions.get(clusterId);
        let sent = false;
        let written = !kvFailed;
        try {
          const messages = messagesOf.get(clusterId) ?? [];
          for (const message of messages) {
            if (session?.send(message)) {
              sent = true;
              this.metrics.deliveries.inc({ kind: message.message.case ?? 'unknown', cause: 'release' });
            }
          }
          for (const message of messages) {
            if (!written) break;
            const outcome = await kv.write(group.name, message);
            if (outcome === 'written' && !session) this.metrics.deliveries.inc({ kind: message.message.case ?? 'unknown', cause: 'release' });
          }
        } catch (error) {
          written = false;
          kvFailed = true; // NATS is struggling: keep the rest of the batch for the next scan
          this.warnKvFailure(`KV write for cluster ${group.name} failed (retried by the next scan): ${String(error)}`);
        }
        if (written || sent) delivered.push(...group.rows.map((r) => r.id));
      };
      // A pool of writers, each taking the next cluster as soon as it is done: one slow cluster holds
      // back only its own writer.
      let next = 0;
      const writer = async (): Promise<void> => {
        while (next < groups.length) await deliver(groups[next++]!);
      };
      await Promise.all(Array.from({ length: Math.min(KV_PARALLEL_CLUSTERS, groups.length) }, writer));
      if (delivered.length > 0) await tx.query(`DELETE FROM outbox WHERE id = ANY($1::bigint[])`, [delivered]);
      return !kvFailed && claimed.length === BATCH;
    });
  }

  /** Logs a KV failure, at most once per interval: a broken JetStream would otherwise log every scan. */
  private warnKvFailure(message: string): void {
    const now = Date.now();
    if (now - this.lastKvWarningAt < KV_WARNING_INTERVAL_MS) return;
    this.lastKvWarningAt = now;
    this.log.warn(message);
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.config.databaseUrl });
    client.on('notification', () => this.wake());
    client.on('error', (error) => {
      this.log.warn(`outbox listener lost (${error.message}); the periodic scan continues`);
      void client.end().catch(() => undefined);
      this.listener = undefined;
      this.listenRetry = setTimeout(() => void this.listen(), LISTEN_RETRY_MS);
      this.listenRetry.unref();
    });
    try {
      await client.connect();
      await client.query('LISTEN flotilla_outbox');
      this.listener = client;
    } catch (error) {
      this.log.warn(`cannot LISTEN for outbox wake-ups (${String(error)}); retrying, the periodic scan continues`);
      await client.end().catch(() => undefined);
      this.listenRetry = setTimeout(() => void this.listen(), LISTEN_RETRY_MS);
      this.listenRetry.unref();
    }
  }
}
