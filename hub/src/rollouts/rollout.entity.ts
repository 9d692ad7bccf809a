import { Column, CreateDateColumn, Entity, Index, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { AppSetEntity } from '../app-sets/app-set.entity';
import type { WavePlan } from '../core/rollout/plan-waves';

export type RolloutPhase = 'PROGRESSING' | 'PAUSED' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'SUPERSEDED' | 'ROLLED_BACK';

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

  /** The planned waves and policies (see core/rollout/plan-waves.ts); null for rollouts made before waves. */
  @Column({ type: 'jsonb', nullable: true })
  plan: WavePlan | null;

  @Column({ type: 'varchar', length: 63, nullable: true })
  currentWave: string | null;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  approvedWaves: string[];

  /** Why the rollout is paused, failed or waiting, for humans. */
  @Column({ type: 'text', default: '' })
  reason: string;

  /** Why it was started, in its starter's words (`startRollout(reason:)`); '' when none was given. */
  @Column({ type: 'text', default: '' })
  startReason: string;
}
