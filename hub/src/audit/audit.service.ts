import { Injectable, Logger } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { readableProjects, type Principal } from '../core/auth/principal';
import { FlotillaError } from '../errors';
import { AuditEventEntity, type AuditOutcome } from './audit-event.entity';

/** One audited action, as recorded. */
export interface AuditRecord {
  readonly principal: Principal;
  readonly kind: string;
  readonly project: string | null;
  readonly message: string;
  readonly outcome: AuditOutcome;
  readonly reason: string;
  readonly remoteAddress: string;
}

/** Which audit events to list. Every field narrows; absent fields do not. */
export interface AuditFilter {
  readonly actor?: string | null;
  readonly project?: string | null;
  readonly kind?: string | null;
  readonly since?: Date | null;
  readonly until?: Date | null;
}

const MAX_TEXT = 2000;

/**
 * The audit trail: who did what, when, from where, and how it ended. Append-only for the API (there is
 * no mutation that changes or deletes a row). Rollout steps are written in the transaction of the step
 * ({@link recordRolloutStep}); mutations after they finish (the audit interceptor).
 */
@Injectable()
export class AuditService {
  private readonly log = new Logger('Audit');

  constructor(private readonly db: DataSource) {}

  async record(entry: AuditRecord): Promise<void> {
    try {
      await this.db.getRepository(AuditEventEntity).insert({
        actor: entry.principal.actor.slice(0, 256),
        actorId: entry.principal.id.slice(0, 256),
        issuer: (entry.principal.issuer ?? '').slice(0, 512),
        kind: entry.kind.slice(0, 64),
        project: entry.project,
        message: entry.message.slice(0, MAX_TEXT),
        outcome: entry.outcome,
        reason: entry.reason.slice(0, MAX_TEXT),
        remoteAddress: entry.remoteAddress.slice(0, 64),
      });
    } catch (error) {
      // The action itself already happened (or was refused); a lost audit row is logged loudly.
      this.log.error(`could not record audit event ${entry.kind} by ${entry.principal.actor}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * One page of the events the principal may see (an admin: all; others: their projects' events),
   * newest first. `after` is the `endCursor` of the previous page.
   */
  async list(principal: Principal, filter: AuditFilter, first: number, after: string | null | undefined): Promise<{ rows: AuditEventEntity[]; hasNextPage: boolean }> {
    if (!Number.isInteger(first) || first < 1 || first > 500) throw new FlotillaError('INVALID_ARGUMENT', 'first must be from 1 to 500.');
    const query = this.db.getRepository(AuditEventEntity).createQueryBuilder('e').orderBy('e.id', 'DESC').take(first + 1);
    const projects = readableProjects(principal);
    if (projects !== 'all') query.andWhere('e.project IN (:...projects)', { projects: projects.length > 0 ? projects : [''] });
    if (filter.actor) query.andWhere('e.actor = :actor', { actor: filter.actor });
    if (filter.project) query.andWhere('e.project = :project', { project: filter.project });
    if (filter.kind) query.andWhere('e.kind = :kind', { kind: filter.kind });
    if (filter.since) query.andWhere('e.at >= :since', { since: filter.since });
    if (filter.until) query.andWhere('e.at < :until', { until: filter.until });
    if (after) query.andWhere('e.id < :after', { after: decodeCursor(after) });
    const rows = await query.getMany();
    return { rows: rows.slice(0, first), hasNextPage: rows.length > first };
  }
}

/**
 * Records a rollout step in the audit trail, in the transaction that makes the step, under the
 * project of the rollout's AppSet.
 */
export async function recordRolloutStep(tx: EntityManager, rolloutId: string, actor: string, kind: string, message: string): Promise<void> {
  await tx.query(
    `INSERT INTO audit_events (actor, kind, project, message, outcome)
     SELECT $2, $3, s.project, $4, 'SUCCESS' FROM rollouts r JOIN app_sets s ON s.id = r.app_set_id WHERE r.id = $1`,
    [rolloutId, actor.slice(0, 256), `rollout.${kind}`.slice(0, 64), message.slice(0, MAX_TEXT)],
  );
}

/** Cursors are opaque to clients: base64url of the row id. */
export function encodeCursor(id: string): string {
  return Buffer.from(`audit:${id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^audit:(\d{1,19})$/.exec(text);
  if (!match) throw new FlotillaError('INVALID_ARGUMENT', 'after is not a cursor returned by auditEvents.');
  return match[1]!;
}
