import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * A CA the hub generated for itself, shared by every replica: the certificate in clear, the private
 * key sealed with AES-256-GCM under FLOTILLA_CA_ENCRYPTION_KEY (see ca-key-encryption.ts). One row per
 * purpose; the first replica to insert it wins and the others read it. During a rotation the previous
 * CA keeps a row of its own until its overlap ends (core/tls/ca-rotation.ts).
 */
@Entity('certificate_authorities')
export class CertificateAuthorityEntity {
  /** What the CA is for: `agent-link` (the signing CA) or `agent-link-previous` (the CA a rotation retires). */
  @PrimaryColumn({ type: 'varchar', length: 32 })
  purpose: string;

  @Column({ type: 'text' })
  certificatePem: string;

  /** `aes-256-gcm.v1:<nonce>:<ciphertext>:<tag>`; never the key itself. */
  @Column({ type: 'text' })
  sealedPrivateKey: string;

  /** The public id of the encryption key that sealed it (see `encryptionKeyId`). */
  @Column({ type: 'varchar', length: 32 })
  encryptionKeyId: string;

  /** The end of a retiring CA's overlap window: trusted strictly before it. Null for the signing CA. */
  @Column({ type: 'timestamptz', nullable: true })
  retiresAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
