import { Column, Entity, Index, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { SyncPolicy } from '../core/app-set/app-set-spec';
import type { AppExplain } from '../core/expand-app-set';
import { ClusterEntity } from '../clusters/cluster.entity';
import { AppSetEntity } from './app-set.entity';

/**
 * One App on one cluster: what is **staged** (computed from the AppSet's current revision, not yet
 * sent) and what is **released** (what the cluster is told to run). A null staged revision stages a
 * removal; a null released revision with a generation is a released removal awaiting the agent's ack.
 */
@Entity('apps')
@Index(['clusterId', 'name'], { unique: true })
export class AppEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @ManyToOne(() => AppSetEntity, { onDelete: 'CASCADE', nullable: false })
  appSet: AppSetEntity;

  @Index()
  @Column({ type: 'uuid' })
  appSetId: string;

  @ManyToOne(() => ClusterEntity, { onDelete: 'CASCADE', nullable: false })
  cluster: ClusterEntity;

  @Column({ type: 'uuid' })
  clusterId: string;

  @Column({ type: 'varchar', length: 63 })
  name: string;

  @Column({ type: 'char', length: 64, nullable: true })
  stagedRevision: string | null;

  @Column({ type: 'varchar', length: 63, default: '' })
  stagedNamespace: string;

  @Column({ type: 'jsonb', nullable: true })
  stagedSyncPolicy: SyncPolicy | null;

  @Column({ type: 'int', nullable: true })
  stagedFromRevision: number | null;

  /**
   * Why the staged App has its parameters (generator elements, Git commits, final parameters with
   * secrets redacted), kept from the expansion that staged it: recomputing later could read other
   * commits and explain something that was never staged. Null for a staged removal.
   */
  @Column({ type: 'jsonb', nullable: true })
  stagedExplain: AppExplain | null;

  @Column({ type: 'char', length: 64, nullable: true })
  releasedRevision: string | null;

  @Column({ type: 'varchar', length: 63, default: '' })
  releasedNamespace: string;

  @Column({ type: 'jsonb', nullable: true })
  releasedSyncPolicy: SyncPolicy | null;

  /** Strictly increasing across every release and removal (one database sequence). */
  @Column({ type: 'bigint', nullable: true })
  releasedGeneration: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  releasedAt: Date | null;
}
