import { Column, CreateDateColumn, Entity, Index, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { AppSetDocument } from '../core/app-set/app-set-spec';
import { AppSetEntity } from './app-set.entity';

/** One immutable, numbered revision of an AppSet document. */
@Entity('app_set_revisions')
@Index(['appSetId', 'number'], { unique: true })
export class AppSetRevisionEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @ManyToOne(() => AppSetEntity, { onDelete: 'CASCADE', nullable: false })
  appSet: AppSetEntity;

  @Column({ type: 'uuid' })
  appSetId: string;

  @Column({ type: 'int' })
  number: number;

  @Column({ type: 'jsonb' })
  document: AppSetDocument;

  /** sha256 of the canonical JSON of `document`. */
  @Column({ type: 'char', length: 64 })
  contentHash: string;

  @Column({ type: 'varchar', length: 256 })
  author: string;

  @Column({ type: 'text', default: '' })
  message: string;

  /** The Git commit the document was read from (a Git source's sync); null for the API. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  commitSha: string | null;

  @Column({ type: 'varchar', length: 256, nullable: true })
  commitAuthor: string | null;

  @Column({ type: 'varchar', length: 512, nullable: true })
  commitSubject: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  commitTime: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
