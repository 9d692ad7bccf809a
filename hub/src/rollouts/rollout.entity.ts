import { Column, CreateDateColumn, Entity, Index, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { AppSetEntity } from '../app-sets/app-set.entity';
import type { WavePlan } from '../core/rollout/plan-waves';

/**
 * PROGRESSING and PAUSED are active; the others are final. SUCCEEDED: every wave done (skipped clusters
 * are listed apart); NOTHING_TO_DO: nothing was staged that clusters did not run already; FAILED: a
 * failure budget was breached under `onFailure: fail`, or an automatic start could not plan its waves;
 * ROLLED_BACK, ABORTED, SUPERSEDED: by a verb, a policy or a later rollout.
 */
export type RolloutPhase = 'PROGRESSING' | 'PAUSED' | 'SUCCEEDED' | 'NOTHING_TO_DO' | 'FAILED' | 'ABORTED' | 'SUPERSEDED' | 'ROLLED_BACK';

/** Moving an AppSet to one of its revisions across its clusters. */
@Entity('rollouts')
// A staged revision starts at most one rollout by itself, whichever hub replica notices it first.
@Index(['appSetId', 'triggeredRevision'], { unique: true })
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

  /** For a rollout the auto trigger started: the AppSet revision whose staging started it; null when started by hand. */
  @Column({ type: 'int', nullable: true })
  triggeredRevision: number | null;
}
