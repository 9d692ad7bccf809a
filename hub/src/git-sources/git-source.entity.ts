import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Issue } from '../core/issues';

/**
 * A Git source: a repository path whose AppSet documents the hub applies, every `intervalSeconds` and
 * when a webhook asks. Its status columns say what the last sync saw and did.
 */
@Entity('git_sources')
export class GitSourceEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index({ unique: true })
  @Column({ type: 'varchar', length: 63 })
  name: string;

  @Column({ type: 'varchar', length: 63 })
  project: string;

  /** Never holds credentials: the hub's own Git configuration reaches private repositories. */
  @Column({ type: 'text' })
  repoURL: string;

  /** A branch, a tag or a full commit SHA. */
  @Column({ type: 'varchar', length: 255 })
  revision: string;

  /** The folder read (recursively); '' is the repository's root. */
  @Column({ type: 'varchar', length: 1024 })
  path: string;

  @Column({ type: 'int' })
  intervalSeconds: number;

  /** Public keys (OpenPGP armored or SSH lines) one of which must have signed an applied commit; empty: none required. */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  requireSignedBy: string[];

  @Column({ type: 'varchar', length: 256 })
  createdBy: string;

  /** When the next poll is due; a replica claims a sync by moving it forward. */
  @Index()
  @Column({ type: 'timestamptz' })
  nextPollAt: Date;

  /** Set by a webhook or syncGitSource: a sync is due at once. Many requests coalesce into one. */
  @Column({ type: 'timestamptz', nullable: true })
  syncRequestedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastSyncAt: Date | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  lastSeenCommit: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  lastAppliedCommit: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastAppliedAt: Date | null;

  /**
   * The commit later commits must descend from (a moved branch that does not is a rewritten
   * history, refused until an operator accepts it); reset when the repository or revision changes.
   */
  @Column({ type: 'varchar', length: 64, nullable: true })
  baseCommit: string | null;

  /** Why the last sync applied nothing ('' when it succeeded). */
  @Column({ type: 'text', default: '' })
  lastError: string;

  /** The issues of the last refused sync, each naming its file, line and column. */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  issues: Issue[];

  @Column({ type: 'int', default: 0 })
  consecutiveFailures: number;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
