import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * Rendered manifests stored once per content hash (the App revision). Identical Apps on thousands of
 * clusters share one row; rollbacks find old revisions here.
 */
@Entity('manifest_bundles')
export class ManifestBundleEntity {
  @PrimaryColumn({ type: 'char', length: 64 })
  revision: string;

  /** Canonical JSON array of Kubernetes objects, exactly the bytes that were hashed. */
  @Column({ type: 'text' })
  manifestsJson: string;

  @Column({ type: 'int' })
  sizeBytes: number;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
