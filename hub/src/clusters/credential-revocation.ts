import type { EntityManager } from 'typeorm';
import { returnedRows } from '../database/sql';

/**
 * PostgreSQL channel that wakes every replica's check of its live agent streams after an agent
 * credential was revoked (or its cluster deleted). A fast path only: each replica also re-checks its
 * streams every second, so a lost notification delays a cut by at most that period.
 */
export const CREDENTIAL_REVOKED_CHANNEL = 'flotilla_agent_credentials';

/** Queues the wake-up inside `tx`: PostgreSQL delivers it when, and only if, the transaction commits. */
export async function announceCredentialRevocation(tx: EntityManager): Promise<void> {
  await tx.query(`SELECT pg_notify('${CREDENTIAL_REVOKED_CHANNEL}', '')`);
}

/**
 * Revokes the durable agent credentials (bearer credentials and client certificates) of a cluster, except `keep` (the credential a re-installed
 * agent was just given), and announces it when any was live. Returns how many were revoked.
 */
export async function revokeCredentials(tx: EntityManager, clusterId: string, now: Date, keep?: string): Promise<number> {
  const revoked = returnedRows<{ id: string }>(
    await tx.query(
      `UPDATE agent_tokens SET revoked_at = $2
       WHERE cluster_id = $1 AND kind IN ('credential', 'certificate') AND revoked_at IS NULL AND ($3::uuid IS NULL OR id <> $3::uuid)
       RETURNING id`,
      [clusterId, now, keep ?? null],
    ),
  );
  const count = revoked.length;
  if (count > 0) await announceCredentialRevocation(tx);
  return count;
}

