import { Column, CreateDateColumn, Entity, Index, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ClusterEntity } from './cluster.entity';

export type AgentTokenKind = 'bootstrap' | 'credential' | 'certificate';

/** Kinds that authenticate a live stream (revoked together, checked once a second). */
export const STREAM_CREDENTIAL_KINDS: readonly AgentTokenKind[] = ['credential', 'certificate'];

/**
 * What an agent presents: a one-time bootstrap token (expires, consumed on first use), the durable
 * bearer credential issued in exchange (agents without a client certificate), or a client certificate
 * the hub issued (`secretHash` is the sha256 of its DER, `expiresAt` its notAfter). Only hashes are stored.
 */
@Entity('agent_tokens')
export class AgentTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @ManyToOne(() => ClusterEntity, { onDelete: 'CASCADE', nullable: false })
  cluster: ClusterEntity;

  @Column({ type: 'uuid' })
  clusterId: string;

  @Column({ type: 'varchar', length: 16 })
  kind: AgentTokenKind;

  @Index({ unique: true })
  @Column({ type: 'char', length: 64 })
  secretHash: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  usedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
