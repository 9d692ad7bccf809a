import type { DataSource } from 'typeorm';
import type { TargetState } from '../core/rollout/target-state';
import { TARGETS_FROM_SQL, TARGET_STATE_SQL } from './target-state.sql';

/** What the rollout pages read per wave, each in one aggregate query: counts by state, and what a wave waits on. */

export type RolloutCounts = Record<TargetState, number> & { total: number };

export function emptyCounts(): RolloutCounts {
  return { PENDING: 0, PROGRESSING: 0, HEALTHY: 0, FAILED: 0, SKIPPED: 0, SUPERSEDED: 0, total: 0 };
}

/** Per-state counts of a rollout's targets, by wave, aggregated in the database. */
export async function readCountsByWave(db: DataSource, rolloutId: string): Promise<Map<string, RolloutCounts>> {
  const rows: { wave: string; state: TargetState; n: string }[] = await db.query(
    `SELECT rc.wave, ${TARGET_STATE_SQL} AS state, count(*) AS n FROM ${TARGETS_FROM_SQL} GROUP BY 1, 2`,
    [rolloutId],
  );
  const out = new Map<string, RolloutCounts>();
  for (const row of rows) {
    const counts = out.get(row.wave) ?? emptyCounts();
    counts[row.state] += Number(row.n);
    counts.total += Number(row.n);
    out.set(row.wave, counts);
  }
  return out;
}

/** How many offline clusters {@link readWaveWaits} names per wave (the count is exact). */
export const MAX_OFFLINE_NAMED = 20;

/** What a wave waits on besides its approval, by wave name. */
export interface WaveWaits {
  /** The latest instant one of the wave's HEALTHY targets became healthy: its soak ends `soakMs` after. */
  readonly lastHealthySince: Date | null;
  /** Clusters with targets still to do (PENDING or PROGRESSING) whose agent is not connected, by name. */
  readonly offline: readonly string[];
  readonly offlineCount: number;
}

/**
 * Per wave of a rollout, in one query: when its soak can end and which of its clusters it waits for
 * offline. A cluster is offline when it holds no stream or was last seen before `connectedAfter`
 * (ClustersService.isConnected's rule, in SQL).
 */
export async function readWaveWaits(db: DataSource, rolloutId: string, connectedAfter: Date): Promise<Map<string, WaveWaits>> {
  const rows: { wave: string; last_healthy_since: Date | null; offline: string[] | null; offline_count: string }[] = await db.query(
    `WITH states AS (
       SELECT rc.wave, c.name, (c.connected_replica IS NULL OR c.last_seen_at IS NULL OR c.last_seen_at < $2) AS offline,
              ${TARGET_STATE_SQL} AS state, s.healthy_since
       FROM ${TARGETS_FROM_SQL}),
     offline AS (SELECT DISTINCT wave, name FROM states WHERE offline AND name IS NOT NULL AND state IN ('PENDING', 'PROGRESSING'))
     SELECT w.wave, w.last_healthy_since,
            (SELECT array_agg(o.name ORDER BY o.name) FROM (SELECT name FROM offline WHERE offline.wave = w.wave ORDER BY name LIMIT ${MAX_OFFLINE_NAMED}) o) AS offline,
            (SELECT count(*) FROM offline WHERE offline.wave = w.wave) AS offline_count
     FROM (SELECT wave, max(healthy_since) FILTER (WHERE state = 'HEALTHY') AS last_healthy_since FROM states GROUP BY wave) w`,
    [rolloutId, connectedAfter],
  );
  return new Map(rows.map((r) => [r.wave, { lastHealthySince: r.last_healthy_since === null ? null : new Date(r.last_healthy_since), offline: r.offline ?? [], offlineCount: Number(r.offline_count) }]));
}
