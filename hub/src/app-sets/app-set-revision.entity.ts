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

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
