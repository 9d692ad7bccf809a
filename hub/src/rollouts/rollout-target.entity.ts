import { Column, Entity, ManyToOne, PrimaryColumn } from 'typeorm';
import { RolloutEntity } from './rollout.entity';

/** One (cluster, app) a rollout moves, with the revision it releases there (null: a removal). */
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

  @Column({ type: 'bigint' })
  generation: string;
}
