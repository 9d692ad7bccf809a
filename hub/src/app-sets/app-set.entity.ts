import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** An AppSet: its name and a pointer to its current (latest accepted) revision. Names are unique per project. */
@Entity('app_sets')
@Index(['project', 'name'], { unique: true })
export class AppSetEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index()
  @Column({ type: 'varchar', length: 63 })
  name: string;

  @Column({ type: 'int' })
  currentRevision: number;

  /** The project the AppSet belongs to (`metadata.project`, default `default`). */
  @Column({ type: 'varchar', length: 63, default: 'default' })
  project: string;

  /** Why the AppSet is not in sync with its clusters (e.g. the deletion breaker tripped); '' when fine. */
  @Column({ type: 'text', default: '' })
  condition: string;

  /** The Git source that owns the AppSet (changed through its repository only); null: managed through the API. */
  @Index()
  @Column({ type: 'uuid', nullable: true })
  sourceId: string | null;

  /** When the AppSet was removed (from its Git source's repository, or with its source): its Apps are staged for removal. */
  @Column({ type: 'timestamptz', nullable: true })
  removedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
