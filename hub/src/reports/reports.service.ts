import { Injectable } from '@nestjs/common';
import { Health, LIMITS, SyncStatus, truncateText, type Ack, type Report } from '@flotilla/proto';
import { DataSource } from 'typeorm';
import { Metrics } from '../observability/metrics';
import { RolloutEngine } from '../rollouts/rollout-engine.service';
import type { ResourceStatusRecord } from './app-status.entity';

// Agents bound drifted field paths the same way; the hub does not rely on it.
const MAX_FIELD_PATH_CHARS = 256;

/** Protobuf enum value → the name stored and shown (`HEALTHY`, `OUT_OF_SYNC`, ...). */
export function healthName(value: Health): string {
  return value === Health.UNSPECIFIED ? 'UNKNOWN' : Health[value];
}

export function syncStatusName(value: SyncStatus): string {
  return value === SyncStatus.UNSPECIFIED ? 'UNKNOWN' : SyncStatus[value];
}

/**
 * Records what agents say. Every write is conditional on generations so that duplicated, reordered
 * or late messages can never move a status backwards.
 */
@Injectable()
export class ReportsService {
  constructor(
    private readonly db: DataSource,
    private readonly rollouts: RolloutEngine,
    private readonly metrics: Metrics,
  ) {}

  async recordAck(clusterId: string, ack: Ack): Promise<void> {
    this.metrics.acks.inc({ accepted: String(ack.accepted) });
    const generation = ack.generation.toString();
    const error = ack.accepted ? null : truncateText(ack.error || 'refused by the agent');
    if (ack.accepted && ack.revision === '') {
      // A removal was carried out: forget the App on that cluster if nothing newer was released since.
      await this.db.query(
        `DELETE FROM apps WHERE cluster_id = $1 AND name = $2 AND released_revision IS NULL AND released_generation <= $3`,
        [clusterId, ack.appName, generation],
      );
      await this.db.query(`DELETE FROM app_statuses WHERE cluster_id = $1 AND app_name = $2 AND coalesce(acked_generation, 0) <= $3`, [
        clusterId,
        ack.appName,
        generation,
      ]);
    } else {
      await this.db.query(
        `INSERT INTO app_statuses (cluster_id, app_name, acked_revision, acked_generation, ack_error)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (cluster_id, app_name) DO UPDATE SET
           acked_revision = EXCLUDED.acked_revision, acked_generation = EXCLUDED.acked_generation,
           ack_error = EXCLUDED.ack_error, updated_at = now()
         WHERE app_statuses.acked_generation IS NULL OR app_statuses.acked_generation <= EXCLUDED.acked_generation`,
        [clusterId, ack.appName, ack.revision || null, generation, error],
      );
    }
    this.rollouts.nudge();
  }

  /**
   * Stores a report if it judges the revision currently released to that cluster; anything else (an
   * older revision, an App the hub does not release there) is counted and ignored.
   */
  async recordReport(clusterId: string, report: Report): Promise<void> {
    const resources: ResourceStatusRecord[] = report.resources.slice(0, LIMITS.maxResourcesPerReport).map((r) => ({
      apiVersion: truncateText(r.apiVersion, 256),
      kind: truncateText(r.kind, 128),
      namespace: truncateText(r.namespace, 63),
      name: truncateText(r.name, 253),
      health: healthName(r.health),
      message: truncateText(r.message, 512),
      drifted: r.drifted,
      driftedFields: r.driftedFields
        .filter((path) => path !== '')
        .slice(0, LIMITS.maxDriftedFields)
        .map((path) => truncateText(path, MAX_FIELD_PATH_CHARS)),
    }));
    const truncated = report.resourcesTruncated || report.resources.length > LIMITS.maxResourcesPerReport;
    const observedAt = report.observedAtUnixMs > 0n ? new Date(Number(report.observedAtUnixMs)) : new Date();
    const rows: unknown[] = await this.db.query(
      `INSERT INTO app_statuses (cluster_id, app_name, revision, generation, health, sync_status, message, resources, resources_truncated, observed_at, healthy_since)
       SELECT $1::uuid, $2::varchar, $3::char(64), $4::bigint, $5::varchar, $6::varchar, $7::text, $8::jsonb, $9::boolean, $10::timestamptz,
              CASE WHEN $5::varchar = 'HEALTHY' THEN now() END
       FROM apps a WHERE a.cluster_id = $1::uuid AND a.name = $2::varchar AND a.released_revision = $3::char(64) AND a.released_generation <= $4::bigint
       ON CONFLICT (cluster_id, app_name) DO UPDATE SET
         revision = EXCLUDED.revision, generation = EXCLUDED.generation, health = EXCLUDED.health,
         sync_status = EXCLUDED.sync_status, message = EXCLUDED.message, resources = EXCLUDED.resources,
         resources_truncated = EXCLUDED.resources_truncated, observed_at = EXCLUDED.observed_at, updated_at = now(),
         healthy_since = CASE
           WHEN EXCLUDED.health <> 'HEALTHY' THEN NULL
           WHEN app_statuses.health = 'HEALTHY' AND app_statuses.revision = EXCLUDED.revision
                AND app_statuses.generation = EXCLUDED.generation THEN app_statuses.healthy_since
           ELSE now() END
       WHERE app_statuses.generation IS NULL OR app_statuses.generation <= EXCLUDED.generation
       RETURNING 1`,
      [
        clusterId,
        report.appName,
        report.revision,
        report.generation.toString(),
        healthName(report.health),
        syncStatusName(report.syncStatus),
        truncateText(report.message),
        JSON.stringify(resources),
        truncated,
        observedAt,
      ],
    );
    this.metrics.reports.inc({ outcome: rows.length > 0 ? 'stored' : 'ignored' });
    if (rows.length > 0) this.rollouts.nudge();
  }
}
