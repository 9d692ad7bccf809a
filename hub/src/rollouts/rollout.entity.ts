import { Column, CreateDateColumn, Entity, Index, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { AppSetEntity } from '../app-sets/app-set.entity';

export type RolloutPhase = 'PROGRESSING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'SUPERSEDED';

/** Moving an AppSet to one of its revisions across its clusters. */
@Entity('rollouts')
export class RolloutEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @ManyToOne(() => AppSetEntity, { onDelete: 'CASCADE', nullable: false })
  appSet: AppSetEntity;

  @Index()
  @Column({ type: 'uuid' })
  appSetId: string;

  @Column({ type: 'int' })
  appSetRevision: number;

  @Column({ type: 'varchar', length: 16 })
  phase: RolloutPhase;

  @Column({ type: 'varchar', length: 256 })
  startedBy: string;

  @CreateDateColumn({ type: 'timestamptz' })
  startedAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  finishedAt: Date | null;
}
