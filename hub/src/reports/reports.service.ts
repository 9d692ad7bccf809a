import { Injectable } from '@nestjs/common';
import { Health, LIMITS, SyncStatus, truncateText, type Ack, type Report } from '@flotilla/proto';
import { DataSource } from 'typeorm';
import { Clock } from '../clock';
import { checkAck, checkReport } from '../core/agent-sync/check-agent-message';
import { Metrics } from '../observability/metrics';
import { RolloutEngine } from '../rollouts/rollout-engine.service';
import type { ResourceStatusRecord } from './app-status.entity';
import { driftValueBudget, storedDriftValues } from './drift-values';

// Agents bound drifted field paths the same way; the hub does not rely on it.
const MAX_FIELD_PATH_CHARS = 256;

/** Protobuf enum value → the name stored and shown (`HEALTHY`, `OUT_OF_SYNC`, ...). */
export function healthName(value: Health): string {
  return value === Health.UNSPECIFIED ? 'UNKNOWN' : Health[value];
}

export function syncStatusName(value: SyncStatus): string {
  return value === SyncStatus.UNSPECIFIED ? 'UNKNOWN' : SyncStatus[value];
}

/** What became of an Ack: recorded for a release, taken as a carried-out removal, or ignored. */
export type AckOutcome = 'recorded' | 'removed' | 'ignored';

/**
 * Records what agents say, and only what matches what the hub released to that cluster: an Ack or a
 * Report naming a generation, revision or App the hub did not release there is counted and ignored,
 * so no row claims what the hub never released and a cluster's rows stay bounded by its released
 * Apps. Every write is also conditional on generations so that duplicated, reordered or late messages
 * can never move a status backwards.
 */
@Injectable()
export class ReportsService {
  constructor(
    private readonly db: DataSource,
    private readonly rollouts: RolloutEngine,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
  ) {}

  /**
   * Records an Ack of the cluster's current release of an App (its released revision at its released
   * generation, or its released removal at that generation). An accepted removal of an App the hub
   * releases no revision of there forgets what is left of it; the caller may then drop its delivery.
   */
  async recordAck(clusterId: string, ack: Ack): Promise<AckOutcome> {
    this.metrics.acks.inc({ accepted: String(ack.accepted) });
    const checked = checkAck(ack);
    if (checked.kind === 'ignore') return 'ignored';
    const generation = checked.generation.toString();
    if (checked.kind === 'removal' && checked.accepted) {
      // A removal was carried out: forget the App on that cluster if this removal is what is released,
      // and its status unless a revision of it is released there (then this Ack is stale or false).
      await this.db.query(`DELETE FROM apps WHERE cluster_id = $1 AND name = $2 AND released_revision IS NULL AND released_generation = $3`, [
        clusterId,
        checked.appName,
        generation,
      ]);
      await this.db.query(
        `DELETE FROM app_statuses s WHERE s.cluster_id = $1 AND s.app_name = $2 AND coalesce(s.acked_generation, 0) <= $3
           AND NOT EXISTS (SELECT 1 FROM apps a WHERE a.cluster_id = $1 AND a.name = $2 AND a.released_revision IS NOT NULL)`,
        [clusterId, checked.appName, generation],
      );
      this.rollouts.nudge();
      return 'removed';
    }
    const revision = checked.kind === 'release' ? checked.revision : null;
    const rows: unknown[] = await this.db.query(
      `INSERT INTO app_statuses (cluster_id, app_name, acked_revision, acked_generation, ack_error)
       SELECT a.cluster_id, a.name, $3::char(64), $4::bigint, $5::text
       FROM apps a WHERE a.cluster_id = $1::uuid AND a.name = $2::varchar
         AND a.released_revision IS NOT DISTINCT FROM $3::char(64) AND a.released_generation = $4::bigint
       ON CONFLICT (cluster_id, app_name) DO UPDATE SET
         acked_revision = EXCLUDED.acked_revision, acked_generation = EXCLUDED.acked_generation,
         ack_error = EXCLUDED.ack_error, updated_at = now()
       WHERE app_statuses.acked_generation IS NULL OR app_statuses.acked_generation <= EXCLUDED.acked_generation
       RETURNING 1`,
      [clusterId, checked.appName, revision, generation, checked.error],
    );
    if (rows.length === 0) return 'ignored';
    this.rollouts.nudge();
    return 'recorded';
  }

