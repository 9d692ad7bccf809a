/**
 * Size limits of the protocol. Both sides enforce them; a message over a limit is refused with a clear
 * error, never truncated silently (except the free-text fields below, which are cut with a marker).
 */
export const LIMITS = {
  /** Largest gRPC message either side accepts, in bytes (grpc.max_receive_message_length). */
  maxMessageBytes: 4 * 1024 * 1024,
  /**
   * Largest canonical manifests JSON of one App, in bytes, that either side accepts: the highest cap a
   * hub may be configured with (FLOTILLA_MAX_APP_MB). Apps over the hub's cap are refused when staged.
   */
  maxAppManifestBytes: 64 * 1024 * 1024,
  /** The hub's default App cap (canonical manifests JSON of one App, in bytes). */
  defaultAppManifestBytes: 16 * 1024 * 1024,
  /**
   * Manifests of a DesiredApp above this many bytes travel over gRPC as a DesiredAppHeader and
   * ManifestChunks of at most this many bytes each, so that every message stays far below maxMessageBytes.
   */
  manifestChunkBytes: 1024 * 1024,
  /** Most resources listed in one Report; the rest are counted as truncated. */
  maxResourcesPerReport: 256,
  /** Longest free-text field (messages, errors), in characters. */
  maxTextChars: 2048,
  /** Most field paths listed in one ResourceStatus.drifted_fields. */
  maxDriftedFields: 32,
  /** Longest value of a drifted field (ResourceStatus.drifted_values), in characters; cut with a marker. */
  maxDriftValueChars: 2048,
  /**
   * Most characters of drifted field values in one Report (both sides of every field); values past it
   * are left out (the paths stay), so a Report stays far below maxMessageBytes.
   */
  maxDriftValueCharsPerReport: 256 * 1024,
  /** Most Apps in one Inventory. */
  maxInventoryApps: 10_000,
} as const;

/** Cuts `text` to `max` characters, marking the cut so that a reader knows it happened. */
export function truncateText(text: string, max: number = LIMITS.maxTextChars): string {
  if (text.length <= max) return text;
  const marker = '…[truncated]';
  return text.slice(0, Math.max(0, max - marker.length)) + marker;
}

/** Byte length of a string once UTF-8 encoded. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
