/**
 * The SQL form of {@link TargetState} (see core/rollout/target-state.ts), evaluated in the database so
 * that per-rollout and per-wave counts are aggregates, not rows shipped to the hub. Expects the aliases
 * `t` (rollout_targets), `rc` (rollout_clusters), `c` (clusters, left join: a deregistered cluster's
 * targets stay in the rollout's history), `a` (apps, left join), `s` (app_statuses, left join).
 */
export const TARGET_STATE_SQL = `CASE
  WHEN t.generation IS NULL THEN CASE WHEN rc.state = 'SKIPPED' THEN 'SKIPPED' ELSE 'PENDING' END
  WHEN t.revision IS NOT NULL AND a.id IS NULL THEN 'SUPERSEDED'
  WHEN a.released_generation IS NOT NULL AND a.released_generation > t.generation THEN 'SUPERSEDED'
  WHEN s.ack_error IS NOT NULL AND s.acked_generation = t.generation THEN 'FAILED'
  WHEN t.revision IS NULL THEN CASE WHEN a.id IS NULL THEN 'HEALTHY' ELSE 'PENDING' END
  WHEN s.revision = t.revision AND s.generation >= t.generation AND s.health = 'HEALTHY' THEN 'HEALTHY'
  WHEN s.revision = t.revision AND s.generation >= t.generation AND s.health = 'DEGRADED' THEN 'FAILED'
  WHEN s.acked_generation >= t.generation THEN 'PROGRESSING'
  ELSE 'PENDING'
END`;

/** FROM clause matching {@link TARGET_STATE_SQL}'s aliases, filtered by rollout id `$1`. */
export const TARGETS_FROM_SQL = `rollout_targets t
  JOIN rollout_clusters rc ON rc.rollout_id = t.rollout_id AND rc.cluster_id = t.cluster_id
  LEFT JOIN clusters c ON c.id = t.cluster_id
  LEFT JOIN apps a ON a.cluster_id = t.cluster_id AND a.name = t.app_name
  LEFT JOIN app_statuses s ON s.cluster_id = t.cluster_id AND s.app_name = t.app_name
  WHERE t.rollout_id = $1`;
