import { promisify } from 'node:util';
import { constants, gunzip, gzip } from 'node:zlib';
import { LIMITS } from '@flotilla/proto';
import type { EntityManager } from 'typeorm';
import { ManifestBundleEntity } from './manifest-bundle.entity';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Compressed bytes sent in one INSERT, at most (a statement holds at least one bundle whatever its size). */
const MAX_INSERT_BYTES = 32 * 1024 * 1024;

/** One bundle to store: the revision and its canonical JSON. */
export interface BundleInput {
  readonly revision: string;
  readonly manifestsJson: string;
  readonly manifestBytes: number;
}

/** A manifest_bundles row as read by raw SQL (columns `manifests_json`, `encoding`, `content`). */
export interface StoredBundleColumns {
  readonly manifests_json: string | null;
  readonly encoding: string | null;
  readonly content: Buffer | Uint8Array | null;
}

/** The SQL select list that {@link decodeBundle} reads, for a bundle table aliased `alias`. */
export function bundleColumns(alias: string): string {
  return `${alias}.manifests_json, ${alias}.encoding, ${alias}.content`;
}

/**
 * Stores the bundles not stored yet, compressed (gzip, off the event loop). Bundles are keyed by
 * revision, the sha256 of their content: an App with the same manifests on any number of clusters,
 * in any AppSet, is one row. Existing revisions are neither compressed again nor rewritten.
 */
export async function storeBundles(tx: EntityManager, bundles: readonly BundleInput[]): Promise<void> {
  const unique = new Map<string, BundleInput>();
  for (const bundle of bundles) if (!unique.has(bundle.revision)) unique.set(bundle.revision, bundle);
  if (unique.size === 0) return;
  const stored: { revision: string }[] = await tx.query(`SELECT revision FROM manifest_bundles WHERE revision = ANY($1::char(64)[])`, [[...unique.keys()]]);
  for (const { revision } of stored) unique.delete(revision.trim());
  let batch: Partial<ManifestBundleEntity>[] = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await tx.createQueryBuilder().insert().into(ManifestBundleEntity).values(batch).orIgnore().execute();
    batch = [];
    batchBytes = 0;
  };
  for (const bundle of unique.values()) {
    const content = await gzipAsync(Buffer.from(bundle.manifestsJson, 'utf8'), { level: constants.Z_DEFAULT_COMPRESSION });
    if (batch.length > 0 && batchBytes + content.length > MAX_INSERT_BYTES) await flush();
    batch.push({ revision: bundle.revision, manifestsJson: null, encoding: 'gzip', content, sizeBytes: bundle.manifestBytes });
    batchBytes += content.length;
  }
  await flush();
}

/**
 * The canonical JSON of a stored bundle, whichever way it was stored. Decompression is bounded by the
 * largest App either side accepts, so a corrupt or hostile row cannot inflate without limit.
 */
export async function decodeBundle(row: StoredBundleColumns): Promise<string> {
  if (row.encoding === null) return row.manifests_json ?? '[]';
  if (row.encoding !== 'gzip' || row.content === null) throw new Error(`A manifest bundle has an unknown encoding "${String(row.encoding).slice(0, 16)}".`);
  const bytes = await gunzipAsync(row.content, { maxOutputLength: LIMITS.maxAppManifestBytes }).catch((error: unknown) => {
    throw new Error(`A manifest bundle could not be decompressed (corrupt, or over ${LIMITS.maxAppManifestBytes} bytes): ${error instanceof Error ? error.message : String(error)}`);
  });
  return bytes.toString('utf8');
}

/**
 * Decodes the bundle of each revision once, however many rows (clusters) share it, for rows that
 * carry `revision` and the {@link bundleColumns}. Rows without a bundle map to undefined.
 */
export async function decodeBundles<Row extends Partial<StoredBundleColumns>>(rows: readonly Row[], revisionOf: (row: Row) => string | null): Promise<Map<string, string>> {
  const decoded = new Map<string, string>();
  for (const row of rows) {
    const revision = revisionOf(row)?.trim();
    if (revision === undefined || decoded.has(revision)) continue;
    if (row.manifests_json == null && row.encoding == null) continue; // no bundle joined
    decoded.set(revision, await decodeBundle({ manifests_json: row.manifests_json ?? null, encoding: row.encoding ?? null, content: row.content ?? null }));
  }
  return decoded;
}
