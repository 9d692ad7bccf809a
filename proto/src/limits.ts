/**
 * Size limits of the protocol. Both sides enforce them; a message over a limit is refused with a clear
 * error, never truncated silently (except the free-text fields below, which are cut with a marker).
 */
export const LIMITS = {
  /** Largest gRPC message either side accepts, in bytes (grpc.max_receive_message_length). */
  maxMessageBytes: 4 * 1024 * 1024,
  /** Largest canonical manifests JSON of one App, in bytes. Larger Apps are refused when staged. */
  maxAppManifestBytes: 1024 * 1024,
  /** Most resources listed in one Report; the rest are counted as truncated. */
  maxResourcesPerReport: 256,
  /** Longest free-text field (messages, errors), in characters. */
  maxTextChars: 2048,
  /** Most field paths listed in one ResourceStatus.drifted_fields. */
  maxDriftedFields: 32,
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
