import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/**
 * The Revision of an App: lowercase hex sha256 of the canonical JSON of its rendered manifests.
 * Equal manifests always give the same revision, whatever the key order they were written in.
 */
export function revisionOf(manifests: readonly unknown[]): string {
  return sha256Hex(canonicalJson(manifests));
}

/** Lowercase hex sha256 of a UTF-8 string. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A short form of a revision for logs and tables (first 12 hex digits). */
export function shortRevision(revision: string): string {
  return revision.slice(0, 12);
}
