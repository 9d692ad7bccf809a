import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { returnedRows } from '../database/sql';
import { Metrics } from '../observability/metrics';
import { AgentSessions } from './agent-sessions';
import { DesiredStateService } from './desired-state.service';

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

  /** Drops pending rows of a cluster whose agent is being resynced (the resync sends current state). */
  async discardForCluster(clusterId: string): Promise<void> {
    await this.db.query(`DELETE FROM outbox WHERE cluster_id = $1`, [clusterId]);
  }

  private async drain(): Promise<void> {
    for (let batch = 0; batch < MAX_BATCHES_PER_DRAIN && !this.stopped; batch++) {
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
      const byCluster = new Map<string, Set<string>>();
      for (const row of claimed) {
        const names = byCluster.get(row.cluster_id) ?? new Set<string>();
        names.add(row.app_name);
        byCluster.set(row.cluster_id, names);
      }
      for (const [clusterId, names] of byCluster) {
        const session = this.sessions.get(clusterId);
        if (!session) continue; // disconnected meanwhile: its next Hello resyncs it
        try {
          for (const message of await this.desired.messages(clusterId, [...names])) {
            if (session.send(message)) this.metrics.deliveries.inc({ kind: message.message.case ?? 'unknown', cause: 'release' });
          }
        } catch (error) {
          // One cluster's failure must not hold back the others; anti-entropy heals this one.
          this.log.warn(`delivery to cluster ${session.clusterName} failed: ${String(error)}`);
        }
      }
      if (claimed.length < BATCH) return;
    }
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
