import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { LabelSelector } from '../core/app-set/app-set-spec';

/** A project (tenant): the clusters its selector matches and what its Apps may contain. */
@Entity('projects')
export class ProjectEntity {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  name: string;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  clusterSelector: LabelSelector;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  namespaces: string[];

  @Column({ type: 'jsonb', default: () => "'[]'" })
  kinds: string[];

  @Column({ type: 'boolean', default: false })
  clusterScoped: boolean;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
