import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { Role } from '../core/auth/principal';

/** An API token: only the sha256 of its secret is stored; the secret is shown once, at creation. */
@Entity('api_tokens')
export class ApiTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 63 })
  name: string;

  @Column({ type: 'varchar', length: 16 })
  role: Role;

  /** The project of an OPERATOR or VIEWER token; null for ADMIN. */
  @Column({ type: 'varchar', length: 63, nullable: true })
  project: string | null;

  /** sha256 (hex) of the whole token. */
  @Index({ unique: true })
  @Column({ type: 'char', length: 64 })
  secretHash: string;

  /** The token the hub made for itself at first start (or FLOTILLA_BOOTSTRAP_ADMIN_TOKEN): at most one row. */
  @Index({ unique: true, where: 'bootstrap' })
  @Column({ type: 'boolean', default: false })
  bootstrap: boolean;

  @Column({ type: 'varchar', length: 256 })
  createdBy: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;
}
