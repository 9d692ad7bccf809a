import { Column, Entity, ManyToOne, PrimaryColumn } from 'typeorm';
import type { SyncPolicy } from '../core/app-set/app-set-spec';
import { RolloutEntity } from './rollout.entity';

/**
 * One (cluster, app) a rollout moves. Holds what the rollout releases there (revision null: a
 * removal) and what was released before, so that a rollback can re-release it. `generation` is set
 * when the rollout actually releases the target (its wave's turn).
 */
@Entity('rollout_targets')
export class RolloutTargetEntity {
  @ManyToOne(() => RolloutEntity, { onDelete: 'CASCADE', nullable: false })
  rollout: RolloutEntity;

  @PrimaryColumn({ type: 'uuid' })
  rolloutId: string;

  @PrimaryColumn({ type: 'uuid' })
  clusterId: string;

  @PrimaryColumn({ type: 'varchar', length: 63 })
  appName: string;

  @Column({ type: 'char', length: 64, nullable: true })
  revision: string | null;

  @Column({ type: 'varchar', length: 63, default: '' })
  namespace: string;

  @Column({ type: 'jsonb', nullable: true })
  syncPolicy: SyncPolicy | null;

  @Column({ type: 'char', length: 64, nullable: true })
  previousRevision: string | null;

  @Column({ type: 'varchar', length: 63, default: '' })
  previousNamespace: string;

  @Column({ type: 'jsonb', nullable: true })
  previousSyncPolicy: SyncPolicy | null;

  @Column({ type: 'bigint', nullable: true })
  generation: string | null;
}
