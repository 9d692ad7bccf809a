import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * "Something changed for (cluster, app)": written in the same transaction as the release. Delivery
 * reads the App's current released state, so a row is a wake-up, not a payload, and duplicates are
 * harmless.
 */
@Entity('outbox')
export class OutboxEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Index()
  @Column({ type: 'uuid' })
  clusterId: string;

  @Column({ type: 'varchar', length: 63 })
  appName: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