  /**
   * Stores a report if it judges the revision currently released to that cluster at the released
   * generation; anything else (an older revision or generation, one the hub never issued, an App the
   * hub does not release there) is counted and ignored.
   *
   * Reports of one generation are ordered by the time the agent made them (`observedAt`), not by when
   * they arrive: a report can arrive late, after a newer one of the same generation (NATS redelivers
   * a report whose consumer died before acking it, after the ack wait; a gRPC report may still be in
   * a dead replica's queue). Taking the late PROGRESSING over the HEALTHY that followed it would move
   * the App back to PROGRESSING after its rollout counted it healthy, until the agent's next report.
   */
  async recordReport(clusterId: string, report: Report): Promise<void> {
    const checked = checkReport(report, this.clock.now());
    if (checked.kind === 'ignore') {
      this.metrics.reports.inc({ outcome: 'ignored' });
      return;
    }
    const budget = driftValueBudget();
    const resources: ResourceStatusRecord[] = report.resources.slice(0, LIMITS.maxResourcesPerReport).map((r) => {
      const identity = { apiVersion: truncateText(r.apiVersion, 256), kind: truncateText(r.kind, 128) };
      const driftedFields = r.driftedFields
        .filter((path) => path !== '')
        .slice(0, LIMITS.maxDriftedFields)
        .map((path) => truncateText(path, MAX_FIELD_PATH_CHARS));
      return {
        ...identity,
        namespace: truncateText(r.namespace, 63),
        name: truncateText(r.name, 253),
        health: healthName(r.health),
        message: truncateText(r.message, 512),
        drifted: r.drifted,
        driftedFields,
        driftedValues: storedDriftValues(identity, driftedFields, r.driftedValues, MAX_FIELD_PATH_CHARS, budget),
      };
    });
    const truncated = report.resourcesTruncated || report.resources.length > LIMITS.maxResourcesPerReport;
    const rows: unknown[] = await this.db.query(
      `INSERT INTO app_statuses (cluster_id, app_name, revision, generation, health, sync_status, message, resources, resources_truncated, observed_at, healthy_since)
       SELECT $1::uuid, $2::varchar, $3::char(64), $4::bigint, $5::varchar, $6::varchar, $7::text, $8::jsonb, $9::boolean, $10::timestamptz,
              CASE WHEN $5::varchar = 'HEALTHY' THEN now() END
       FROM apps a WHERE a.cluster_id = $1::uuid AND a.name = $2::varchar AND a.released_revision = $3::char(64) AND a.released_generation = $4::bigint
       ON CONFLICT (cluster_id, app_name) DO UPDATE SET
         revision = EXCLUDED.revision, generation = EXCLUDED.generation, health = EXCLUDED.health,
         sync_status = EXCLUDED.sync_status, message = EXCLUDED.message, resources = EXCLUDED.resources,
         resources_truncated = EXCLUDED.resources_truncated, observed_at = EXCLUDED.observed_at, updated_at = now(),
         healthy_since = CASE
           WHEN EXCLUDED.health <> 'HEALTHY' THEN NULL
           WHEN app_statuses.health = 'HEALTHY' AND app_statuses.revision = EXCLUDED.revision
                AND app_statuses.generation = EXCLUDED.generation THEN app_statuses.healthy_since
           ELSE now() END
       WHERE app_statuses.generation IS NULL OR app_statuses.generation < EXCLUDED.generation
          OR (app_statuses.generation = EXCLUDED.generation
              AND (app_statuses.observed_at IS NULL OR app_statuses.observed_at <= EXCLUDED.observed_at))
       RETURNING 1`,
      [
        clusterId,
        checked.appName,
        checked.revision,
        checked.generation.toString(),
        healthName(report.health),
        syncStatusName(report.syncStatus),
        truncateText(report.message),
        JSON.stringify(resources),
        truncated,
        checked.observedAt,
      ],
    );
    this.metrics.reports.inc({ outcome: rows.length > 0 ? 'stored' : 'ignored' });
    if (rows.length > 0) this.rollouts.nudge();
  }
}
