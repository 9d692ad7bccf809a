import { Column, CreateDateColumn, Entity, Index, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { RolloutEntity } from './rollout.entity';

/** The audit trail of a rollout: who did what, when, and why. */
@Entity('rollout_events')
export class RolloutEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @ManyToOne(() => RolloutEntity, { onDelete: 'CASCADE', nullable: false })
  rollout: RolloutEntity;

  @Index()
  @Column({ type: 'uuid' })
  rolloutId: string;

  @CreateDateColumn({ type: 'timestamptz' })
  at: Date;

  @Column({ type: 'varchar', length: 256 })
  actor: string;

  @Column({ type: 'varchar', length: 32 })
  kind: string;

  @Column({ type: 'text', default: '' })
  message: string;
}
