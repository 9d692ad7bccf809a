import { Column, Entity, ManyToOne, PrimaryColumn } from 'typeorm';
import { RolloutEntity } from './rollout.entity';

export type RolloutClusterState = 'PENDING' | 'RELEASED' | 'SKIPPED';

/** One cluster of a rollout: its wave, and whether its targets were released (and when) or skipped. */
@Entity('rollout_clusters')
export class RolloutClusterEntity {
  @ManyToOne(() => RolloutEntity, { onDelete: 'CASCADE', nullable: false })
  rollout: RolloutEntity;

  @PrimaryColumn({ type: 'uuid' })
  rolloutId: string;

  @PrimaryColumn({ type: 'uuid' })
  clusterId: string;

  @Column({ type: 'varchar', length: 63 })
  wave: string;

  @Column({ type: 'int' })
  waveIndex: number;

  @Column({ type: 'varchar', length: 16, default: 'PENDING' })
  state: RolloutClusterState;

  @Column({ type: 'timestamptz', nullable: true })
  releasedAt: Date | null;
}
