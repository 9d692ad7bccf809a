import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One user JWT the hub signed for a cluster's agent: its public key (the seed never leaves the
 * cluster), lifetime and revocation. Keyed by cluster name rather than a foreign key, so that the rows
 * of a deregistered cluster stay until its revoked JWTs have expired: they feed the account's
 * revocation list.
 */
@Entity('nats_users')
@Index(['clusterName', 'publicKey'])
export class NatsUserEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 63 })
  clusterName: string;

  @Column({ type: 'varchar', length: 64 })
  publicKey: string;

  @Column({ type: 'timestamptz' })
  issuedAt: Date;

  @Index()
  @Column({ type: 'timestamptz' })
  expiresAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
