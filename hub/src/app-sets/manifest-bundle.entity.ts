import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** How the manifests of a bundle are stored: gzip of the canonical JSON's UTF-8 bytes in `content`. */
export type ManifestBundleEncoding = 'gzip';

/**
 * Rendered manifests stored once per content hash (the App revision). Identical Apps on thousands of
 * clusters share one row; rollbacks find old revisions here. Rows are written compressed (`encoding`
 * names the format, `content` holds the bytes); rows written before compression keep their text in
 * `manifestsJson` with no `encoding`, and read as before (see manifest-bundles.ts).
 */
@Entity('manifest_bundles')
export class ManifestBundleEntity {
  @PrimaryColumn({ type: 'char', length: 64 })
  revision: string;

  /** Canonical JSON array of Kubernetes objects, exactly the bytes that were hashed; only on uncompressed (older) rows. */
  @Column({ type: 'text', nullable: true })
  manifestsJson: string | null;

  /** The format of `content`; null on uncompressed (older) rows. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  encoding: ManifestBundleEncoding | null;

  /** The canonical JSON, encoded as `encoding` says. */
  @Column({ type: 'bytea', nullable: true })
  content: Buffer | null;

  /** Byte length of the canonical JSON (uncompressed). */
  @Column({ type: 'int' })
  sizeBytes: number;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
