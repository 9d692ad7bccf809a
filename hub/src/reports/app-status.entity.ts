import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { DriftedValueRecord } from './drift-values';

/** A resource's state as last reported (bounded list). */
export interface ResourceStatusRecord {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  health: string;
  message: string;
  drifted: boolean;
  /** Paths of the drifted fields (bounded). Absent in rows stored before agents sent them: read as []. */
  driftedFields?: string[];
  /**
   * What drifted fields hold on each side, at most one entry per path of `driftedFields` (bounded,
   * secret ones redacted). Absent in rows stored before agents sent them: read as [] (values unknown).
   */
  driftedValues?: DriftedValueRecord[];
}

/**
 * The latest the agent said about one App on one cluster: one row per (cluster, app), overwritten,
 * never a growing blob. Health always names the revision it judged.
 */
@Entity('app_statuses')
export class AppStatusEntity {
  @PrimaryColumn({ type: 'uuid' })
  clusterId: string;

  @PrimaryColumn({ type: 'varchar', length: 63 })
  appName: string;

  @Column({ type: 'char', length: 64, nullable: true })
  ackedRevision: string | null;

  @Column({ type: 'bigint', nullable: true })
  ackedGeneration: string | null;

  @Column({ type: 'text', nullable: true })
  ackError: string | null;

  /** The revision the health below was judged for. */
  @Column({ type: 'char', length: 64, nullable: true })
  revision: string | null;

  @Column({ type: 'bigint', nullable: true })
  generation: string | null;

  @Column({ type: 'varchar', length: 16, default: 'UNKNOWN' })
  health: string;

  @Column({ type: 'varchar', length: 16, default: 'UNKNOWN' })
  syncStatus: string;

  @Column({ type: 'text', default: '' })
  message: string;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  resources: ResourceStatusRecord[];

  @Column({ type: 'boolean', default: false })
  resourcesTruncated: boolean;

  @Column({ type: 'timestamptz', nullable: true })
  observedAt: Date | null;

  /** Hub time of the first HEALTHY report for the current revision and generation (soak starts here). */
  @Column({ type: 'timestamptz', nullable: true })
  healthySince: Date | null;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
