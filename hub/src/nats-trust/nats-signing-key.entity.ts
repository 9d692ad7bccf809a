import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** Which key: the operator, the system account, or the account agents and the hub live in. */
export type NatsKeyPurpose = 'operator' | 'system-account' | 'account';

/**
 * A NATS signing key the hub generated for itself (decentralized auth), shared by every replica: the
 * public key in clear, the seed sealed with AES-256-GCM under the CA encryption key (see
 * trust/ca-key-encryption.ts). The first replica to insert a purpose wins; the others read it.
 */
@Entity('nats_signing_keys')
export class NatsSigningKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  purpose: NatsKeyPurpose;

  @Column({ type: 'varchar', length: 64 })
  publicKey: string;

  /** `aes-256-gcm.v1:<nonce>:<ciphertext>:<tag>`; never the seed itself. */
  @Column({ type: 'text' })
  sealedSeed: string;

  /** The public id of the encryption key that sealed it. */
  @Column({ type: 'varchar', length: 32 })
  encryptionKeyId: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
