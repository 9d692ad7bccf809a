import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** How an audited action ended. */
export type AuditOutcome = 'SUCCESS' | 'DENIED' | 'FAILED';

/** One audited action: a mutation or a rollout step. Append-only: the API never updates or deletes rows. */
@Entity('audit_events')
@Index(['project', 'id'])
@Index(['actor', 'id'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Index()
  @CreateDateColumn({ type: 'timestamptz' })
  at: Date;

  /** `token:<name>`, `oidc:<subject>`, or `hub` for the rollout engine. */
  @Column({ type: 'varchar', length: 256 })
  actor: string;

  /** The token id or the OIDC subject; '' for the hub itself. */
  @Column({ type: 'varchar', length: 256, default: '' })
  actorId: string;

  /** The OIDC issuer; '' for tokens and the hub. */
  @Column({ type: 'varchar', length: 512, default: '' })
  issuer: string;

  /** The mutation (`applyAppSet`) or the rollout step (`rollout.RELEASED`). */
  @Column({ type: 'varchar', length: 64 })
  kind: string;

  /** The project the action concerns; null for fleet-wide actions (clusters, tokens, projects). */
  @Column({ type: 'varchar', length: 63, nullable: true })
  project: string | null;

  @Column({ type: 'text', default: '' })
  message: string;

  @Column({ type: 'varchar', length: 16 })
  outcome: AuditOutcome;

  /** Why it was denied or failed; '' on success. */
  @Column({ type: 'text', default: '' })
  reason: string;

  /** The caller's address; '' for the hub itself. */
  @Column({ type: 'varchar', length: 64, default: '' })
  remoteAddress: string;
}
